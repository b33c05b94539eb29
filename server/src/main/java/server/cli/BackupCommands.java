package server.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code outpostctl backups}: what agents keep on this server (plugin.backup's {@code destination: "server"}). */
final class BackupCommands {
    private BackupCommands() {}

    /** How much of a sha256 the table shows: enough to tell backups apart and to find one in a record. */
    static final int SHA_PREFIX = 12;

    @Command(name = "backups", description = {"The backups agents keep on this server, newest first: a table of agent, name, size"
        + " (bytes), sha256 (first " + SHA_PREFIX + " digits) and when it was received.", "--json prints the records whole."})
    static final class Backups implements Callable<Integer> {
        @Mixin OutpostCtl.Connection conn;
        @Spec CommandLine.Model.CommandSpec spec;
        @Option(names = "--agent", paramLabel = "A", description = "only this agent's") String agent;
        @Option(names = "--json", description = "print {\"backups\": [record, ...]} as the server gives it") boolean json;

        @Override
        public Integer call() throws IOException {
            JsonObject got = conn.client(spec).get("/api/v1/backups" + (agent == null ? "" : "?agent=" + OutpostCtl.encode(agent)))
                .getAsJsonObject();
            if (json) {
                OutpostCtl.printJson(spec, got);
                return 0;
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"AGENT", "NAME", "SIZE", "SHA256", "RECEIVED"});
            for (JsonElement e : got.getAsJsonArray("backups")) {
                JsonObject r = e.getAsJsonObject();
                String sha = r.get("sha256").getAsString();
                rows.add(new String[] {r.get("agentId").getAsString(), r.get("name").getAsString(), Long.toString(r.get("size").getAsLong()),
                    sha.substring(0, Math.min(SHA_PREFIX, sha.length())), r.get("receivedAt").getAsString()});
            }
            table(spec.commandLine().getOut(), rows);
            if (rows.size() == 1) {
                spec.commandLine().getErr().println("outpostctl: no backups" + (agent == null ? "" : " of agent " + agent) + " on this server");
            }
            return 0;
        }
    }

    /** Prints rows in columns as wide as their widest cell, the size column right-aligned. */
    static void table(PrintWriter out, List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                if (i > 0) line.append("  ");
                String pad = " ".repeat(width[i] - row[i].length());
                if (i == 2) line.append(pad).append(row[i]);
                else line.append(row[i]).append(i == row.length - 1 ? "" : pad);
            }
            out.println(line);
        }
    }
}
