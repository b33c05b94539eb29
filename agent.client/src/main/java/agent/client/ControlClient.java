package agent.client;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * {@code outpost status} and {@code outpost shell}: a client of the running agent's control socket (agent.core
 * README "The control socket"), run by bin/outpost with {@code java -cp outpost.jar} and no OSGi framework, so it
 * answers in a few tens of milliseconds. It needs nothing but the JDK.
 *
 * <pre>
 * java -cp outpost.jar agent.client.ControlClient SOCKET status [--json] [--config F] [--data-dir D]
 * java -cp outpost.jar agent.client.ControlClient SOCKET shell [--config F] [--data-dir D] [COMMAND...]
 * </pre>
 *
 * SOCKET is {@code <data_dir>/control.sock}, the agent's link to its socket (bin/outpost knows the data dir; the
 * options are bin/outpost's, taken here only to be checked). Exit codes: 0 done, 1 the command failed, the socket
 * refused this user, or (shell) no agent answers; 2 bad usage; 3 (status) no agent answers on the socket, and
 * bin/outpost then answers from the store.
 */
public final class ControlClient {
    /** The agent's first line; another means another protocol. */
    static final String GREETING = "outpost-control 1";
    static final int OK = 0, FAILED = 1, USAGE = 2, NOT_RUNNING = 3;

    private final PrintStream out;
    private final PrintStream err;

    ControlClient(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int code = new ControlClient(out, err).run(args, System.in);
        out.flush();
        System.exit(code);
    }

    int run(String[] args, InputStream stdin) {
        if (args.length < 2 || !(args[1].equals("status") || args[1].equals("shell"))) {
            err.println("usage: ControlClient SOCKET status|shell [OPTIONS] (run by bin/outpost)");
            return USAGE;
        }
        Path socket = Path.of(args[0]);
        String mode = args[1];
        boolean json = false;
        StringBuilder command = new StringBuilder();
        int i = 2;
        for (; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                i++;
                break;
            }
            if (!a.startsWith("--")) break;
            if (a.equals("--json") && mode.equals("status")) {
                json = true;
            } else if (a.equals("--config") || a.equals("--data-dir")) {
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) return usage(a + " needs a value");
                i++;
            } else if (!a.startsWith("--config=") && !a.startsWith("--data-dir=")) {
                return usage("unknown option '" + a + "' for " + mode);
            }
        }
        for (; i < args.length; i++) {
            if (mode.equals("status")) return usage("status takes no arguments, got '" + args[i] + "'");
            if (command.length() > 0) command.append(' ');
            command.append(args[i]);
        }
        if (command.indexOf("\n") >= 0) return usage("a command is one line");

        SocketChannel channel;
        try {
            channel = connect(socket);
        } catch (Refused e) {
            err.println("outpost: " + e.getMessage());
            return FAILED;
        } catch (NotRunning e) {
            if (mode.equals("status")) return NOT_RUNNING; // bin/outpost answers from the store
            err.println("outpost: no agent answers on " + socket + " (" + e.getMessage() + "): is it running? (systemctl status outpost)");
            return FAILED;
        }
        try (channel) {
            InputStream in = Channels.newInputStream(channel);
            OutputStream to = Channels.newOutputStream(channel);
            BufferedReader answers = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String greeting = answers.readLine();
            if (!GREETING.equals(greeting)) {
                err.println("outpost: " + socket + " does not speak the control protocol (it said '" + greeting + "')");
                return FAILED;
            }
            if (mode.equals("status")) return request(to, answers, json ? "status --json" : "status", false);
            if (command.length() > 0) return request(to, answers, "exec " + command, false);
            return interactive(to, answers, stdin);
        } catch (IOException e) {
            err.println("outpost: the agent closed the control connection (" + e.getMessage() + ")");
            return FAILED;
        }
    }

    private int usage(String problem) {
        err.println("outpost: " + problem);
        err.println("usage: outpost status  [--json] [--config F] [--data-dir D]");
        err.println("       outpost shell   [--data-dir D] [COMMAND]");
        return USAGE;
    }

    /** One request and its answer: the answer's lines to stdout, an error to stderr. */
    private int request(OutputStream to, BufferedReader answers, String request, boolean interactive) throws IOException {
        to.write((request + "\n").getBytes(StandardCharsets.UTF_8));
        to.flush();
        String line;
        while ((line = answers.readLine()) != null) {
            if (line.startsWith("| ")) {
                out.println(line.substring(2));
            } else if (line.equals("|")) {
                out.println();
            } else if (line.equals("= ok")) {
                out.flush();
                return OK;
            } else if (line.startsWith("= error ")) {
                out.flush();
                err.println((interactive ? "error: " : "outpost: ") + line.substring(8));
                return FAILED;
            } else {
                throw new IOException("unexpected line '" + line + "'");
            }
        }
        throw new IOException("end of the answer before '= ok'");
    }

    /** Line by line from stdin, in one Gogo session, until end of input or {@code exit}. */
    private int interactive(OutputStream to, BufferedReader answers, InputStream stdin) throws IOException {
        boolean terminal = System.console() != null;
        BufferedReader lines = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        if (terminal) out.println("Outpost shell on the running agent: Gogo commands (agent:status, agent:commands, agent:loglevel debug, lb, ...); 'exit' or Ctrl-D ends it");
        while (true) {
            if (terminal) {
                out.print("outpost> ");
                out.flush();
            }
            String line = lines.readLine();
            if (line == null || line.trim().equals("exit")) return OK;
            if (line.isBlank()) continue;
            request(to, answers, "exec " + line, true);
        }
    }

    /** The socket does not exist, or nothing listens on it: no agent runs with this data dir. */
    static final class NotRunning extends Exception {
        private static final long serialVersionUID = 1L;

        NotRunning(String message) { super(message); }
    }

    /** The file system refuses this user the socket (or its directory): only the agent's user may use it. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) { super(message); }
    }

    private static SocketChannel connect(Path socket) throws NotRunning, Refused {
        try {
            Files.readAttributes(socket, BasicFileAttributes.class); // follows the link: a dangling one is a stopped agent
        } catch (AccessDeniedException e) {
            throw refused(socket);
        } catch (NoSuchFileException e) {
            throw new NotRunning("no such socket");
        } catch (IOException e) {
            throw new NotRunning(e.getMessage());
        }
        SocketChannel c = null;
        try {
            c = SocketChannel.open(StandardProtocolFamily.UNIX);
            c.connect(UnixDomainSocketAddress.of(socket));
            return c;
        } catch (IOException e) {
            try {
                if (c != null) c.close();
            } catch (IOException ignored) {
                // it never opened
            }
            String m = String.valueOf(e.getMessage());
            if (m.contains("Permission denied")) throw refused(socket);
            throw new NotRunning(m.contains("Connection refused") ? "nothing listens on it" : m);
        }
    }

    private static Refused refused(Path socket) {
        String user = System.getProperty("user.name");
        return new Refused("permission denied: the control socket " + socket + " is for root (the agent's user) only, not " + user);
    }
}
