package agent.store.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import agent.store.StoreException;

/** The schema and its migrations; the version is {@code PRAGMA user_version}. */
final class Schema {
    /** Migration i brings a database from version i to version i + 1. Append only; never edit a released step. */
    private static final List<String[]> MIGRATIONS = List.<String[]>of(new String[] {
        "CREATE TABLE commands ("
            + " id TEXT PRIMARY KEY,"
            + " action TEXT NOT NULL,"
            + " params TEXT NOT NULL,"
            + " timeout_seconds INTEGER,"
            + " issued_at INTEGER,"
            + " expires_at INTEGER,"
            + " source TEXT NOT NULL,"
            + " status TEXT NOT NULL,"
            + " received_at INTEGER NOT NULL,"
            + " started_at INTEGER,"
            + " finished_at INTEGER,"
            + " exit_code INTEGER,"
            + " output TEXT,"
            + " output_truncated INTEGER NOT NULL DEFAULT 0,"
            + " error TEXT,"
            + " data TEXT,"
            + " delivered INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX commands_by_status ON commands(status)",
        "CREATE INDEX commands_by_received ON commands(received_at)",
        "CREATE INDEX commands_outbox ON commands(finished_at) WHERE delivered = 0 AND finished_at IS NOT NULL"
    }, new String[] {
        // agent.api 1.2: dry runs and machine-readable error codes
        "ALTER TABLE commands ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE commands ADD COLUMN error_code TEXT",
        // the result a running command asked for if the agent stops (a reboot it requested)
        "ALTER TABLE commands ADD COLUMN on_restart TEXT",
        // events waiting for the server (docs/protocol.md §9); seq keeps their order
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
            + " time INTEGER NOT NULL, data TEXT)",
        "CREATE INDEX events_by_time ON events(time)"
    });

    static final int CURRENT = MIGRATIONS.size();

    private Schema() {}

    static void migrate(Connection c, String file) throws SQLException {
        int version;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            version = rs.next() ? rs.getInt(1) : 0;
        }
        if (version > CURRENT) {
            throw new StoreException("database " + file + " has schema version " + version
                + ", newer than this agent supports (" + CURRENT + "); upgrade the agent or move the file away");
        }
        for (int v = version; v < CURRENT; v++) {
            try (Statement s = c.createStatement()) {
                for (String sql : MIGRATIONS.get(v)) s.executeUpdate(sql);
                s.executeUpdate("PRAGMA user_version = " + (v + 1));
            }
            c.commit();
        }
    }
}
