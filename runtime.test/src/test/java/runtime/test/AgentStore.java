package runtime.test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;

/** A running agent's command store, read (never written) from a test: what the agent has recorded. */
final class AgentStore {
    private AgentStore() {}

    /** Waits until the agent has recorded a finished result for the command; returns its status. */
    static String awaitFinished(Path dataDir, String id, Duration limit) throws Exception {
        Path db = dataDir.resolve("commands.db");
        long end = System.nanoTime() + limit.toNanos();
        String last = "no command store at " + db;
        while (System.nanoTime() < end) {
            if (Files.exists(db)) {
                // read-only: a reader of a WAL database neither blocks the agent's writes nor changes the file
                try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
                     PreparedStatement q = c.prepareStatement("SELECT status, finished_at FROM commands WHERE id = ?")) {
                    q.setString(1, id);
                    try (ResultSet r = q.executeQuery()) {
                        if (r.next()) {
                            if (r.getObject("finished_at") != null) return r.getString("status");
                            last = "command " + id + " is " + r.getString("status");
                        } else {
                            last = "no command " + id + " in " + db;
                        }
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the agent recorded no result for " + id + " within " + limit + ": " + last);
    }
}
