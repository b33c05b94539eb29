package agent.store.internal;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import agent.api.Command;
import agent.store.Destination;

/** Run in a child JVM by the crash test: leaves one command running and one received, then waits to be killed. */
public final class StoreCrashChild {
    public static void main(String[] args) throws Exception {
        SqliteCommandStore store = SqliteCommandStore.open(Path.of(args[0]));
        store.admit(new Command("running-1", "agent.ping", Map.of("sleepMs", 60000L), null, Instant.now(), null), Destination.SERVER);
        store.markRunning("running-1", Instant.now());
        store.admit(new Command("queued-1", "agent.ping", Map.of(), null, Instant.now(), null), Destination.SERVER);
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(120_000);
    }
}
