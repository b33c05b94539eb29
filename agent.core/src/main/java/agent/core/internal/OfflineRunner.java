package agent.core.internal;

import agent.transport.Frames;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.logging.Logger;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;

/**
 * Offline mode: runs a task file ({@code {"commands": [...]}}) through the same store and dispatcher as server
 * commands and writes the report of PROTOCOL.md §8. Ids already in the store are not run again: their stored
 * results go into the report.
 */
final class OfflineRunner {
    private static final Logger LOG = Logger.getLogger("agent.core.offline");

    private OfflineRunner() {}

    /** @return 0 if every command succeeded, 1 otherwise */
    static int run(AgentRuntime rt, Path tasks, Path report) throws ConfigException, IOException, InterruptedException {
        List<Command> commands = readTasks(tasks);
        long begin = System.nanoTime();
        List<CompletableFuture<Result>> futures = new ArrayList<>();
        int duplicates = 0;
        for (Command c : commands) {
            Dispatcher.Submission s = rt.dispatcher.submit(c, "offline");
            if (s.kind != agent.store.Admission.Kind.NEW) duplicates++;
            futures.add(s.result);
        }
        JsonArray results = new JsonArray();
        List<String> ids = new ArrayList<>();
        boolean allSucceeded = true;
        for (CompletableFuture<Result> f : futures) {
            Result r;
            try {
                r = f.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a command's result was lost: " + e.getCause(), e.getCause());
            }
            results.add(Frames.result(r));
            ids.add(r.id());
            allSucceeded &= r.status() == Status.SUCCEEDED;
        }
        long elapsedMs = Math.max(1, (System.nanoTime() - begin) / 1_000_000);
        JsonObject doc = new JsonObject();
        doc.addProperty("agentId", rt.agentId);
        doc.add("results", results);
        doc.add("events", new JsonArray());
        String text = Frames.PRETTY.toJson(doc) + "\n";
        if (report == null) {
            System.out.print(text);
            System.out.flush();
        } else {
            writeAtomically(report, text);
        }
        // the report is the delivery of offline results
        rt.store.ack(ids);
        int dup = duplicates;
        LOG.info(() -> "offline: " + commands.size() + " commands, " + dup + " answered from the store, in "
            + elapsedMs + " ms (" + commands.size() * 1000L / elapsedMs + " commands/s)"
            + (report == null ? "" : ", report in " + report));
        return allSucceeded ? 0 : 1;
    }

    static List<Command> readTasks(Path tasks) throws ConfigException {
        JsonElement doc;
        try (Reader r = Files.newBufferedReader(tasks, StandardCharsets.UTF_8)) {
            doc = Frames.parse(r, "tasks file " + tasks);
        } catch (Frames.FrameException e) {
            throw new ConfigException(e.getMessage());
        } catch (IOException e) {
            throw new ConfigException("cannot read tasks file " + tasks + ": " + e.getMessage());
        }
        String where = "tasks file " + tasks;
        if (!doc.isJsonObject() || !doc.getAsJsonObject().has("commands")
            || !doc.getAsJsonObject().get("commands").isJsonArray()) {
            throw new ConfigException(where + " must be {\"commands\": [command, ...]}");
        }
        List<Command> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        JsonArray arr = doc.getAsJsonObject().getAsJsonArray("commands");
        for (int i = 0; i < arr.size(); i++) {
            try {
                Command c = Frames.command(arr.get(i), "commands[" + i + "]");
                if (!seen.add(c.id())) throw new ConfigException(where + ": commands[" + i + "].id '" + c.id() + "' appears twice");
                out.add(c);
            } catch (Frames.FrameException e) {
                throw new ConfigException(where + ": " + e.getMessage());
            }
        }
        return out;
    }

    private static void writeAtomically(Path target, String text) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".report-", ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            w.write(text);
        }
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
