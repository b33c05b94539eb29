package agent.testkit;

import java.util.List;
import java.util.Map;

import com.google.gson.JsonIOException;
import com.google.gson.JsonObject;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;
import agent.transport.internal.Codec;

/** How one run ended: the {@link Result} the agent would store and send, and what happened on the way. */
public final class Outcome {
    private final Command command;
    private final Result result;
    private final Throwable exception;
    private final List<Progress> progress;
    private final List<List<String>> executed;
    private final Result restartPlan;

    Outcome(Command command, Result result, Throwable exception, List<Progress> progress, List<List<String>> executed,
            Result restartPlan) {
        this.restartPlan = restartPlan;
        this.command = command;
        this.result = result;
        this.exception = exception;
        this.progress = progress;
        this.executed = executed;
    }

    /** @return the command that ran */
    public Command command() { return command; }

    /** @return the result as the dispatcher builds it */
    public Result result() { return result; }

    /**
     * @return {@code succeeded}; {@code rejected} for an {@code InvalidParamException}; {@code failed} for any other
     *         exception; {@code cancelled} or {@code timed_out} after a cancel or the timeout, whatever the handler did
     */
    public Status status() { return result.status(); }

    /** @return the error message of the result, null on success */
    public String error() { return result.error(); }

    /**
     * @return the machine-readable reason of a result that did not succeed, as the server receives it, else null
     * @since 1.2
     */
    public agent.api.ErrorCode errorCode() { return result.errorCode(); }

    /** @return the handler's return value (null unless succeeded) */
    public Object data() { return result.data(); }

    /**
     * @return the data as a map, the usual shape
     * @throws AssertionError if the data is not a map
     */
    @SuppressWarnings("unchecked")
    public Map<String, Object> dataAsMap() {
        if (!(result.data() instanceof Map)) throw new AssertionError("data is not a JSON object: " + this);
        return (Map<String, Object>) result.data();
    }

    /**
     * @return the data as the server receives it, through the protocol's JSON: numbers as {@code Long} or
     *         {@code Double}, objects as maps, lists as lists
     * @throws AssertionError if the data cannot be written as JSON
     */
    public Object wireData() {
        return result.data() == null ? null : Codec.GSON.fromJson(json().get("data"), Object.class);
    }

    /**
     * @return the result object of PROTOCOL.md §3, as the agent sends it
     * @throws AssertionError if the data cannot be written as JSON
     */
    public JsonObject json() {
        checkData("data", result.data());
        try {
            return Codec.result(result);
        } catch (JsonIOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw new AssertionError("the data of " + command.action() + " cannot be written as JSON: " + e.getMessage(), e);
        }
    }

    /** CommandHandler's contract: null, String, Number, Boolean, List or Map of those; anything else is a bug. */
    private void checkData(String path, Object v) {
        if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean) return;
        if (v instanceof List) {
            List<?> l = (List<?>) v;
            for (int i = 0; i < l.size(); i++) checkData(path + "[" + i + "]", l.get(i));
            return;
        }
        if (v instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!(e.getKey() instanceof String)) throw new AssertionError(path + " has a key that is not a String: " + e.getKey());
                checkData(path + "." + e.getKey(), e.getValue());
            }
            return;
        }
        throw new AssertionError("the data of " + command.action() + " must hold only null, String, Number, Boolean, List"
            + " and Map (CommandHandler.handle), but " + path + " is a " + v.getClass().getName() + ": " + v);
    }

    /** @return stdout and stderr of the processes and what the handler wrote, interleaved and capped */
    public String output() { return result.output(); }

    /** @return whether the middle of the output was dropped */
    public boolean outputTruncated() { return result.outputTruncated(); }

    /** @return the exit code the handler reported, or null */
    public Integer exitCode() { return result.exitCode(); }

    /** @return the exception the handler ended with, null if it returned or was abandoned */
    public Throwable exception() { return exception; }

    /** @return the progress reports, in order */
    public List<Progress> progress() { return progress; }

    /**
     * @return what the handler last asked to be reported if the agent restarted while it ran
     *         ({@code CommandContext.resultOnRestart}): status, error and data; null if it did not ask
     * @since 1.2
     */
    public Result resultOnRestart() { return restartPlan; }

    /** @return the argument arrays of the processes the handler asked to run, in order */
    public List<List<String>> executed() { return executed; }

    /** @return status, error and output: for assertion messages */
    @Override
    public String toString() {
        String out = result.output();
        if (out.length() > 4000) out = out.substring(0, 2000) + "\n[...]\n" + out.substring(out.length() - 2000);
        return command.action() + " " + command.params() + ": " + result.status().wireName()
            + (result.error() == null ? "" : " (" + result.error() + ")") + (out.isEmpty() ? "" : "; output:\n" + out);
    }
}
