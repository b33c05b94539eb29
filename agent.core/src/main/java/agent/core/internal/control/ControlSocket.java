package agent.core.internal.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import agent.core.internal.config.AgentConfig;

/**
 * The local control socket, {@code <run_dir>/control.sock}: a Unix-domain stream socket (never a network port) through
 * which {@code outpost status} and {@code outpost shell} reach the running agent. Only the agent's own user (root) can
 * use it: the directory is 0700 and the socket 0600 (Java 17 cannot read a peer's credentials, so the file system is
 * the guard). A link {@code <data_dir>/control.sock} points at it, so the client finds it from the data dir alone
 * whatever {@code run_dir} the config names.
 *
 * <p>The protocol (agent.core/README.md "The control socket"): UTF-8 lines. The agent greets with
 * {@code outpost-control 1}. Each request is one line: {@code status}, {@code status --json}, or {@code exec COMMAND}
 * (one Gogo command line, in a session that lasts as long as the connection). Each answer is any number of lines
 * {@code | TEXT} and then one line {@code = ok} or {@code = error MESSAGE}.
 */
@Component(immediate = true)
public final class ControlSocket {
    private static final Logger LOG = Logger.getLogger("agent.core.control");
    /** The socket's name in the run dir, and the link's in the data dir. */
    public static final String FILE = "control.sock";
    static final String GREETING = "outpost-control 1";
    /** Longer request lines are refused: no command line an operator types comes near it. */
    static final int MAX_LINE = 64 * 1024;
    /** Connections served at once; more are told so and closed. */
    static final int MAX_CLIENTS = 8;
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    private final AgentConfig config;
    private final CommandProcessor processor;
    private final AgentStatus status;
    private final Path socket;
    private final Path link;
    private final Semaphore slots = new Semaphore(MAX_CLIENTS);
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private final ServerSocketChannel server;
    private volatile boolean closed;

    /**
     * @param config    the agent's config, in the modes that have a control socket (run and console)
     * @param processor runs Gogo command lines, as the console does
     * @param status    what {@code status} answers
     */
    @Activate
    public ControlSocket(@Reference(target = "(|(" + AgentConfig.MODE + "=run)(" + AgentConfig.MODE + "=console))") AgentConfig config,
            @Reference CommandProcessor processor, @Reference AgentStatus status) {
        this.config = config;
        this.processor = processor;
        this.status = status;
        this.socket = config.runDir.resolve(FILE);
        this.link = config.dataDir.resolve(FILE);
        ServerSocketChannel s = null;
        try {
            s = listen();
            LOG.info("control socket " + socket);
        } catch (IOException | RuntimeException e) {
            // the agent still manages the host without it; status of a stopped agent still answers from the store
            LOG.severe("no control socket (outpost status and outpost shell will not reach this agent): " + e.getMessage());
        }
        this.server = s;
        if (s != null) {
            Thread t = new Thread(this::accept, "outpost-control");
            t.setDaemon(true);
            t.start();
        }
    }

    private ServerSocketChannel listen() throws IOException {
        Path dir = config.runDir;
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir.getParent());
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            } catch (FileAlreadyExistsException raced) {
                // made meanwhile: judged below like any other
            }
        }
        // the directory is the guard while the socket exists with the umask's mode, before the chmod below
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        String me = System.getProperty("user.name");
        if (!a.isDirectory() || !a.permissions().equals(OWNER_ONLY_DIR) || !a.owner().getName().equals(me)) {
            throw new IOException("config key 'run_dir': " + dir + " must be a directory of " + me + " with mode 0700 (it is "
                + (a.isDirectory() ? "a directory of " + a.owner().getName() + " with mode " + PosixFilePermissions.toString(a.permissions())
                    : "not a directory") + "); only the agent's user may reach its control socket");
        }
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            if (answers(socket)) throw new IOException("another agent listens on " + socket + " (config key 'run_dir')");
            Files.delete(socket); // left by an agent that was killed
        }
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            s.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        if (!Files.isSameFile(config.runDir, config.dataDir)) {
            try {
                if (Files.isSymbolicLink(link) || Files.exists(link, LinkOption.NOFOLLOW_LINKS)
                    && Files.readAttributes(link, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
                    Files.delete(link);
                }
                Files.createSymbolicLink(link, socket);
            } catch (IOException e) {
                LOG.warning("cannot link " + link + " to the control socket: " + e.getMessage()
                    + "; outpost status and shell find it only with run_dir's default");
            }
        }
        return s;
    }

    private static boolean answers(Path path) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void accept() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) LOG.log(Level.WARNING, "control socket accept failed", e);
                return;
            }
            if (!slots.tryAcquire()) {
                refuse(c);
                continue;
            }
            clients.add(c);
            Thread t = new Thread(() -> {
                try {
                    serve(c);
                } finally {
                    clients.remove(c);
                    slots.release();
                    closeQuietly(c);
                }
            }, "outpost-control-client");
            t.setDaemon(true);
            t.start();
        }
    }

    private static void refuse(SocketChannel c) {
        try (c) {
            c.write(ByteBuffer.wrap(("= error " + MAX_CLIENTS + " control connections are open already; try again\n")
                .getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            // the client went away
        }
    }

    /** One connection: requests in order, one Gogo session for all its exec requests. */
    private void serve(SocketChannel c) {
        InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(c));
        OutputStream out = Channels.newOutputStream(c);
        Capture capture = new Capture();
        CommandSession session = null;
        try {
            write(out, GREETING + "\n");
            String line;
            while ((line = readLine(in)) != null) {
                StringBuilder answer = new StringBuilder();
                String error = null;
                if (line.equals("status") || line.equals("status --json")) {
                    java.util.Map<String, Object> now = status.now();
                    body(answer, line.endsWith("--json") ? StatusText.json(now) : StatusText.text(now));
                } else if (line.startsWith("exec ") && !line.substring(5).isBlank()) {
                    if (session == null) session = processor.createSession(InputStream.nullInputStream(), capture.stream, capture.stream);
                    try {
                        Object result = session.execute(line.substring(5));
                        String printed = capture.take();
                        body(answer, printed);
                        if (result != null) body(answer, String.valueOf(session.format(result, Converter.INSPECT)));
                    } catch (Exception e) {
                        body(answer, capture.take());
                        error = rootCause(e);
                    }
                } else {
                    error = "unknown request '" + abbreviate(line) + "' (requests: status, status --json, exec COMMAND)";
                }
                answer.append(error == null ? "= ok\n" : "= error " + error.replace('\n', ' ') + "\n");
                write(out, answer.toString());
            }
        } catch (LineTooLong e) {
            try {
                write(out, "= error a request line is longer than " + MAX_LINE + " bytes\n");
            } catch (IOException gone) {
                // the client went away
            }
        } catch (IOException e) {
            if (!closed) LOG.fine(() -> "control connection ended: " + e.getMessage());
        } finally {
            if (session != null) session.close();
        }
    }

    /** Each line of the text as an answer line; a text's last line break ends its last line, it adds none. */
    private static void body(StringBuilder answer, String text) {
        if (text == null || text.isEmpty()) return;
        String t = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        for (String l : t.split("\n", -1)) answer.append("| ").append(l.endsWith("\r") ? l.substring(0, l.length() - 1) : l).append('\n');
    }

    private static final class LineTooLong extends IOException {
        private static final long serialVersionUID = 1L;
    }

    /** @return the next line without its end, or null at the end of the input */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') return buf.toString(StandardCharsets.UTF_8).stripTrailing();
            if (buf.size() >= MAX_LINE) throw new LineTooLong();
            buf.write(b);
        }
        return buf.size() == 0 ? null : buf.toString(StandardCharsets.UTF_8).stripTrailing();
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** What a command prints to its session, kept until the answer takes it. */
    private static final class Capture {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        String take() {
            stream.flush();
            synchronized (bytes) {
                String s = bytes.toString(StandardCharsets.UTF_8);
                bytes.reset();
                return s;
            }
        }
    }

    /** Gogo wraps what a command threw in reflection exceptions; the operator needs the innermost message. */
    static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private static String abbreviate(String s) { return s.length() <= 80 ? s : s.substring(0, 80) + "..."; }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Deactivate
    void close() {
        closed = true;
        if (server == null) return;
        closeQuietly(server);
        clients.forEach(ControlSocket::closeQuietly);
        try {
            // only what this agent made: a socket another agent bound since would not be ours to remove
            if (Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(socket)) Files.delete(link);
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.warning("cannot remove the control socket " + socket + ": " + e.getMessage());
        }
    }
}
