package plugin.files.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import agent.api.AgentPaths;
import agent.api.CommandHandler;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/**
 * A temp tree for the file actions: {@code allowed/} (the only allowed prefix), {@code outside/} (next to it, never to
 * be written) and an agent data dir inside {@code allowed/} (which the agent's own rule must still refuse).
 */
final class Sandbox implements AgentPaths {
    final Path root;
    final Path allowed;
    final Path outside;
    final Path data;
    final Path scripts;
    final Path controlDir;

    Sandbox(Path tmp) throws IOException {
        // the real path: a temp dir reached through a link would otherwise fail the policy's real-path check
        root = tmp.toRealPath();
        allowed = Files.createDirectories(root.resolve("allowed"));
        outside = Files.createDirectories(root.resolve("outside"));
        data = Files.createDirectories(allowed.resolve("agent-data"));
        scripts = Files.createDirectories(allowed.resolve("agent-scripts"));
        controlDir = allowed.resolve("agent-run"); // made by the test that needs it: other tests list allowed/
    }

    @Override
    public Path dataDir() { return data; }

    @Override
    public Path pluginDir(String name) { return data.resolve("plugins-data").resolve(name); }

    @Override
    public Path scriptsDir() { return scripts; }

    @Override
    public Path runDir() { return controlDir; }

    TestContext ctx(String action, Map<String, ?> params) {
        return TestContext.forAction(action).params(params).setting("allow", List.of(allowed.toString()));
    }

    Outcome put(Map<String, ?> params) { return ctx("file.put", params).run(put()); }

    Outcome putDry(Map<String, ?> params) { return ctx("file.put", params).dryRun(true).run(put()); }

    FilePut put() {
        FilePut h = new FilePut();
        h.paths = this;
        return h;
    }

    FileReader reader() {
        FileReader h = new FileReader();
        h.paths = this;
        return h;
    }

    FileDelete deleter() {
        FileDelete h = new FileDelete();
        h.paths = this;
        return h;
    }

    Outcome run(String action, Map<String, ?> params, CommandHandler h) { return ctx(action, params).run(h); }

    /** @return every path under the outside dir: the tests' proof that nothing escaped */
    List<Path> outsideContents() throws IOException {
        try (var s = Files.walk(outside)) {
            return s.filter(p -> !p.equals(outside)).toList();
        }
    }
}
