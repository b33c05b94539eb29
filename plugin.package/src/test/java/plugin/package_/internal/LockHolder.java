package plugin.package_.internal;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A process that holds an fcntl lock on a file, as dpkg holds its lock: the tests start it with {@code java -cp} and
 * wait for its "locked" line. It holds the lock {@code args[1]} milliseconds, or until it is killed.
 */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        try (FileChannel c = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE, StandardOpenOption.CREATE)) {
            c.lock(); // fcntl(F_SETLKW), a POSIX record lock: what apt and dpkg take with F_SETLK
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(Long.parseLong(args[1])); // the test ends it sooner with a signal
        }
    }

    /** Starts a holder of {@code file} for at most {@code millis} and returns once it holds the lock. */
    static Process start(Path file, long millis) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = Path.of(LockHolder.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        Process p = new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", cp, LockHolder.class.getName(),
            file.toString(), Long.toString(millis)).redirectErrorStream(true).start();
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        String line = in.readLine(); // bounded: the holder gives up after millis at most
        if (!"locked".equals(line)) {
            p.destroyForcibly();
            throw new IllegalStateException("the lock holder did not lock " + file + ": " + line);
        }
        return p;
    }
}
