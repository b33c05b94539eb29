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
import java.util.function.ToLongFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

import server.store.Records.Agent;
import server.store.Records.Bundle;
import server.store.Records.Command;
import server.store.Records.Event;
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
    private static final int SCHEMA_VERSION = 3;
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
    private final StoreLimits limits;
    /** What each agent keeps of its own accord (offline results, events); used on the writer thread only. */
    private final Map<String, Usage> usage = new java.util.HashMap<>();

    private ServerStore(Path file, StoreLimits limits) throws SQLException {
        this.limits = limits;
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

    /** Opens (creating or migrating) the store in {@code file}, with the default limits. */
    public static ServerStore open(Path file) throws SQLException {
        return new ServerStore(file, StoreLimits.DEFAULTS);
    }

    /** Opens (creating or migrating) the store in {@code file}. */
    public static ServerStore open(Path file, StoreLimits limits) throws SQLException {
        return new ServerStore(file, limits);
    }

    public StoreLimits limits() {
        return limits;
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
                s.execute("PRAGMA user_version=1");
            }
            if (version < 2) migrateToVersion2(s);
            if (version < 3) migrateToVersion3(s);
            // nobody is connected to a server that is starting
            s.execute("UPDATE agents SET connected = 0 WHERE connected <> 0");
        }
    }

    /**
     * Version 2: a result is keyed by whether it is the result of the server's command (attached) or an agent's own
     * (an offline run's, or an id the server never issued), so that no agent's result can take another command's id
     * (issue 23, item 1); agents' frame limits; dry runs; event ids and times.
     */
    private static void migrateToVersion2(Statement s) throws SQLException {
        s.execute("""
            CREATE TABLE results_v2 (
              id TEXT NOT NULL,
              agent_id TEXT NOT NULL,
              attached INTEGER NOT NULL,
              by_server INTEGER NOT NULL DEFAULT 0,
              status TEXT NOT NULL,
              result TEXT NOT NULL,
              received_at TEXT NOT NULL,
              PRIMARY KEY (attached, id, agent_id))""");
        // a result stored for an id before its command existed, or under another agent, becomes that agent's own
        s.execute("""
            INSERT INTO results_v2(id, agent_id, attached, status, result, received_at)
              SELECT r.id, r.agent_id, EXISTS (SELECT 1 FROM commands c WHERE c.id = r.id AND c.agent_id = r.agent_id),
                     r.status, r.result, r.received_at FROM results r ORDER BY r.rowid""");
        s.execute("DROP TABLE results");
        s.execute("ALTER TABLE results_v2 RENAME TO results");
        s.execute("CREATE INDEX results_by_agent ON results(agent_id)");
        s.execute("ALTER TABLE agents ADD COLUMN max_frame_bytes INTEGER");
        s.execute("ALTER TABLE commands ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0");
        s.execute("ALTER TABLE events ADD COLUMN event_id TEXT");
        s.execute("ALTER TABLE events ADD COLUMN time_ms INTEGER");
        s.execute("""
            UPDATE events SET time_ms = CAST(1000 * coalesce(unixepoch(time, 'subsec'), unixepoch(received_at, 'subsec')) AS INTEGER)""");
        s.execute("CREATE UNIQUE INDEX events_by_agent_id ON events(agent_id, event_id) WHERE event_id IS NOT NULL");
        s.execute("CREATE INDEX events_by_agent ON events(agent_id)");
        s.execute("PRAGMA user_version=2");
    }

    /**
     * Version 3, for the console (issue 22): runs (the commands of one operator request, watched together), the latest
     * word on each alert (so that open alerts are one indexed read, not a scan of every alert event), the indexes its
     * pages read events by, and its sign-in sessions (so that a server restart signs nobody out).
     */
    private static void migrateToVersion3(Statement s) throws SQLException {
        s.execute("""
            CREATE TABLE runs (
              id TEXT PRIMARY KEY,
              action TEXT,
              params TEXT,
              dry_run INTEGER NOT NULL,
              targets INTEGER NOT NULL,
              all_agents INTEGER NOT NULL,
              created_at TEXT NOT NULL)""");
        s.execute("ALTER TABLE commands ADD COLUMN run_id TEXT");
        s.execute("CREATE INDEX commands_by_run ON commands(run_id) WHERE run_id IS NOT NULL");
        s.execute("""
            CREATE TABLE alerts (
              agent_id TEXT NOT NULL,
              alert TEXT NOT NULL,
              subject TEXT NOT NULL,
              state TEXT NOT NULL,
              data TEXT NOT NULL,
              seq INTEGER NOT NULL,
              PRIMARY KEY (agent_id, alert, subject))""");
        s.execute("CREATE INDEX alerts_by_state ON alerts(state, seq)");
        // the alerts the store holds already, the latest event of each winning
        s.execute("""
            INSERT INTO alerts(agent_id, alert, subject, state, data, seq)
              SELECT agent_id, json_extract(event, '$.data.alert'), coalesce(json_extract(event, '$.data.subject'), ''),
                     coalesce(json_extract(event, '$.data.state'), ''), json_extract(event, '$.data'), seq
              FROM events WHERE kind = 'alert' AND json_valid(event) AND json_type(event, '$.data.alert') = 'text' ORDER BY seq
            ON CONFLICT(agent_id, alert, subject) DO UPDATE SET state = excluded.state, data = excluded.data, seq = excluded.seq""");
        s.execute("CREATE INDEX events_by_agent_kind ON events(agent_id, kind, time_ms)");
        s.execute("CREATE INDEX events_by_kind ON events(kind, seq)");
        s.execute("""
            CREATE TABLE console_sessions (
              id_hash TEXT PRIMARY KEY,
              csrf TEXT NOT NULL,
              created_ms INTEGER NOT NULL,
              used_ms INTEGER NOT NULL)""");
        s.execute("PRAGMA user_version=3");
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

    /** Writes queued and not yet taken by the writer (for tests and metrics). */
    public int queuedWrites() {
        return queue.size();
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
                    usage.clear(); // counted for a write that is undone: read again when next needed
                }
            }
            Throwable commitFailure = null;
            try {
                writerConnection.commit();
            } catch (SQLException e) {
                commitFailure = e;
                usage.clear();
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
        return read(c -> agent(c, agentId));
    }

    /** The agent, or null when it is not enrolled. */
    public static Agent agent(Connection c, String agentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + AGENT_COLUMNS + " FROM agents WHERE agent_id = ?")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? agent(rs) : null;
            }
        }
    }

    private static final String AGENT_COLUMNS =
        "agent_id, hostname, machine_id, hello, plugins, transport, connected, last_seen, enrolled_at, max_frame_bytes";

    private static Agent agent(ResultSet rs) throws SQLException {
        int limit = rs.getInt(10);
        Integer maxFrameBytes = rs.wasNull() ? null : limit;
        return new Agent(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
            rs.getString(6), rs.getInt(7) != 0, rs.getString(8), rs.getString(9), maxFrameBytes);
    }

    /** What a hello says about its agent (null fields keep what was known, except the frame limit: see below). */
    public record HelloRecord(String json, String hostname, String plugins, Integer maxFrameBytes) {}

    /**
     * Records an agent's hello (WebSocket or check-in) and returns what it is to be sent: its queued and
     * dispatched-but-not-accepted commands, oldest first (now marked dispatched), and the ids to cancel (to be
     * sent after the commands). Commands whose frame is over the agent's limit are ended instead (see {@link #pending}).
     */
    public Tx<Pending> hello(String agentId, HelloRecord hello, String transport, boolean connected,
                             ToLongFunction<Command> frameBytes, String now) {
        return c -> {
            updateHello(c, agentId, hello, transport, connected, now);
            return pending(c, agentId, frameBytes, now);
        };
    }

    /**
     * Records what a hello says about the agent. A hello without {@code maxFrameBytes} comes from an agent that
     * predates it: the default limit applies again (docs/protocol.md §3).
     */
    public static void updateHello(Connection c, String agentId, HelloRecord hello, String transport, boolean connected,
                                   String now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
            UPDATE agents SET hello = coalesce(?, hello), hostname = coalesce(?, hostname),
              plugins = coalesce(?, plugins), max_frame_bytes = ?, transport = ?, connected = ?, last_seen = ? WHERE agent_id = ?""")) {
            ps.setString(1, hello.json());
            ps.setString(2, hello.hostname());
            ps.setString(3, hello.plugins());
            if (hello.maxFrameBytes() == null) ps.setNull(4, Types.INTEGER);
            else ps.setInt(4, hello.maxFrameBytes());
            ps.setString(5, transport);
            ps.setInt(6, connected ? 1 : 0);
            ps.setString(7, now);
            ps.setString(8, agentId);
            ps.executeUpdate();
        }
    }

    /** The check-in form of {@link #hello}: marks the agent seen, then lists what it is to get. */
    public Tx<Pending> pendingFor(String agentId, ToLongFunction<Command> frameBytes, String now) {
        return c -> {
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE agents SET last_seen = ?, transport = 'poll' WHERE agent_id = ?")) {
                ps.setString(1, now);
                ps.setString(2, agentId);
                ps.executeUpdate();
            }
            return pending(c, agentId, frameBytes, now);
        };
    }

    /**
     * What the agent is to be sent now, oldest first: queued and dispatched-but-not-accepted commands, and those
     * the operator cancelled after they were dispatched (the agent may have them: each goes again, followed by its
     * cancel, until the agent answers with its own result). A command whose frame is over the agent's limit is never
     * sent, so it cannot block those behind it: a queued or dispatched one ends {@code undeliverable}, with a
     * result the server makes (in {@link Pending#ended()}).
     *
     * @param frameBytes the size of a command's frame in UTF-8 bytes
     */
    public static Pending pending(Connection c, String agentId, ToLongFunction<Command> frameBytes, String now) throws SQLException {
        Agent agent = agent(c, agentId);
        int limit = agent == null ? Records.DEFAULT_MAX_FRAME_BYTES : agent.frameLimit();
        List<Command> commands = new ArrayList<>();
        List<Command> tooBig = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COMMAND_COLUMNS + " FROM commands WHERE agent_id = ?"
            + " AND (state IN ('queued', 'dispatched') OR state = 'cancelled' AND cancel_requested = " + CANCEL_REQUESTED + ") ORDER BY rowid")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Command cmd = command(rs);
                    (fits(cmd, limit, frameBytes) ? commands : tooBig).add(cmd);
                }
            }
        }
        List<Result> ended = new ArrayList<>();
        List<String> cancelOnce = new ArrayList<>();
        for (Command cmd : tooBig) {
            if (State.CANCELLED.equals(cmd.state())) {
                // already ended; the agent cannot have got a frame this big: its cancel goes once, and no more
                cancelOnce.add(cmd.id());
                update(c, "UPDATE commands SET cancel_requested = " + CANCEL_NONE + " WHERE id = ?", cmd.id());
            } else {
                Result r = endUndeliverable(c, cmd, frameBytes.applyAsLong(cmd), limit, now);
                if (r != null) ended.add(r);
            }
        }
        List<String> cancels = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM commands WHERE agent_id = ? AND cancel_requested <> 0"
            + " AND state IN ('dispatched', 'accepted', 'cancelled') ORDER BY rowid")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) cancels.add(rs.getString(1));
            }
        }
        cancels.addAll(cancelOnce);
        boolean anyQueued = false;
        for (Command cmd : commands) anyQueued |= State.QUEUED.equals(cmd.state());
        if (anyQueued) {
            try (PreparedStatement ps = c.prepareStatement(
                "UPDATE commands SET state = 'dispatched' WHERE agent_id = ? AND state = 'queued'")) {
                ps.setString(1, agentId);
                ps.executeUpdate();
            }
        }
        return new Pending(commands, cancels, ended);
    }

    /** Whether a command's frame is within {@code limit}; most commands are small enough to need no counting. */
    public static boolean fits(Command cmd, int limit, ToLongFunction<Command> frameBytes) {
        long roughChars = 256L + cmd.id().length() + cmd.action().length() + cmd.params().length();
        // a char takes at most 3 bytes of UTF-8 (a surrogate pair 4 bytes for 2 chars)
        return roughChars * 3 <= limit || frameBytes.applyAsLong(cmd) <= limit;
    }

    /**
     * Ends a command that can never be delivered to its agent (its frame is over the agent's limit): state
     * {@code undeliverable}, and a result the server makes, so waits end and the operator sees why.
     *
     * @return that result, or null if the command got further meanwhile
     */
    public static Result endUndeliverable(Connection c, Command cmd, long bytes, int limit, String now) throws SQLException {
        int changed;
        try (PreparedStatement ps = c.prepareStatement(
            "UPDATE commands SET state = 'undeliverable' WHERE id = ? AND state IN ('queued', 'dispatched')")) {
            ps.setString(1, cmd.id());
            changed = ps.executeUpdate();
        }
        if (changed == 0) return null;
        LOG.warning(() -> "command " + cmd.id() + " (" + cmd.action() + ") for agent " + cmd.agentId() + " is undeliverable: its frame is "
            + bytes + " bytes, over the agent's limit of " + limit);
        return storeServerResult(c, cmd, "rejected", "invalid_command", "not delivered: the command frame is " + bytes
            + " bytes, over agent '" + cmd.agentId() + "''s frame limit of " + limit + " bytes (maxFrameBytes)", now);
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

    private static void update(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            ps.executeUpdate();
        }
    }

    // ---------------------------------------------------------------- commands

    private static final String COMMAND_COLUMNS = "id, agent_id, action, params, timeout_seconds, issued_at, expires_at, state,"
        + " cancel_requested, created_at, dry_run";

    private static Command command(ResultSet rs) throws SQLException {
        int t = rs.getInt(5);
        Integer timeout = rs.wasNull() ? null : t;
        return new Command(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), timeout,
            rs.getString(6), rs.getString(7), rs.getString(8), rs.getInt(9) != 0, rs.getString(10), rs.getInt(11) != 0);
    }

    /** Every enrolled agent, in enrolment order. */
    public static List<Agent> allAgents(Connection c) throws SQLException {
        List<Agent> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + AGENT_COLUMNS + " FROM agents ORDER BY enrolled_at, agent_id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.add(agent(rs));
        }
        return out;
    }

    public static Command command(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COMMAND_COLUMNS + " FROM commands WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? command(rs) : null;
            }
        }
    }

    /** Inserts queued commands, all issued (and created) at {@code now}, with no run. */
    public static void insertCommands(Connection c, Collection<NewCommand> commands, String now) throws SQLException {
        insertCommands(c, commands, now, null);
    }

    /**
     * A run: the commands one operator request made, which the console shows together (counts by status, the slowest
     * agents). {@code action} and {@code params} are null when the request mixed actions.
     */
    public record Run(String id, String action, String params, boolean dryRun, int targets, boolean allAgents, String createdAt) {}

    /** Records a run; insert its commands with {@link #insertCommands(Connection, Collection, String, String)}. */
    public static void insertRun(Connection c, Run run) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO runs(id, action, params, dry_run, targets, all_agents, created_at)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, run.id());
            ps.setString(2, run.action());
            ps.setString(3, run.params());
            ps.setInt(4, run.dryRun() ? 1 : 0);
            ps.setInt(5, run.targets());
            ps.setInt(6, run.allAgents() ? 1 : 0);
            ps.setString(7, run.createdAt());
            ps.executeUpdate();
        }
    }

    /** The run every one of these commands is part of, or null when they are of none or of different runs. */
    public static String sharedRunId(Connection c, Collection<String> commandIds) throws SQLException {
        String shared = null;
        try (PreparedStatement ps = c.prepareStatement("SELECT run_id FROM commands WHERE id = ?")) {
            for (String id : commandIds) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    String run = rs.next() ? rs.getString(1) : null;
                    if (run == null || (shared != null && !shared.equals(run))) return null;
                    shared = run;
                }
            }
        }
        return shared;
    }

    /** Inserts queued commands, all issued (and created) at {@code now}, as part of run {@code runId} (null for none). */
    public static void insertCommands(Connection c, Collection<NewCommand> commands, String now, String runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO commands(id, agent_id, action, params, timeout_seconds,"
            + " issued_at, expires_at, state, created_at, dry_run, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)")) {
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
                ps.setInt(9, n.dryRun() ? 1 : 0);
                ps.setString(10, runId);
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

    /**
     * The agent has durably recorded these commands. Ids of other agents' commands are ignored. A command the operator
     * cancelled before this came stays cancelled, but need not go again: only its cancel does ({@link #CANCEL_ONLY}).
     */
    public static Tx<Void> accepted(String agentId, Collection<String> ids) {
        return c -> {
            // one statement per id, as before cancels could end a dispatched command
            try (PreparedStatement ps = c.prepareStatement("UPDATE commands SET"
                + " state = CASE state WHEN 'cancelled' THEN state ELSE 'accepted' END,"
                + " cancel_requested = CASE state WHEN 'cancelled' THEN " + CANCEL_ONLY + " ELSE cancel_requested END"
                + " WHERE id = ? AND agent_id = ? AND (state IN ('queued', 'dispatched')"
                + " OR state = 'cancelled' AND cancel_requested = " + CANCEL_REQUESTED + ")")) {
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
     * Values of {@code commands.cancel_requested}: none; requested (a cancelled command that was dispatched goes again
     * with its cancel, as it may never have arrived); requested and the agent has the command (only the cancel goes).
     */
    static final int CANCEL_NONE = 0;
    static final int CANCEL_REQUESTED = 1;
    static final int CANCEL_ONLY = 2;

    /** A cancel's outcome: the command after it, and the result the server made if the cancel ended it. */
    public record Cancelled(Command command, Result made) {}

    /**
     * The operator's cancel. A command the agent has not accepted ends here and now: state {@code cancelled} with a
     * result the server makes. A queued one was never sent; a dispatched one may have reached the agent, so it goes
     * again followed by its cancel (see {@link #pending}) and the agent's own result, when it comes, replaces the
     * server's. An accepted one is marked for cancelling on the agent, which answers with its result.
     *
     * @return the outcome, or null if there is no such id
     */
    public static Tx<Cancelled> cancel(String id, java.util.function.Consumer<Command> refuse, String now) {
        return c -> {
            Command cmd = command(c, id);
            if (cmd == null) return null;
            refuse.accept(cmd);
            Result made = null;
            switch (cmd.state()) {
                case State.QUEUED -> {
                    update(c, "UPDATE commands SET state = 'cancelled' WHERE id = ?", id);
                    made = storeServerResult(c, cmd, "cancelled", "cancelled",
                        "cancelled by the operator before it was sent to agent '" + cmd.agentId() + "'", now);
                }
                case State.DISPATCHED -> {
                    update(c, "UPDATE commands SET state = 'cancelled', cancel_requested = " + CANCEL_REQUESTED + " WHERE id = ?", id);
                    made = storeServerResult(c, cmd, "cancelled", "cancelled", "cancelled by the operator before agent '"
                        + cmd.agentId() + "' accepted it (if it has it, its cancel goes to it and its own result replaces this one)", now);
                }
                default -> update(c, "UPDATE commands SET cancel_requested = " + CANCEL_REQUESTED + " WHERE id = ?", id);
            }
            return new Cancelled(command(c, id), made);
        };
    }

    // ---------------------------------------------------------------- results

    /**
     * A result the server makes for a command that will not run (cancelled before the agent accepted it, or
     * undeliverable): docs/protocol.md's result object, marked as the server's so that the agent's own, if it ever
     * comes, replaces it.
     */
    private static Result storeServerResult(Connection c, Command cmd, String status, String errorCode, String error,
                                            String now) throws SQLException {
        com.google.gson.JsonObject o = new com.google.gson.JsonObject();
        o.addProperty("id", cmd.id());
        o.addProperty("status", status);
        o.addProperty("output", "");
        o.addProperty("outputTruncated", false);
        o.addProperty("error", error);
        o.addProperty("errorCode", errorCode);
        o.addProperty("finishedAt", now);
        String json = o.toString();
        try (PreparedStatement ps = c.prepareStatement("INSERT OR IGNORE INTO results(id, agent_id, attached, by_server, status,"
            + " result, received_at) VALUES (?, ?, 1, 1, ?, ?, ?)")) {
            ps.setString(1, cmd.id());
            ps.setString(2, cmd.agentId());
            ps.setString(3, status);
            ps.setString(4, json);
            ps.setString(5, now);
            if (ps.executeUpdate() == 0) return null;
        }
        return new Result(cmd.id(), cmd.agentId(), status, json, now, true);
    }

    /**
     * Stores one result (docs/protocol.md §3, §6), idempotently. It attaches to the server's command {@code id} only
     * if that command was issued to this agent; a result for an id the server never issued is the agent's own (an
     * offline result) and never answers for a command, now or later. A copy of a stored result is not stored again,
     * except that the agent's own result replaces one the server made (a command cancelled before it was accepted).
     *
     * @param offline the result comes from an offline report (§8): it never attaches to a command
     */
    public ResultOutcome storeResult(Connection c, String agentId, String id, String status, String resultJson, String now,
                                     boolean offline) throws SQLException {
        String owner = null;
        String action = null;
        if (!offline) {
            try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, action FROM commands WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        owner = rs.getString(1);
                        action = rs.getString(2);
                    }
                }
            }
            if (owner != null && !owner.equals(agentId)) return ResultOutcome.FOREIGN;
        }
        boolean attached = owner != null;
        long bytes = 0;
        if (!attached) {
            if (offlineResultExists(c, agentId, id)) return ResultOutcome.DUPLICATE;
            bytes = utf8Length(resultJson);
            Usage u = usage(c, agentId);
            if (u.offlineResults + 1 > limits.maxOfflineResults() || u.offlineResultBytes + bytes > limits.maxOfflineResultBytes()) {
                return ResultOutcome.OVER_QUOTA;
            }
        }
        int inserted;
        try (PreparedStatement ps = c.prepareStatement("INSERT OR IGNORE INTO results(id, agent_id, attached, status, result,"
            + " received_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, id);
            ps.setString(2, agentId);
            ps.setInt(3, attached ? 1 : 0);
            ps.setString(4, status);
            ps.setString(5, resultJson);
            ps.setString(6, now);
            inserted = ps.executeUpdate();
        }
        if (!attached) {
            Usage u = usage(c, agentId);
            u.offlineResults++;
            u.offlineResultBytes += bytes;
            return ResultOutcome.STORED_OFFLINE;
        }
        if (inserted == 0) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE results SET by_server = 0, status = ?, result = ?, received_at = ?"
                + " WHERE attached = 1 AND id = ? AND agent_id = ? AND by_server = 1")) {
                ps.setString(1, status);
                ps.setString(2, resultJson);
                ps.setString(3, now);
                ps.setString(4, id);
                ps.setString(5, agentId);
                if (ps.executeUpdate() == 0) return ResultOutcome.DUPLICATE;
            }
        }
        update(c, "UPDATE commands SET state = 'done' WHERE id = ? AND state <> 'done'", id);
        if (action.startsWith("plugin.") && "succeeded".equals(status)) PluginLists.apply(c, agentId, id, action, resultJson);
        return ResultOutcome.STORED;
    }

    /** Whether this agent has an offline result under {@code id}. */
    private static boolean offlineResultExists(Connection c, String agentId, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM results WHERE attached = 0 AND id = ? AND agent_id = ?")) {
            ps.setString(1, id);
            ps.setString(2, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static final String RESULT_COLUMNS = "id, agent_id, status, result, received_at, attached";

    private static Result result(ResultSet rs) throws SQLException {
        return new Result(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getInt(6) != 0);
    }

    /** The result of the server's command {@code id}, or null. */
    public Result result(String id) {
        return read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RESULT_COLUMNS + " FROM results WHERE attached = 1 AND id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? result(rs) : null;
                }
            }
        });
    }

    /** Commands' and offline results, newest first; {@code agentId} null for all agents. */
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

    /** The stored results of the server's commands among these command ids (any order). */
    public List<Result> results(Collection<String> ids) {
        return read(c -> {
            List<Result> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RESULT_COLUMNS + " FROM results WHERE attached = 1 AND id = ?")) {
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

    // ---------------------------------------------------------------- events

    /** An event as received (docs/protocol.md §9); {@code id} null from an agent that predates event ids. */
    public record NewEvent(String id, String kind, String time, long timeMillis, String json) {}

    /**
     * Stores one event. One with an id is stored once per agent (a re-sent copy is not stored again); one without
     * (an older agent) is stored each time. The agent's events are a window: beyond {@link StoreLimits#maxEvents()}
     * or {@link StoreLimits#maxEventBytes()} its oldest are deleted.
     *
     * @return whether it was stored now (false: a copy of a stored one)
     */
    public boolean storeEvent(Connection c, String agentId, NewEvent e, String now) throws SQLException {
        long bytes = utf8Length(e.json());
        int inserted;
        try (PreparedStatement ps = c.prepareStatement("INSERT OR IGNORE INTO events(agent_id, event_id, kind, time, time_ms, event,"
            + " received_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, agentId);
            ps.setString(2, e.id());
            ps.setString(3, e.kind());
            ps.setString(4, e.time());
            ps.setLong(5, e.timeMillis());
            ps.setString(6, e.json());
            ps.setString(7, now);
            inserted = ps.executeUpdate();
        }
        if (inserted == 0) return false;
        if ("alert".equals(e.kind())) recordAlert(c, agentId, e.json());
        Usage u = usage(c, agentId);
        u.events++;
        u.eventBytes += bytes;
        if (u.events > limits.maxEvents() || u.eventBytes > limits.maxEventBytes()) pruneEvents(c, agentId, u);
        return true;
    }

    /**
     * Keeps the latest word on the alert an {@code alert} event speaks of (plugin.health: {@code data.alert},
     * {@code data.subject}, {@code data.state}), so that the open alerts of one agent or of the fleet are one indexed
     * read. Called for the event just inserted: its seq is the last insert's rowid.
     */
    private static void recordAlert(Connection c, String agentId, String eventJson) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
            INSERT INTO alerts(agent_id, alert, subject, state, data, seq)
              SELECT ?, json_extract(e, '$.data.alert'), coalesce(json_extract(e, '$.data.subject'), ''),
                     coalesce(json_extract(e, '$.data.state'), ''), json_extract(e, '$.data'), last_insert_rowid()
              FROM (SELECT ? AS e) WHERE json_valid(e) AND json_type(e, '$.data.alert') = 'text'
            ON CONFLICT(agent_id, alert, subject) DO UPDATE SET state = excluded.state, data = excluded.data, seq = excluded.seq""")) {
            ps.setString(1, agentId);
            ps.setString(2, eventJson);
            ps.executeUpdate();
        }
    }

    /**
     * Deletes an agent's oldest events until it holds at most 90 % of each bound, so that the deleting is paid
     * once every many events rather than at each one.
     */
    private void pruneEvents(Connection c, String agentId, Usage u) throws SQLException {
        long keepCount = limits.maxEvents() - limits.maxEvents() / 10;
        long keepBytes = limits.maxEventBytes() - limits.maxEventBytes() / 10;
        long count = u.events;
        long bytes = u.eventBytes;
        long lastSeq = -1;
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT seq, length(CAST(event AS BLOB)) FROM events WHERE agent_id = ? ORDER BY seq")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                while ((count > keepCount || bytes > keepBytes) && rs.next()) {
                    lastSeq = rs.getLong(1);
                    count--;
                    bytes -= rs.getLong(2);
                }
            }
        }
        if (lastSeq < 0) return;
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM events WHERE agent_id = ? AND seq <= ?")) {
            ps.setString(1, agentId);
            ps.setLong(2, lastSeq);
            int deleted = ps.executeUpdate();
            long kept = count;
            LOG.fine(() -> "agent " + agentId + ": dropped its " + deleted + " oldest events (" + kept + " kept)");
        }
        u.events = count;
        u.eventBytes = bytes;
    }

    /**
     * Events, filtered: newest first, or with {@code afterSeq} (a cursor) the ones stored after it, oldest first.
     *
     * @param agentId   null for every agent
     * @param kind      null for every kind
     * @param sinceMillis events whose time (the agent's, else the server's at receipt) is at least this; null for all
     * @param afterSeq  null for the newest
     */
    public List<Event> events(String agentId, String kind, Long sinceMillis, Long afterSeq, int limit) {
        StringBuilder sql = new StringBuilder("SELECT seq, agent_id, event, received_at FROM events WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (agentId != null) {
            sql.append(" AND agent_id = ?");
            args.add(agentId);
        }
        if (kind != null) {
            sql.append(" AND kind = ?");
            args.add(kind);
        }
        if (sinceMillis != null) {
            sql.append(" AND time_ms >= ?");
            args.add(sinceMillis);
        }
        if (afterSeq != null) {
            sql.append(" AND seq > ? ORDER BY seq");
            args.add(afterSeq);
        } else {
            sql.append(" ORDER BY seq DESC");
        }
        sql.append(" LIMIT ?");
        args.add(limit);
        return read(c -> {
            List<Event> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(new Event(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
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

    // ---------------------------------------------------------------- what each agent keeps of its own accord

    /** Counted in memory on the writer thread, read from the store the first time an agent needs it. */
    private static final class Usage {
        long offlineResults;
        long offlineResultBytes;
        long events;
        long eventBytes;
    }

    private Usage usage(Connection c, String agentId) throws SQLException {
        Usage u = usage.get(agentId);
        if (u != null) return u;
        u = new Usage();
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT count(*), coalesce(sum(length(CAST(result AS BLOB))), 0) FROM results WHERE agent_id = ? AND attached = 0")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                u.offlineResults = rs.getLong(1);
                u.offlineResultBytes = rs.getLong(2);
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT count(*), coalesce(sum(length(CAST(event AS BLOB))), 0) FROM events WHERE agent_id = ?")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                u.events = rs.getLong(1);
                u.eventBytes = rs.getLong(2);
            }
        }
        usage.put(agentId, u);
        return u;
    }

    /** The UTF-8 size of {@code s}, without encoding it. */
    public static long utf8Length(String s) {
        long n = s.length();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch >= 0x80) {
                if (ch < 0x800) {
                    n += 1;
                } else if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    n += 2; // a pair: 4 bytes for its 2 chars
                    i++;
                } else {
                    n += 2;
                }
            }
        }
        return n;
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
