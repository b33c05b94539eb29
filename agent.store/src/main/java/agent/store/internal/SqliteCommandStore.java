package agent.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;
import agent.store.Admission;
import agent.store.CommandRecord;
import agent.store.CommandStore;
import agent.store.Destination;
import agent.store.EventLog;
import agent.store.Recovery;
import agent.store.StoreException;

/**
 * The command store on one SQLite file. Writes are group-committed without a writer thread: a caller queues its
 * write, takes the commit lock, and commits everything queued by then in one transaction (its own write and
 * those of callers waiting behind it), completing their futures after the commit. An uncontended write commits
 * on its caller's thread with no hand-off; concurrent writes share one fsync. A returned write is on disk.
 * Reads use a second connection; WAL lets them run beside the writes.
 */
public final class SqliteCommandStore implements CommandStore {
    private static final Logger LOG = Logger.getLogger("agent.store");
    private static final int MAX_BATCH = 256;
    private static final String COLUMNS = "id, action, params, timeout_seconds, issued_at, expires_at, source, status,"
        + " received_at, started_at, finished_at, exit_code, output, output_truncated, error, data, delivered, dry_run, error_code";

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private static final class Write<T> {
        final Work<T> work;
        final CompletableFuture<T> done = new CompletableFuture<>();

        Write(Work<T> work) { this.work = work; }
    }

    private final String file;
    private final SQLiteDataSource dataSource;
    /** Replaced after a failed commit (a full disk): see {@link #commit}. Guarded by the commit lock. */
    private Connection writeConnection;
    private final Connection readConnection;
    private final BlockingQueue<Write<?>> queue = new LinkedBlockingQueue<>();
    /** Fair: a thread that just committed must not barge back in and commit its next write alone. */
    private final java.util.concurrent.locks.ReentrantLock commitLock = new java.util.concurrent.locks.ReentrantLock(true);
    private volatile boolean closed;
    /** Commits failed in a row (guarded by the commit lock). */
    private int failedWrites;
    private final EventLog events = new SqliteEventLog();

    private SqliteCommandStore(String file, SQLiteDataSource dataSource, Connection writeConnection, Connection readConnection) {
        this.file = file;
        this.dataSource = dataSource;
        this.writeConnection = writeConnection;
        this.readConnection = readConnection;
    }

    /**
     * Opens or creates the database file, runs migrations.
     *
     * @param file path of the database file
     * @return the store
     */
    public static SqliteCommandStore open(java.nio.file.Path file) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.setBusyTimeout(10_000);
        SQLiteDataSource ds = new SQLiteDataSource(config);
        ds.setUrl("jdbc:sqlite:" + file);
        Connection w = null;
        try {
            w = ds.getConnection();
            w.setAutoCommit(false);
            Schema.migrate(w, file.toString());
            Connection r = ds.getConnection();
            return new SqliteCommandStore(file.toString(), ds, w, r);
        } catch (SQLException e) {
            closeQuietly(w);
            throw new StoreException("cannot open command store " + file + ": " + e.getMessage(), e);
        }
    }

    // ---- writes -------------------------------------------------------------------------------------

    @Override
    public Admission admit(Command command, Destination to) {
        return write(c -> admitOne(c, command, to));
    }

    @Override
    public List<Admission> admitAll(List<Command> commands, Destination to) {
        if (commands.isEmpty()) return List.of();
        return write(c -> {
            List<Admission> out = new ArrayList<>(commands.size());
            for (Command command : commands) out.add(admitOne(c, command, to));
            return out;
        });
    }

    private static Admission admitOne(Connection c, Command command, Destination to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO commands (id, action, params, timeout_seconds,"
            + " issued_at, expires_at, source, status, received_at, dry_run) VALUES (?,?,?,?,?,?,?,?,?,?)"
            + " ON CONFLICT(id) DO NOTHING")) {
            ps.setString(1, command.id());
            ps.setString(2, command.action());
            ps.setString(3, Json.write(command.params()));
            setInteger(ps, 4, command.timeoutSeconds());
            setInstant(ps, 5, command.issuedAt());
            setInstant(ps, 6, command.expiresAt());
            ps.setString(7, to.wireName());
            ps.setString(8, Status.RECEIVED.wireName());
            ps.setLong(9, System.currentTimeMillis());
            ps.setInt(10, command.dryRun() ? 1 : 0);
            if (ps.executeUpdate() == 1) return new Admission(Admission.Kind.NEW, Status.RECEIVED, null);
        }
        CommandRecord existing = select(c, command.id())
            .orElseThrow(() -> new SQLException("command " + command.id() + " vanished during admission"));
        return existing.status().isTerminal()
            ? new Admission(Admission.Kind.FINISHED, existing.status(), existing.result())
            : new Admission(Admission.Kind.PENDING, existing.status(), null);
    }

    @Override
    public void markRunning(String id, Instant startedAt) {
        int n = write(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE commands SET status = ?, started_at = ? WHERE id = ? AND status = ?")) {
                ps.setString(1, Status.RUNNING.wireName());
                ps.setLong(2, startedAt.toEpochMilli());
                ps.setString(3, id);
                ps.setString(4, Status.RECEIVED.wireName());
                return ps.executeUpdate();
            }
        });
        if (n != 1) throw new StoreException("command " + id + " cannot start: it is " + describe(id));
    }

    @Override
    public void finish(Result r) {
        int n = write(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET status = ?, started_at = ?,"
                + " finished_at = ?, exit_code = ?, output = ?, output_truncated = ?, error = ?, data = ?, error_code = ?"
                + " WHERE id = ? AND status IN (?, ?)")) {
                ps.setString(1, r.status().wireName());
                setInstant(ps, 2, r.startedAt());
                ps.setLong(3, r.finishedAt().toEpochMilli());
                setInteger(ps, 4, r.exitCode());
                ps.setString(5, r.output());
                ps.setInt(6, r.outputTruncated() ? 1 : 0);
                ps.setString(7, r.error());
                ps.setString(8, r.data() == null ? null : Json.write(r.data()));
                ps.setString(9, r.errorCode() == null ? null : r.errorCode().wireName());
                ps.setString(10, r.id());
                ps.setString(11, Status.RECEIVED.wireName());
                ps.setString(12, Status.RUNNING.wireName());
                return ps.executeUpdate();
            }
        });
        if (n != 1) throw new StoreException("command " + r.id() + " cannot finish as " + r.status().wireName()
            + ": it is " + describe(r.id()));
    }

    @Override
    public void resultOnRestart(Result r) {
        Map<String, Object> planned = new java.util.LinkedHashMap<>();
        planned.put("status", r.status().wireName());
        planned.put("error", r.error());
        planned.put("errorCode", r.errorCode() == null ? null : r.errorCode().wireName());
        planned.put("data", r.data());
        String json = Json.write(planned);
        int n = write(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET on_restart = ? WHERE id = ? AND status = ?")) {
                ps.setString(1, json);
                ps.setString(2, r.id());
                ps.setString(3, Status.RUNNING.wireName());
                return ps.executeUpdate();
            }
        });
        if (n != 1) throw new StoreException("command " + r.id() + " cannot record a result for a restart: it is " + describe(r.id()));
    }

    @Override
    public Recovery recover(String reason) {
        return write(c -> {
            long now = System.currentTimeMillis();
            finishPlannedRestarts(c, now);
            List<String> running = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM commands WHERE status = ? ORDER BY received_at")) {
                ps.setString(1, Status.RUNNING.wireName());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) running.add(rs.getString(1));
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE commands SET status = ?, finished_at = ?, error = ?, error_code = ?, output = COALESCE(output, '')"
                + " WHERE status = ?")) {
                ps.setString(1, Status.INTERRUPTED.wireName());
                ps.setLong(2, now);
                ps.setString(3, reason);
                ps.setString(4, agent.api.ErrorCode.INTERRUPTED.wireName());
                ps.setString(5, Status.RUNNING.wireName());
                ps.executeUpdate();
            }
            List<Result> interrupted = new ArrayList<>();
            for (String id : running) select(c, id).map(CommandRecord::result).ifPresent(interrupted::add);
            List<CommandRecord> toRun = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM commands WHERE status = ? ORDER BY received_at, rowid")) {
                ps.setString(1, Status.RECEIVED.wireName());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) toRun.add(record(rs));
                }
            }
            return new Recovery(interrupted, toRun);
        });
    }

    @Override
    public void ack(Collection<String> ids) {
        if (ids.isEmpty()) return;
        write(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE commands SET delivered = 1 WHERE id = ? AND finished_at IS NOT NULL")) {
                for (String id : ids) {
                    ps.setString(1, id);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    @Override
    public int prune(Instant cutoff) {
        return write(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                "DELETE FROM commands WHERE (delivered = 1 OR source <> ?) AND finished_at IS NOT NULL AND finished_at < ?")) {
                ps.setString(1, Destination.SERVER.wireName());
                ps.setLong(2, cutoff.toEpochMilli());
                return ps.executeUpdate();
            }
        });
    }

    /** Running commands that said how they end on a restart (a reboot they asked for) end so, not interrupted. */
    private static void finishPlannedRestarts(Connection c, long now) throws SQLException {
        Map<String, String> planned = new java.util.LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, on_restart FROM commands WHERE status = ? AND on_restart IS NOT NULL")) {
            ps.setString(1, Status.RUNNING.wireName());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) planned.put(rs.getString(1), rs.getString(2));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET status = ?, finished_at = ?, error = ?,"
            + " error_code = ?, data = ?, output = COALESCE(output, '') WHERE id = ?")) {
            for (Map.Entry<String, String> e : planned.entrySet()) {
                Map<String, Object> p = Json.readMap(e.getValue());
                ps.setString(1, (String) p.get("status"));
                ps.setLong(2, now);
                ps.setString(3, (String) p.get("error"));
                ps.setString(4, (String) p.get("errorCode"));
                ps.setString(5, p.get("data") == null ? null : Json.write(p.get("data")));
                ps.setString(6, e.getKey());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        if (!planned.isEmpty()) LOG.info("commands that asked for a restart finished as they planned: " + planned.keySet());
    }

    // ---- reads --------------------------------------------------------------------------------------

    @Override
    public Optional<CommandRecord> get(String id) {
        return read(c -> select(c, id));
    }

    @Override
    public List<CommandRecord> recent(int limit, Status status) {
        return read(c -> {
            String sql = "SELECT " + COLUMNS + " FROM commands" + (status == null ? "" : " WHERE status = ?")
                + " ORDER BY received_at DESC, rowid DESC LIMIT ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (status != null) ps.setString(i++, status.wireName());
                ps.setInt(i, limit);
                List<CommandRecord> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(record(rs));
                }
                return out;
            }
        });
    }

    @Override
    public List<Result> outbox(int limit) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM commands"
                + " WHERE delivered = 0 AND finished_at IS NOT NULL AND source = ? ORDER BY finished_at, rowid LIMIT ?")) {
                ps.setString(1, Destination.SERVER.wireName());
                ps.setInt(2, limit);
                List<Result> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(record(rs).result());
                }
                return out;
            }
        });
    }

    @Override
    public Map<Status, Long> counts() {
        return read(c -> {
            Map<Status, Long> out = new EnumMap<>(Status.class);
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT status, COUNT(*) FROM commands GROUP BY status")) {
                while (rs.next()) out.put(Status.fromWire(rs.getString(1)), rs.getLong(2));
            }
            return out;
        });
    }

    // ---- events (docs/protocol.md §9) --------------------------------------------------------------

    @Override
    public EventLog events() { return events; }

    /** The events table, in the same database and the same group commits as the commands. */
    private final class SqliteEventLog implements EventLog {

        @Override
        public int record(agent.api.Event event, int maxCount, java.time.Duration maxAge) {
            return write(c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (id, kind, time, data) VALUES (?,?,?,?)")) {
                    ps.setString(1, event.id());
                    ps.setString(2, event.kind());
                    ps.setLong(3, event.time().toEpochMilli());
                    ps.setString(4, event.data() == null ? null : Json.write(event.data()));
                    ps.executeUpdate();
                }
                int dropped = dropEvents(c, "time < ? AND kind <> ?", event.time().minus(maxAge).toEpochMilli(),
                    "older than " + maxAge.toHours() + " h");
                int count;
                try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM events WHERE kind <> ?")) {
                    ps.setString(1, DROPPED_KIND);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        count = rs.getInt(1);
                    }
                }
                if (count > maxCount) {
                    // drop a tenth at once: a flood then costs one drop report per tenth, not one per event
                    int excess = count - maxCount + Math.max(1, maxCount / 10);
                    long lastSeq;
                    try (PreparedStatement ps = c.prepareStatement("SELECT seq FROM events WHERE kind <> ? ORDER BY seq LIMIT 1 OFFSET ?")) {
                        ps.setString(1, DROPPED_KIND);
                        ps.setInt(2, excess - 1);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            lastSeq = rs.getLong(1);
                        }
                    }
                    dropped += dropEvents(c, "seq <= ? AND kind <> ?", lastSeq, "more than " + maxCount + " waiting");
                }
                return dropped;
            });
        }

        /** Deletes the events matching {@code where} (two params: a number, then the drop-report kind) and reports them. */
        private static int dropEvents(Connection c, String where, long bound, String reason) throws SQLException {
            long oldest;
            long newest;
            int n;
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*), MIN(time), MAX(time) FROM events WHERE " + where)) {
                ps.setLong(1, bound);
                ps.setString(2, DROPPED_KIND);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n = rs.getInt(1);
                    oldest = rs.getLong(2);
                    newest = rs.getLong(3);
                }
            }
            if (n == 0) return 0;
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM events WHERE " + where)) {
                ps.setLong(1, bound);
                ps.setString(2, DROPPED_KIND);
                ps.executeUpdate();
            }
            Map<String, Object> data = new java.util.LinkedHashMap<>();
            data.put("count", (long) n);
            data.put("oldest", Instant.ofEpochMilli(oldest).toString());
            data.put("newest", Instant.ofEpochMilli(newest).toString());
            data.put("reason", reason);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (id, kind, time, data) VALUES (?,?,?,?)")) {
                ps.setString(1, java.util.UUID.randomUUID().toString());
                ps.setString(2, DROPPED_KIND);
                ps.setLong(3, System.currentTimeMillis());
                ps.setString(4, Json.write(data));
                ps.executeUpdate();
            }
            LOG.warning("dropped " + n + " events (" + reason + ") from " + data.get("oldest") + " to " + data.get("newest")
                + "; the server is told");
            return n;
        }

        @Override
        public List<agent.api.Event> pending(int limit) {
            return read(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT id, kind, time, data FROM events ORDER BY seq LIMIT ?")) {
                    ps.setInt(1, limit);
                    List<agent.api.Event> out = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.add(new agent.api.Event(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
                                Json.read(rs.getString(4))));
                        }
                    }
                    return out;
                }
            });
        }

        @Override
        public void ack(java.util.Collection<String> ids) {
            if (ids.isEmpty()) return;
            write(c -> {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM events WHERE id = ?")) {
                    for (String id : ids) {
                        ps.setString(1, id);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                return null;
            });
        }

        @Override
        public int size() {
            return read(c -> {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM events")) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        commitLock.lock(); // waits for a commit under way
        try {
            List<Write<?>> rest = new ArrayList<>();
            queue.drainTo(rest);
            if (!rest.isEmpty()) commit(rest);
        } finally {
            commitLock.unlock();
        }
        synchronized (readConnection) {
            closeQuietly(readConnection);
        }
        closeQuietly(writeConnection);
    }

    // ---- machinery ----------------------------------------------------------------------------------

    /**
     * Queues a write and returns once it is committed: by this thread, or by the one that held the commit lock
     * when it was queued and took it into its batch.
     */
    private <T> T write(Work<T> work) {
        if (closed) throw new StoreException("command store " + file + " is closed");
        Write<T> w = new Write<>(work);
        queue.add(w);
        // a holder of the lock may take ours into its batch; a full batch may leave it for the next round
        while (!w.done.isDone()) {
            commitLock.lock();
            try {
                if (!w.done.isDone()) {
                    List<Write<?>> batch = new ArrayList<>();
                    queue.drainTo(batch, MAX_BATCH);
                    commit(batch);
                }
            } finally {
                commitLock.unlock();
            }
        }
        try {
            return w.done.getNow(null);
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof StoreException) throw (StoreException) cause;
            throw new StoreException("write to " + file + " failed: " + cause.getMessage(), cause);
        }
    }

    private <T> T read(Work<T> work) {
        synchronized (readConnection) {
            try {
                return work.run(readConnection);
            } catch (SQLException e) {
                throw new StoreException("read from " + file + " failed: " + e.getMessage(), e);
            }
        }
    }

    /** Runs each write in its own savepoint (one failing write does not undo the others), then one commit. */
    private void commit(List<Write<?>> batch) {
        Object[] values = new Object[batch.size()];
        Throwable[] errors = new Throwable[batch.size()];
        try {
            if (writeConnection == null) writeConnection = openWriteConnection();
            for (int i = 0; i < batch.size(); i++) {
                try (Statement s = writeConnection.createStatement()) {
                    s.execute("SAVEPOINT w");
                    try {
                        values[i] = batch.get(i).work.run(writeConnection);
                        s.execute("RELEASE w");
                    } catch (SQLException | RuntimeException e) {
                        s.execute("ROLLBACK TO w");
                        s.execute("RELEASE w");
                        errors[i] = e;
                    }
                }
            }
            writeConnection.commit();
        } catch (SQLException e) {
            failed(e);
            for (Write<?> w : batch) w.done.completeExceptionally(e);
            return;
        }
        if (failedWrites > 0) {
            LOG.warning("the command store " + file + " writes again after " + failedWrites + " failed commits");
            failedWrites = 0;
        }
        for (int i = 0; i < batch.size(); i++) complete(batch.get(i), values[i], errors[i]);
    }

    /**
     * A commit failed (a full disk, an I/O error): SQLite may have rolled the transaction back by itself, and the
     * driver's idea of the transaction no longer matches ("cannot commit - no transaction is active" forever after).
     * The write connection is dropped and a new one opened by the next write, so the store recovers by itself once
     * the cause is gone. Logged once per streak of failures, not once per write.
     */
    private void failed(SQLException e) {
        if (failedWrites++ == 0) LOG.log(Level.SEVERE, "commit to " + file + " failed; later writes retry", e);
        closeQuietly(writeConnection);
        writeConnection = null;
    }

    private Connection openWriteConnection() throws SQLException {
        Connection c = dataSource.getConnection();
        c.setAutoCommit(false);
        return c;
    }

    @SuppressWarnings("unchecked")
    private static <T> void complete(Write<T> w, Object value, Throwable error) {
        if (error != null) w.done.completeExceptionally(error);
        else w.done.complete((T) value);
    }

    private String describe(String id) {
        return get(id).map(r -> r.status().wireName()).orElse("unknown");
    }

    private static Optional<CommandRecord> select(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM commands WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(record(rs)) : Optional.empty();
            }
        }
    }

    private static CommandRecord record(ResultSet rs) throws SQLException {
        String id = rs.getString("id");
        Command command = new Command(id, rs.getString("action"), Json.readMap(rs.getString("params")),
            getInteger(rs, "timeout_seconds"), getInstant(rs, "issued_at"), getInstant(rs, "expires_at"),
            rs.getInt("dry_run") != 0);
        Status status = Status.fromWire(rs.getString("status"));
        Instant startedAt = getInstant(rs, "started_at");
        Result result = null;
        if (status.isTerminal()) {
            result = new Result(id, status, getInteger(rs, "exit_code"), rs.getString("output"),
                rs.getInt("output_truncated") != 0, rs.getString("error"), agent.api.ErrorCode.fromWire(rs.getString("error_code")),
                Json.read(rs.getString("data")), startedAt, getInstant(rs, "finished_at"));
        }
        return new CommandRecord(command, Destination.fromWire(rs.getString("source")), status, getInstant(rs, "received_at"), startedAt,
            result, rs.getInt("delivered") != 0);
    }

    private static void setInteger(PreparedStatement ps, int i, Integer v) throws SQLException {
        if (v == null) ps.setNull(i, Types.INTEGER);
        else ps.setInt(i, v);
    }

    private static void setInstant(PreparedStatement ps, int i, Instant v) throws SQLException {
        if (v == null) ps.setNull(i, Types.INTEGER);
        else ps.setLong(i, v.toEpochMilli());
    }

    private static Integer getInteger(ResultSet rs, String col) throws SQLException {
        int v = rs.getInt(col);
        return rs.wasNull() ? null : v;
    }

    private static Instant getInstant(ResultSet rs, String col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    private static void closeQuietly(Connection c) {
        if (c == null) return;
        try {
            c.close();
        } catch (SQLException e) {
            LOG.log(Level.FINE, "closing connection", e);
        }
    }
}
