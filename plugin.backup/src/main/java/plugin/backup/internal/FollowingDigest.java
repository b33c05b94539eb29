package plugin.backup.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The sha256 of a file that tar is still writing, read as it grows, so that hashing the archive costs no time after
 * tar ends (the agent's JVM runs C1 only, where SHA-256 has no intrinsic: about 120 MB/s here, as long as gzip
 * itself takes on a large archive's last tenth).
 */
final class FollowingDigest implements AutoCloseable {
    private static final long IDLE_MS = 50;

    private final Path file;
    private final CompletableFuture<String> result = new CompletableFuture<>();
    private volatile boolean writerDone;
    private volatile boolean abandoned;

    private FollowingDigest(Path file) { this.file = file; }

    /** @param file the file being written (it exists) @return a digest following it */
    static FollowingDigest follow(Path file) {
        FollowingDigest d = new FollowingDigest(file);
        Thread t = new Thread(d::run, "outpost-backup-sha256");
        t.setDaemon(true);
        t.start();
        return d;
    }

    private void run() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            try (InputStream in = Files.newInputStream(file)) {
                while (!abandoned) {
                    boolean ended = writerDone; // before the read: an end of file seen after the writer ended is the end
                    int n = in.read(buf);
                    if (n > 0) {
                        md.update(buf, 0, n);
                    } else if (ended) {
                        // the writer had ended before this read found the end: nothing more will come
                        result.complete(HexFormat.of().formatHex(md.digest()));
                        return;
                    } else {
                        synchronized (this) {
                            wait(IDLE_MS);
                        }
                    }
                }
            }
            result.completeExceptionally(new IOException("stopped"));
        } catch (IOException | NoSuchAlgorithmException | InterruptedException | RuntimeException e) {
            result.completeExceptionally(e);
        }
    }

    /**
     * @return the sha256 of the whole file, once its writer has ended (call only then)
     * @throws IOException if it could not be read
     */
    String finish() throws IOException, InterruptedException {
        writerDone = true;
        synchronized (this) {
            notifyAll();
        }
        try {
            return result.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException ? (IOException) e.getCause() : new IOException(e.getCause());
        }
    }

    /** Stops following (the writer failed or was stopped); no result. */
    @Override
    public void close() {
        abandoned = true;
        writerDone = true;
        synchronized (this) {
            notifyAll();
        }
    }

    /** @return a task run on a daemon thread of its own, e.g. a hash or a second tar beside the main one */
    static <T> CompletableFuture<T> beside(String name, java.util.concurrent.Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return f;
    }
}
