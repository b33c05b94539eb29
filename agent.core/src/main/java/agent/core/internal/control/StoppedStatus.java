package agent.core.internal.control;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonElement;

import agent.core.internal.config.AgentConfig;
import agent.core.internal.config.ConfigException;
import agent.core.internal.config.JsonFile;
import agent.store.CommandStore;
import agent.store.CommandStoreFactory;
import agent.store.StoreException;
import agent.transport.ServerRequests;

/**
 * The status of an agent that does not answer on its control socket, from what it left: its store, opened read only
 * (a running agent's writes go on beside it), the config as it is now, and the snapshot of its last run
 * ({@link AgentStatus#FILE}). Whether it runs at all is read from the kernel's lock table: the agent holds a lock on
 * {@code <data_dir>/agent.lock} while it runs, and taking that lock here, even for a moment, could make an agent that
 * starts at the same moment refuse to run.
 */
public final class StoppedStatus {
    private StoppedStatus() {}

    /**
     * @param config  the config as it is now
     * @param version the agent version installed
     * @param stores  opens the store read only
     * @param requests the agent id the server gave at enrolment
     * @return the status, in the order {@link StatusText} shows it
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> of(AgentConfig config, String version, CommandStoreFactory stores, ServerRequests requests) {
        Path snapshotFile = config.dataDir.resolve(AgentStatus.FILE);
        Map<String, Object> last = readSnapshot(snapshotFile);
        List<String> notes = new java.util.ArrayList<>();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agentId", requests.enrolledAgentId(config.dataDir));
        m.put("machineId", config.agentId);
        m.put("version", version);
        if (last.get("version") != null) m.put("lastVersion", last.get("version"));
        long holder = lockHolder(config.dataDir.resolve("agent.lock"));
        if (holder != 0) {
            m.put("state", "running");
            m.put("since", null);
            m.put("pid", holder < 0 ? null : holder);
            notes.add("the agent runs but does not answer on its control socket " + config.runDir.resolve(ControlSocket.FILE)
                + ": it is starting or stopping, or runs in once or offline mode (they have no control socket)");
        } else {
            m.put("state", "stopped");
            if (last.get("stoppedAt") != null) {
                m.put("since", last.get("stoppedAt"));
            } else {
                m.put("since", null);
                if (!last.isEmpty()) notes.add("the last run did not stop cleanly (killed, or the host went down); its status was last saved at "
                    + modified(snapshotFile));
            }
            m.put("pid", last.get("pid"));
        }
        m.put("mode", last.getOrDefault("mode", "unknown (no status of a last run)"));
        m.put("serverUrl", config.serverUrl);
        m.put("transport", config.serverUrl == null ? null : config.transport);
        m.put("connection", holder != 0 ? "unknown (no answer on the control socket)"
            : "none: the agent is stopped" + (last.get("connection") != null ? " (last: " + last.get("connection") + ")" : ""));
        m.put("plugins", last.get("plugins"));
        if (last.get("plugins") != null) m.put("pluginsAsOf", modified(snapshotFile));
        try (CommandStore store = stores.openReadOnly(config.dataDir)) {
            m.put("commands", AgentStatus.counts(store));
            m.put("outbox", store.outboxSize());
            m.put("events", store.events().size());
        } catch (StoreException e) {
            m.put("commands", null);
            m.put("outbox", null);
            m.put("events", null);
            notes.add(e.getMessage());
        }
        m.put("lastError", last.get("lastError"));
        m.put("logLevel", config.logLevel);
        m.put("dataDir", config.dataDir.toString());
        m.put("configFile", config.configFile == null ? null : config.configFile.toString());
        m.put("note", notes.isEmpty() ? null : String.join("; ", notes));
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readSnapshot(Path file) {
        if (!Files.exists(file)) return Map.of();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement e = JsonFile.parse(r, "status file " + file);
            Object value = JsonFile.GSON.fromJson(e, Object.class);
            return value instanceof Map ? (Map<String, Object>) value : Map.of();
        } catch (IOException | ConfigException | RuntimeException e) {
            return Map.of("note", "cannot read " + file + ": " + e.getMessage());
        }
    }

    private static String modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toInstant().toString();
        } catch (IOException e) {
            return "an unknown time";
        }
    }

    /**
     * Reads /proc/locks for a lock on the file (by device and inode), without taking one.
     *
     * @return the pid holding it, -1 if it is held by a process this one cannot see, 0 if it is not held
     */
    static long lockHolder(Path lockFile) {
        long inode, dev;
        try {
            inode = ((Number) Files.getAttribute(lockFile, "unix:ino")).longValue();
            dev = ((Number) Files.getAttribute(lockFile, "unix:dev")).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0; // no lock file: no agent has run with this data dir
        }
        // glibc's encoding of a dev_t (makedev(3)); /proc/locks prints MAJOR:MINOR:INODE with the numbers in hex
        long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
                String[] f = line.trim().split("\\s+");
                // "1: POSIX  ADVISORY  WRITE 4711 fd:01:1234 0 EOF"; a waiting lock has "->" after the number
                int at = f.length > 1 && f[1].equals("->") ? 1 : 0;
                if (f.length < 6 + at) continue;
                String[] id = f[5 + at].split(":");
                if (id.length != 3) continue;
                try {
                    if (Long.parseLong(id[2]) == inode && Long.parseLong(id[0], 16) == major && Long.parseLong(id[1], 16) == minor) {
                        long pid = Long.parseLong(f[4 + at]);
                        return pid > 0 ? pid : -1;
                    }
                } catch (NumberFormatException e) {
                    // a line of another form: not ours
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }
}
