package agent.core.internal.main;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import agent.core.internal.config.AgentConfig;
import agent.core.internal.control.StatusText;
import agent.core.internal.control.StoppedStatus;
import agent.core.internal.server.ServerConnection;
import agent.store.CommandStoreFactory;
import agent.transport.DocumentException;
import agent.transport.ServerRequests;
import agent.transport.ServerRequests.Check;
import agent.transport.ServerRequests.ReportReceipt;

/**
 * The operator's tools that run in the agent's runtime but are not the agent: {@code status} of an agent that does
 * not answer on its control socket, {@code inject} and {@code check}. None of them starts the agent's components,
 * opens the store for writing, takes the data dir's lock or writes the agent's log: each may run beside the agent.
 */
final class ToolRuns {
    /** Exit code of {@code status} when the agent is stopped (as LSB init scripts and systemctl answer). */
    static final int STOPPED = 3;
    /** Less free space than this in the data dir's file system fails the preflight. */
    static final long MIN_FREE_BYTES = 100L << 20;

    private ToolRuns() {}

    /** @return 0 if the agent runs, {@link #STOPPED} if not */
    static int status(AgentConfig config, String version, CommandStoreFactory stores, ServerRequests requests, boolean json,
            PrintStream out) {
        Map<String, Object> status = StoppedStatus.of(config, version, stores, requests);
        out.print(json ? StatusText.json(status) : StatusText.text(status));
        out.flush();
        return "stopped".equals(status.get("state")) ? STOPPED : 0;
    }

    /** @return 0 if the server acknowledged every result, 1 if not or the upload failed, 2 for a bad report or TLS file */
    static int inject(AgentConfig config, ServerRequests requests, Path report, PrintStream out, PrintStream err)
            throws InterruptedException {
        ReportReceipt r;
        try {
            r = requests.uploadReport(ServerConnection.settings(config), report);
        } catch (DocumentException | IllegalArgumentException e) {
            err.println("outpost: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("outpost: the report " + report + " was not uploaded: " + e.getMessage());
            return 1;
        }
        List<String> notAcked = new ArrayList<>(r.results());
        notAcked.removeAll(r.acked());
        out.println("uploaded " + report + " to " + config.serverUrl + " as agent " + r.agentId() + ": " + r.results().size()
            + " results, " + (notAcked.isEmpty() ? "all" : r.results().size() - notAcked.size()) + " acknowledged; "
            + r.events().size() + " events" + eventAcks(r));
        if (!notAcked.isEmpty()) {
            err.println("outpost: the server did not acknowledge " + notAcked.size() + " results: " + String.join(", ",
                notAcked.subList(0, Math.min(10, notAcked.size()))) + (notAcked.size() > 10 ? ", ..." : "")
                + " (a result whose id belongs to a command the server issued is not taken from a report; see the server's log)");
            return 1;
        }
        if (r.ackedEvents() != null && !r.ackedEvents().containsAll(r.events())) {
            err.println("outpost: the server did not acknowledge every event of the report; see the server's log");
            return 1;
        }
        return 0;
    }

    /** How many of the report's events the server acknowledged; nothing to say of a report with none. */
    private static String eventAcks(ReportReceipt r) {
        if (r.events().isEmpty()) return "";
        if (r.ackedEvents() == null) return " (the server did not say which it stored)";
        return ", " + (r.ackedEvents().containsAll(r.events()) ? "all" : String.valueOf(r.ackedEvents().size())) + " acknowledged";
    }

    /** @return 0 if every check passed, 1 if not */
    static int check(AgentConfig config, ServerRequests requests, PrintStream out) throws InterruptedException {
        List<Check> checks = new ArrayList<>();
        String file = config.configFile == null ? "no config file: defaults and the environment" : config.configFile + " is valid";
        checks.add(config.warnings.isEmpty() ? new Check("config", true, file, null)
            : new Check("config", false, file + ", but " + String.join("; ", config.warnings), "make it readable by root only"));
        checks.addAll(dataDir(config.dataDir));
        try {
            checks.addAll(requests.preflight(ServerConnection.settings(config)));
        } catch (IllegalArgumentException e) {
            checks.add(new Check("tls", false, e.getMessage(), "fix the file the config names"));
        }
        print(checks, out);
        return checks.stream().allMatch(Check::ok) ? 0 : 1;
    }

    /** A bad config as the preflight's first line. */
    static void badConfig(String message, PrintStream out) {
        print(List.of(new Check("config", false, message, "fix the key named, or remove it to use its default")), out);
    }

    /** The data dir as the agent makes it (0700) if it is missing, a file written and synced in it, its free space. */
    static List<Check> dataDir(Path dir) {
        List<Check> out = new ArrayList<>();
        String made = "";
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir.getParent());
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                made = " (made now, mode 0700, as the agent would at its first start)";
            }
            Path probe = Files.createTempFile(dir, ".check-", ".tmp");
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.allocate(4096));
                ch.force(true);
            } finally {
                Files.deleteIfExists(probe);
            }
            out.add(new Check("data dir", true, dir + " is writable" + made, null));
        } catch (IOException e) {
            out.add(new Check("data dir", false, "cannot write in " + dir + ": " + e,
                "the agent keeps its store, credentials and plugins there: make it a writable directory of root (config key 'data_dir')"));
            return out;
        }
        try {
            FileStore fs = Files.getFileStore(dir);
            long free = fs.getUsableSpace();
            String where = (free >> 20) + " MiB free of " + (fs.getTotalSpace() >> 20) + " MiB on " + fs.name() + " (" + fs.type() + ")";
            if (free >= MIN_FREE_BYTES) {
                out.add(new Check("free space", true, where, null));
            } else {
                out.add(new Check("free space", false, where + ": less than the " + (MIN_FREE_BYTES >> 20) + " MiB the agent needs",
                    "free space on that file system: the store, runtime-installed plugins and their data live there"));
            }
        } catch (IOException e) {
            out.add(new Check("free space", false, "cannot read the free space of " + dir + ": " + e.getMessage(), null));
        }
        return out;
    }

    private static void print(List<Check> checks, PrintStream out) {
        int w = checks.stream().mapToInt(c -> c.name().length()).max().orElse(0);
        for (Check c : checks) {
            out.println((c.ok() ? "✔ " : "✘ ") + c.name() + " ".repeat(w - c.name().length() + 2) + c.detail());
            if (!c.ok() && c.hint() != null) out.println("  " + " ".repeat(w + 2) + "hint: " + c.hint());
        }
        long failed = checks.stream().filter(c -> !c.ok()).count();
        out.println(failed == 0 ? "all " + checks.size() + " checks passed" : failed + " of " + checks.size() + " checks failed");
        out.flush();
    }

    /** The process's own stdout as UTF-8 (the check marks are not ASCII), whatever the JVM's default. */
    static PrintStream stdout() {
        return new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, java.nio.charset.StandardCharsets.UTF_8);
    }
}
