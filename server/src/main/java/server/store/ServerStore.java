package server.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.logging.Level;
import java.util.logging.Logger;

import server.store.Records.Agent;
import server.store.Records.Bundle;
import server.store.Records.Command;
import server.store.Records.NewCommand;
import server.store.Records.Pending;
import server.store.Records.Result;
import server.store.Records.ResultOutcome;
import server.store.Records.State;

/**
 * The server's SQLite store (WAL, synchronous FULL). Every write goes through one writer thread that runs the
 * writes queued meanwhile in one transaction (group commit): one fsync for many agents' results. A write's future
 * completes only after its transaction is committed, so whoever acks a result acks what is on disk. Reads use a
 * small pool of their own connections and see committed data.
 */
public final class ServerStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ServerStore.class.getName());
    private static final int SCHEMA_VERSION = 1;
    private static final int MAX_BATCH = 4096;
    private static final int READERS = 4;

    /** A unit of work on a connection; a write runs inside the writer's transaction, under its own savepoint. */
    @FunctionalInterface
    public interface Tx<T> {
        T run(Connection c) throws SQLException;
    }

    /** {@code soon}: may wait up to {@link #SOON_MILLIS} for a write that needs committing now, to share its commit. */
    private record Op<T>(Tx<T> tx, CompletableFuture<T> future, boolean soon) {
        @SuppressWarnings("unchecked")
        void complete(Object value) {
            future.complete((T) value);
        }
    }

    private static final Op<Void> STOP = new Op<>(c -> null, new CompletableFuture<>(), false);
    /** How long a {@link #writeSoon} may wait for a commit to ride along with. */
    static final long SOON_MILLIS = 20;

    private final Connection writerConnection;
    /** Each write's savepoint, prepared once (the driver's setSavepoint formats a new name and compiles it per call). */
    private final PreparedStatement savepoint;
    private final PreparedStatement release;
    private final PreparedStatement rollbackTo;
    private final BlockingQueue<Op<?>> queue = new LinkedBlockingQueue<>();
    private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READERS);
    private final Thread writer;
    private final List<Runnable> afterBatch = new ArrayList<>();
    private volatile boolean closed;

    private ServerStore(Path file) throws SQLException {
        String url = "jdbc:sqlite:" + file.toAbsolutePath();
        writerConnection = open(url, false);
        migrate(writerConnection);
        writerConnection.setAutoCommit(false);
        savepoint = writerConnection.prepareStatement("SAVEPOINT write");
        release = writerConnection.prepareStatement("RELEASE write");
        rollbackTo = writerConnection.prepareStatement("ROLLBACK TO write");
        for (int i = 0; i < READERS; i++) readers.add(open(url, true));
        writer = new Thread(this::writeLoop, "store-writer");
        writer.setDaemon(true);
        writer.start();
    }

    /** Opens (creating or migrating) the store in {@code file}. */
    public static ServerStore open(Path file) throws SQLException {
        return new ServerStore(file);
    }

    private static Connection open(String url, boolean readOnly) throws SQLException {
        Properties p = new Properties();
        p.setProperty("journal_mode", "WAL");
        p.setProperty("synchronous", "FULL");
        p.setProperty("busy_timeout", "10000");
        Connection c = DriverManager.getConnection(url, p);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA synchronous=FULL");
            s.execute("PRAGMA busy_timeout=10000");
            if (readOnly) s.execute("PRAGMA query_only=1");
        }
        return c;
    }

    private static void migrate(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            int version;
            try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                version = rs.next() ? rs.getInt(1) : 0;
            }
            if (version > SCHEMA_VERSION) {
                throw new SQLException("the store has schema version " + version + ", newer than this server's "
                    + SCHEMA_VERSION + ": run a newer outpost-server");
            }
            if (version < 1) {
                s.execute("""
                    CREATE TABLE agents (
                      agent_id TEXT PRIMARY KEY,
                      token_hash TEXT NOT NULL UNIQUE,
                      hostname TEXT,
                      machine_id TEXT,
                      hello TEXT,
                      plugins TEXT,
                      transport TEXT,
                      connected INTEGER NOT NULL DEFAULT 0,
                      last_seen TEXT,
                      enrolled_at TEXT NOT NULL)""");
                s.execute("""
                    CREATE TABLE commands (
                      id TEXT PRIMARY KEY,
                      agent_id TEXT NOT NULL,
                      action TEXT NOT NULL,
                      params TEXT NOT NULL,
                      timeout_seconds INTEGER,
                      issued_at TEXT NOT NULL,
                      expires_at TEXT,
                      state TEXT NOT NULL,
                      cancel_requested INTEGER NOT NULL DEFAULT 0,
                      created_at TEXT NOT NULL)""");
                s.execute("CREATE INDEX commands_by_agent_state ON commands(agent_id, state)");
                s.execute("""
                    CREATE TABLE results (
                      id TEXT PRIMARY KEY,
                      agent_id TEXT NOT NULL,
                      status TEXT NOT NULL,
                      result TEXT NOT NULL,
                      received_at TEXT NOT NULL)""");
                s.execute("CREATE INDEX results_by_agent ON results(agent_id)");
                s.execute("""
                    CREATE TABLE events (
                      seq INTEGER PRIMARY KEY AUTOINCREMENT,
                      agent_id TEXT NOT NULL,
                      kind TEXT,
                      time TEXT,
                      event TEXT NOT NULL,
                      received_at TEXT NOT NULL)""");
                s.execute("""
                    CREATE TABLE bundles (
                      sha256 TEXT PRIMARY KEY,
                      bsn TEXT NOT NULL,
                      version TEXT NOT NULL,
                      size INTEGER NOT NULL,
                      uploaded_at TEXT NOT NULL)""");
                s.execute("PRAGMA user_version=" + SCHEMA_VERSION);
            }
            // nobody is connected to a server that is starting
            s.execute("UPDATE agents SET connected = 0 WHERE connected <> 0");
        }
    }

    // ---------------------------------------------------------------- writer

    /** Queues a write; the future completes after the transaction holding it is committed. */
    public <T> CompletableFuture<T> write(Tx<T> tx) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (closed) {
            f.completeExceptionally(new IllegalStateException("the store is closed"));
            return f;
        }
        queue.add(new Op<>(tx, f, false));
        return f;
    }

    /**
     * Queues a write with a follow-up that runs on the writer thread once the write is committed (or failed), before
     * the writer's after-batch tasks. The follow-up must not block: hand I/O to another executor.
     */
    public <T> void write(Tx<T> tx, java.util.function.BiConsumer<? super T, ? super Throwable> onCommit) {
        queue(tx, onCommit, false);
    }

    /**
     * A write that need not be on disk at once (a state that can be learnt again, e.g. that an agent accepted a
     * command): it runs in order with the other writes, but commits with the next write that cannot wait, or after
     * at most {@link #SOON_MILLIS}. That saves a commit, and an fsync, per such write; a write queued after it still
     * sees it.
     */
    public <T> void writeSoon(Tx<T> tx, java.util.function.BiConsumer<? super T, ? super Throwable> onCommit) {
        queue(tx, onCommit, true);
    }

    private <T> void queue(Tx<T> tx, java.util.function.BiConsumer<? super T, ? super Throwable> onCommit, boolean soon) {
        CompletableFuture<T> f = new CompletableFuture<>();
        f.whenComplete(onCommit);
        if (closed) {
            f.completeExceptionally(new IllegalStateException("the store is closed"));
            return;
        }
        queue.add(new Op<>(tx, f, soon));
    }

    /**
     * Runs {@code task} once the current batch's follow-ups have all run. Call it only from a follow-up (on the
     * writer thread): this is how many results of one agent committed together get one ack.
     */
    public void afterBatch(Runnable task) {
        afterBatch.add(task);
    }

    /** A write, waited for; exceptions thrown inside {@code tx} come out unwrapped. */
    public <T> T writeAndWait(Tx<T> tx) {
        return await(write(tx));
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the store", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) throw re;
            if (cause instanceof Error er) throw er;
            throw new IllegalStateException("store write failed: " + cause.getMessage(), cause);
        }
    }

    private void writeLoop() {
        List<Op<?>> batch = new ArrayList<>();
        List<Object> values = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        boolean stop = false;
        boolean holding = false; // the batch holds only writes that can wait
        long soonDeadline = 0;
        int heldSoFar = 0;
        while (!stop) {
            try {
                if (!holding) {
                    batch.add(queue.take());
                } else {
                    // wait for a write that cannot wait, or for the oldest one's deadline
                    Op<?> op = queue.poll(soonDeadline - System.nanoTime(), java.util.concurrent.TimeUnit.NANOSECONDS);
                    if (op != null) batch.add(op);
                }
            } catch (InterruptedException e) {
                continue;
            }
            int firstNew = holding ? heldSoFar : 0;
            queue.drainTo(batch, MAX_BATCH - batch.size());
            boolean now = batch.size() >= MAX_BATCH || holding && System.nanoTime() - soonDeadline >= 0;
            for (int i = firstNew; i < batch.size() && !now; i++) now = !batch.get(i).soon();
            heldSoFar = batch.size();
            if (!now) {
                if (!holding) soonDeadline = System.nanoTime() + SOON_MILLIS * 1_000_000;
                holding = true;
                continue;
            }
            holding = false;
            for (Op<?> op : batch) {
                if (op == STOP) {
                    stop = true;
                    values.add(null);
                    failures.add(null);
                    continue;
                }
                boolean inSavepoint = false;
                try {
                    savepoint.execute();
                    inSavepoint = true;
                    Object v = op.tx().run(writerConnection);
                    release.execute();
                    values.add(v);
                    failures.add(null);
                } catch (Throwable t) {
                    if (inSavepoint) {
                        try {
                            rollbackTo.execute();
                            release.execute();
                        } catch (SQLException e) {
                            t.addSuppressed(e);
                        }
                    }
                    values.add(null);
                    failures.add(t);
                }
            }
            Throwable commitFailure = null;
            try {
                writerConnection.commit();
            } catch (SQLException e) {
                commitFailure = e;
                LOG.log(Level.SEVERE, "store commit of " + batch.size() + " writes failed", e);
                try {
                    writerConnection.rollback();
                } catch (SQLException e2) {
                    e.addSuppressed(e2);
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                Op<?> op = batch.get(i);
                try {
                    if (commitFailure != null) {
                        op.future().completeExceptionally(commitFailure);
                    } else if (failures.get(i) != null) {
                        op.future().completeExceptionally(failures.get(i));
                    } else {
                        op.complete(values.get(i));
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "a store write's follow-up failed", e);
                }
            }
            for (int i = 0; i < afterBatch.size(); i++) {
                try {
                    afterBatch.get(i).run();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "an after-batch task failed", e);
                }
            }
            afterBatch.clear();
            batch.clear();
            values.clear();
            failures.clear();
        }
    }

    /** Reads on a pooled read connection (autocommit: each statement sees the latest commit). */
    public <T> T read(Tx<T> tx) {
        if (closed) throw new IllegalStateException("the store is closed");
        Connection c;
        try {
            c = readers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a store connection", e);
        }
        try {
            return tx.run(c);
        } catch (SQLException e) {
            throw new IllegalStateException("store read failed: " + e.getMessage(), e);
        } finally {
            readers.add(c);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        queue.add(STOP);
        try {
            writer.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            writerConnection.close();
        } catch (SQLException e) {
            LOG.log(Level.WARNING, "closing the store", e);
        }
        for (Connection c : readers) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.log(Level.WARNING, "closing a store reader", e);
            }
        }
    }

    // ---------------------------------------------------------------- agents

    /** The agent whose token has this SHA-256 (hex), or null. */
    public String agentIdForTokenHash(String tokenHash) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT agent_id FROM agents WHERE token_hash = ?")) {
                ps.setString(1, tokenHash);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    /**
     * Records a new agent: its id is {@code machineId} when given and not yet enrolled, else a new UUID.
     *
     * @return the agent id
     */
    public String enroll(String machineId, String hostname, String tokenHash, String now) {
        return writeAndWait(c -> {
            String id = machineId;
            if (id == null || exists(c, "SELECT 1 FROM agents WHERE agent_id = ?", id)) {
                id = UUID.randomUUID().toString();
            }
            try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO agents(agent_id, token_hash, hostname, machine_id, enrolled_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, tokenHash);
                ps.setString(3, hostname);
                ps.setString(4, machineId);
                ps.setString(5, now);
                ps.executeUpdate();
            }
            return id;
        });
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    public List<Agent> agents() {
        return read(c -> {
            List<Agent> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + AGENT_COLUMNS + " FROM agents ORDER BY enrolled_at, agent_id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(agent(rs));
            }
            return out;
        });
    }

    public Agent agent(String agentId) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + AGENT_COLUMNS + " FROM agents WHERE agent_id = ?")) {
                ps.setString(1, agentId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? agent(rs) : null;
                }
            }
        });
    }

    private static final String AGENT_COLUMNS =
        "agent_id, hostname, machine_id, hello, plugins, transport, connected, last_seen, enrolled_at";

    private static Agent agent(ResultSet rs) throws SQLException {
        return new Agent(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
            rs.getString(6), rs.getInt(7) != 0, rs.getString(8), rs.getString(9));
    }

    /**
     * Records an agent's hello (WebSocket or check-in) and returns what it is to be sent: its queued and
     * dispatched-but-not-accepted commands, oldest first (now marked dispatched), and the ids to cancel (to be
     * sent after the commands).
     */
    public static Tx<Pending> hello(String agentId, String helloJson, String hostname, String pluginsJson,
                                    String transport, boolean connected, String now) {
        return c -> {
            updateHello(c, agentId, helloJson, hostname, pluginsJson, transport, connected, now);
            return pending(c, agentId);
        };
    }

    /** Records what a hello says about the agent (null fields keep what was known). */
    public static void updateHello(Connection c, String agentId, String helloJson, String hostname, String pluginsJson,
                                   String transport, boolean connected, String now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
            UPDATE agents SET hello = coalesce(?, hello), hostname = coalesce(?, hostname),
              plugins = coalesce(?, plugins), transport = ?, connected = ?, last_seen = ? WHERE agent_id = ?""")) {
            ps.setString(1, helloJson);
            ps.setString(2, hostname);
            ps.setString(3, pluginsJson);
            ps.setString(4, transport);
            ps.setInt(5, connected ? 1 : 0);
            ps.setString(6, now);
            ps.setString(7, agentId);
            ps.executeUpdate();
        }
    }

    /** The check-in form of {@link #hello}: marks the agent seen, then lists what it is to get. */
    public static Tx<Pending> pendingFor(String agentId, String now) {
        return c -> {
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE agents SET last_seen = ?, transport = 'poll' WHERE agent_id = ?")) {
                ps.setString(1, now);
                ps.setString(2, agentId);
                ps.executeUpdate();
            }
            return pending(c, agentId);
        };
    }

    public static Pending pending(Connection c, String agentId) throws SQLException {
        List<Command> commands = new ArrayList<>();
        // a dispatched command is sent again even if its cancel was requested: the agent may never have got it, and
        // then only the command followed by its cancel gets it a result (cancelled, or the one it already has)
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COMMAND_COLUMNS
            + " FROM commands WHERE agent_id = ? AND state IN ('queued', 'dispatched') ORDER BY rowid")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) commands.add(command(rs));
            }
        }
        List<String> cancels = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT id FROM commands WHERE agent_id = ? AND state IN ('dispatched', 'accepted') AND cancel_requested = 1 ORDER BY rowid")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) cancels.add(rs.getString(1));
            }
        }
        if (!commands.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE commands SET state = 'dispatched' WHERE agent_id = ? AND state = 'queued'")) {
                ps.setString(1, agentId);
                ps.executeUpdate();
            }
        }
        return new Pending(commands, cancels);
    }

    public static Tx<Void> plugins(String agentId, String pluginsJson) {
        return c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE agents SET plugins = ? WHERE agent_id = ?")) {
                ps.setString(1, pluginsJson);
                ps.setString(2, agentId);
                ps.executeUpdate();
            }
            return null;
        };
    }

    /** Last-seen times of many agents in one statement batch; {@code connected} as given. */
    public static Tx<Void> seen(Map<String, String> lastSeenByAgent, boolean connected) {
        return c -> {
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE agents SET last_seen = ?, connected = ? WHERE agent_id = ?")) {
                for (Map.Entry<String, String> e : lastSeenByAgent.entrySet()) {
                    ps.setString(1, e.getValue());
                    ps.setInt(2, connected ? 1 : 0);
                    ps.setString(3, e.getKey());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        };
    }

    // ---------------------------------------------------------------- commands

    private static final String COMMAND_COLUMNS =
        "id, agent_id, action, params, timeout_seconds, issued_at, expires_at, state, cancel_requested, created_at";

    private static Command command(ResultSet rs) throws SQLException {
        int t = rs.getInt(5);
        Integer timeout = rs.wasNull() ? null : t;
        return new Command(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), timeout,
            rs.getString(6), rs.getString(7), rs.getString(8), rs.getInt(9) != 0, rs.getString(10));
    }

    /** Agent ids of every enrolled agent, in enrolment order. */
    public static List<String> allAgentIds(Connection c) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT agent_id FROM agents ORDER BY enrolled_at, agent_id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) ids.add(rs.getString(1));
        }
        return ids;
    }

    public static boolean agentExists(Connection c, String agentId) throws SQLException {
        return exists(c, "SELECT 1 FROM agents WHERE agent_id = ?", agentId);
    }

    public static Command command(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COMMAND_COLUMNS + " FROM commands WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? command(rs) : null;
            }
        }
    }

    /** Inserts queued commands, all issued (and created) at {@code now}. */
    public static void insertCommands(Connection c, Collection<NewCommand> commands, String now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO commands(id, agent_id, action, params, timeout_seconds,"
            + " issued_at, expires_at, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)")) {
            for (NewCommand n : commands) {
                ps.setString(1, n.id());
                ps.setString(2, n.agentId());
                ps.setString(3, n.action());
                ps.setString(4, n.params());
                if (n.timeoutSeconds() == null) ps.setNull(5, Types.INTEGER);
                else ps.setInt(5, n.timeoutSeconds());
                ps.setString(6, now);
                ps.setString(7, n.expiresAt());
                ps.setString(8, now);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    public Command command(String id) {
        return read(c -> command(c, id));
    }

    /** Marks commands that were just sent as dispatched (a no-op for any that got further meanwhile). */
    public static Tx<Void> dispatched(Collection<String> ids) {
        return c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET state = 'dispatched' WHERE id = ? AND state = 'queued'")) {
                for (String id : ids) {
                    ps.setString(1, id);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        };
    }

    /** The agent has durably recorded these commands. Ids of other agents' commands are ignored. */
    public static Tx<Void> accepted(String agentId, Collection<String> ids) {
        return c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET state = 'accepted'"
                + " WHERE id = ? AND agent_id = ? AND state IN ('queued', 'dispatched')")) {
                for (String id : ids) {
                    ps.setString(1, id);
                    ps.setString(2, agentId);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        };
    }

    /**
     * The operator's cancel: a queued command becomes cancelled here and now; a dispatched or accepted one is
     * marked for cancelling on the agent (which answers with its result).
     *
     * @return the command after the change, or null if there is no such id
     */
    public static Tx<Command> cancel(String id, java.util.function.Consumer<Command> refuse) {
        return c -> {
            Command cmd = command(c, id);
            if (cmd == null) return null;
            refuse.accept(cmd);
            String sql = State.QUEUED.equals(cmd.state())
                ? "UPDATE commands SET state = 'cancelled' WHERE id = ?"
                : "UPDATE commands SET cancel_requested = 1 WHERE id = ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
            return command(c, id);
        };
    }

    // ---------------------------------------------------------------- results and events

    /**
     * Stores one result (PROTOCOL.md §3), idempotently: a copy for an id already stored is not stored again.
     * The command, if the server issued it, is done.
     */
    public static ResultOutcome storeResult(Connection c, String agentId, String id, String status, String resultJson,
                                            String now) throws SQLException {
        String owner = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT agent_id FROM commands WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) owner = rs.getString(1);
            }
        }
        if (owner != null && !owner.equals(agentId)) return ResultOutcome.FOREIGN;
        int inserted;
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT OR IGNORE INTO results(id, agent_id, status, result, received_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, agentId);
            ps.setString(3, status);
            ps.setString(4, resultJson);
            ps.setString(5, now);
            inserted = ps.executeUpdate();
        }
        if (inserted == 0) {
            String storedFor;
            try (PreparedStatement ps = c.prepareStatement("SELECT agent_id FROM results WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    storedFor = rs.next() ? rs.getString(1) : null;
                }
            }
            return agentId.equals(storedFor) ? ResultOutcome.DUPLICATE : ResultOutcome.FOREIGN;
        }
        if (owner != null) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET state = 'done' WHERE id = ? AND state <> 'done'")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
        }
        return ResultOutcome.STORED;
    }

    public static void storeEvent(Connection c, String agentId, String kind, String time, String eventJson, String now)
        throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO events(agent_id, kind, time, event, received_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setString(1, agentId);
            ps.setString(2, kind);
            ps.setString(3, time);
            ps.setString(4, eventJson);
            ps.setString(5, now);
            ps.executeUpdate();
        }
    }

    private static final String RESULT_COLUMNS = "id, agent_id, status, result, received_at";

    private static Result result(ResultSet rs) throws SQLException {
        return new Result(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5));
    }

    public Result result(String id) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RESULT_COLUMNS + " FROM results WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? result(rs) : null;
                }
            }
        });
    }

    /** Newest first; {@code agentId} null for all agents. */
    public List<Result> results(String agentId, int limit) {
        return read(c -> {
            String sql = "SELECT " + RESULT_COLUMNS + " FROM results"
                + (agentId == null ? "" : " WHERE agent_id = ?") + " ORDER BY rowid DESC LIMIT ?";
            List<Result> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (agentId != null) ps.setString(i++, agentId);
                ps.setInt(i, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(result(rs));
                }
            }
            return out;
        });
    }

    /** The stored results among these command ids (any order). */
    public List<Result> results(Collection<String> ids) {
        return read(c -> {
            List<Result> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RESULT_COLUMNS + " FROM results WHERE id = ?")) {
                for (String id : ids) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) out.add(result(rs));
                    }
                }
            }
            return out;
        });
    }

    public long countEvents(String agentId) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM events WHERE agent_id = ?")) {
                ps.setString(1, agentId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
    }

    // ---------------------------------------------------------------- bundles

    /** Records a bundle (a no-op when that sha256 is known already); returns the stored record. */
    public Bundle addBundle(Bundle b) {
        return writeAndWait(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                "INSERT OR IGNORE INTO bundles(sha256, bsn, version, size, uploaded_at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setString(1, b.sha256());
                ps.setString(2, b.bsn());
                ps.setString(3, b.version());
                ps.setLong(4, b.size());
                ps.setString(5, b.uploadedAt());
                ps.executeUpdate();
            }
            return bundle(c, b.sha256());
        });
    }

    private static Bundle bundle(Connection c, String sha256) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sha256, bsn, version, size, uploaded_at FROM bundles WHERE sha256 = ?")) {
            ps.setString(1, sha256);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Bundle(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5)) : null;
            }
        }
    }

    public Bundle bundle(String sha256) {
        return read(c -> bundle(c, sha256));
    }

    public List<Bundle> bundles() {
        return read(c -> {
            List<Bundle> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                "SELECT sha256, bsn, version, size, uploaded_at FROM bundles ORDER BY uploaded_at, sha256");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Bundle(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5)));
            }
            return out;
        });
    }
}
