package agent.testkit;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import agent.api.Command;
import agent.api.CommandCancelledException;
import agent.api.CommandContext;
import agent.api.Output;
import agent.api.Params;
import agent.api.ProcessResult;
import agent.api.ProcessSpec;
import agent.core.internal.dispatch.ExecutionContext;

/** The agent's {@link ExecutionContext}, noting which processes the handler asked for; everything else is passed on. */
final class RecordingContext implements CommandContext {
    private final ExecutionContext real;
    private final List<List<String>> executed = new ArrayList<>(); // guarded by itself

    RecordingContext(ExecutionContext real) { this.real = real; }

    List<List<String>> executed() {
        synchronized (executed) {
            return List.copyOf(executed);
        }
    }

    @Override
    public Command command() { return real.command(); }

    @Override
    public Params params() { return real.params(); }

    @Override
    public Output output() { return real.output(); }

    @Override
    public void progress(Integer percent, String message) { real.progress(percent, message); }

    @Override
    public boolean isCancelled() { return real.isCancelled(); }

    @Override
    public void checkCancelled() throws CommandCancelledException { real.checkCancelled(); }

    @Override
    public ProcessResult exec(ProcessSpec spec) throws IOException, CommandCancelledException {
        synchronized (executed) {
            executed.add(spec.command());
        }
        return real.exec(spec);
    }

    @Override
    public Map<String, Object> settings() { return real.settings(); }

    @Override
    public <T> T settings(Class<T> type) { return real.settings(type); }

    @Override
    public void exitCode(int exitCode) { real.exitCode(exitCode); }

    @Override
    public void resultOnRestart(agent.api.Status status, String error, Object data) { real.resultOnRestart(status, error, data); }
}
