package agent.core.internal.main;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.logging.Logger;

import agent.api.Event;
import agent.api.Result;
import agent.api.Status;
import agent.core.internal.config.AgentConfig;
import agent.core.internal.config.ConfigException;
import agent.core.internal.dispatch.Dispatcher;
import agent.store.CommandStore;
import agent.store.Destination;
import agent.transport.DocumentException;
import agent.transport.Documents;
import agent.transport.TaskFile;

/**
 * Offline mode: runs a task file through the same store and dispatcher as server commands, one command after another
 * in file order (unless the file says {@code "parallel": true}), and writes the report of docs/protocol.md §8 with the
 * events recorded meanwhile. Ids already in the store are not run again: their stored results go into the report.
 */
final class OfflineRunner {
    private static final Logger LOG = Logger.getLogger("agent.core.offline");

    private OfflineRunner() {}

    /** @return 0 if every command succeeded, 1 otherwise */
    static int run(AgentConfig config, Dispatcher dispatcher, CommandStore store, Documents documents, Path tasks, Path report)
            throws ConfigException, IOException, InterruptedException {
        TaskFile file;
        try {
            file = documents.readTasks(tasks);
        } catch (DocumentException e) {
            throw new ConfigException(e.getMessage());
        }
        long begin = System.nanoTime();
        long known = file.commands().stream().filter(c -> store.get(c.id()).isPresent()).count(); // answered from the store
        List<CompletableFuture<Result>> futures = file.parallel()
            ? dispatcher.submitAll(file.commands(), Destination.OFFLINE)
            : dispatcher.submitInOrder(file.commands(), Destination.OFFLINE);
        List<Result> results = new ArrayList<>();
        boolean allSucceeded = true;
        for (CompletableFuture<Result> f : futures) {
            Result r;
            try {
                r = f.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("a command's result was lost: " + e.getCause(), e.getCause());
            }
            results.add(r);
            allSucceeded &= r.status() == Status.SUCCEEDED;
        }
        List<Event> events = store.events().pending(Integer.MAX_VALUE);
        long elapsedMs = Math.max(1, (System.nanoTime() - begin) / 1_000_000);
        StringWriter text = new StringWriter();
        documents.writeReport(config.agentId, results, events, text);
        if (report == null) {
            System.out.print(text);
            System.out.flush();
        } else {
            writeAtomically(report, text.toString());
        }
        // the report is the delivery of offline results and events
        store.ack(results.stream().map(Result::id).toList());
        store.events().ack(events.stream().map(Event::id).toList());
        int n = file.commands().size();
        LOG.info(() -> "offline: " + n + " commands, " + known + " answered from the store, "
            + (file.parallel() ? "in parallel" : "in order") + ", " + events.size() + " events, in " + elapsedMs + " ms ("
            + n * 1000L / elapsedMs + " commands/s)" + (report == null ? "" : ", report in " + report));
        return allSucceeded ? 0 : 1;
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
