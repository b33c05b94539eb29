package plugin.disk.internal;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import agent.api.Command;
import agent.api.CommandContext;
import agent.api.Output;
import agent.api.Params;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;

/**
 * A {@link CommandContext} that really runs processes, as the agent does (argument arrays, stderr merged
 * into stdout, stdin from /dev/null), and holds the params and the settings section of one command.
 */
final class TestContext implements CommandContext {
    private final Command command;
    private final Params params;
    private final Map<String, Object> settings;
    private final StringBuilder output = new StringBuilder();
    final List<String> progress = new ArrayList<>();
    final List<List<String>> executed = new ArrayList<>();

    TestContext(String action, Map<String, Object> params, Map<String, Object> settings) {
        this.command = new Command(UUID.randomUUID().toString(), action, params, null, null, null);
        this.params = new TestParams(command.params());
        this.settings = settings;
    }

    @Override
    public Command command() { return command; }

    @Override
    public Params params() { return params; }

    @Override
    public Output output() {
        return text -> {
            synchronized (output) {
                output.append(text);
            }
        };
    }

    /** @return everything the handler wrote to its output */
    String outputText() {
        synchronized (output) {
            return output.toString();
        }
    }

    @Override
    public void progress(Integer percent, String message) { progress.add(percent + "% " + message); }

    @Override
    public boolean isCancelled() { return false; }

    @Override
    public void checkCancelled() {}

    @Override
    public ProcessResult exec(ProcessSpec spec) throws IOException {
        executed.add(spec.command());
        ProcessBuilder pb = new ProcessBuilder(spec.command()).redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (spec.directory() != null) pb.directory(spec.directory().toFile());
        pb.environment().putAll(spec.environment());
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + spec.command(), e);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        if (spec.captures()) return new ProcessResult(code, text);
        output().write(text);
        return new ProcessResult(code, null);
    }

    @Override
    public Map<String, Object> settings() { return settings; }

    @Override
    public void exitCode(int exitCode) {}
}
