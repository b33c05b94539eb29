package agent.core.internal.dispatch;

import java.time.Instant;
import java.util.function.Supplier;

import agent.api.CommandHandler;
import agent.api.ErrorCode;
import agent.api.Result;
import agent.api.Status;

/**
 * One run of a handler as the agent ends it (agent.api {@link CommandHandler}'s contract): its return or exception
 * gives the status, error and code; a cancel or timeout overrides them. The dispatcher and agent.testkit both run
 * handlers through this, so a plugin's unit tests see what the agent reports. Public (in a package the bundle does
 * not export) for agent.testkit.
 */
public final class HandlerRun {
    private HandlerRun() {}

    /** How a run ended: the result to store, and what the handler threw (null if it returned). */
    public record Ended(Result result, Throwable thrown) {}

    /**
     * Runs the handler on this thread. The context must already be {@link ExecutionContext#runningOn running on}
     * this thread; it is detached when the handler returns, and an interrupt left by a stop is cleared.
     *
     * @param handler     the handler
     * @param context     the run's context
     * @param started     when it started (the store's {@code startedAt})
     * @param timeoutText the timeout as the error names it, e.g. {@code "30"}
     * @param now         the clock, in milliseconds as the store keeps them
     * @return the result and the exception
     */
    public static Ended run(CommandHandler handler, ExecutionContext context, Instant started, String timeoutText,
            Supplier<Instant> now) {
        return run(() -> handler, context, context, true, started, timeoutText, now);
    }

    /**
     * As {@link #run(CommandHandler, ExecutionContext, Instant, String, Supplier)}, with the handler got inside the
     * run (under its timeout): getting a plugin's handler the first time activates its component, which may block.
     */
    public static Ended run(Supplier<CommandHandler> handler, ExecutionContext context, Instant started, String timeoutText,
            Supplier<Instant> now) {
        return run(handler, context, context, true, started, timeoutText, now);
    }

    /**
     * {@link #run(CommandHandler, ExecutionContext, Instant, String, Supplier)} with the handler seeing a view of the
     * context (agent.testkit's, which notes the processes asked for).
     *
     * @param skipIfStopped whether a run stopped before the handler was called ends without calling it (the agent:
     *                      nothing of a cancelled command runs); agent.testkit calls it anyway, so a test sees how the
     *                      handler itself answers a stop
     */
    public static Ended run(CommandHandler handler, agent.api.CommandContext view, ExecutionContext context,
            boolean skipIfStopped, Instant started, String timeoutText, Supplier<Instant> now) {
        return run(() -> handler, view, context, skipIfStopped, started, timeoutText, now);
    }

    private static Ended run(Supplier<CommandHandler> handler, agent.api.CommandContext view, ExecutionContext context,
            boolean skipIfStopped, Instant started, String timeoutText, Supplier<Instant> now) {
        Status status;
        String error = null;
        ErrorCode code = null;
        Object data = null;
        Throwable thrown = null;
        try {
            if (!skipIfStopped || context.stopReason() == null) data = handler.get().handle(view); // else cancelled just now
            status = Status.SUCCEEDED;
        } catch (Throwable e) { // Errors too (a StackOverflowError in a plugin): the command still gets its result
            status = HandlerOutcome.status(e);
            error = HandlerOutcome.error(e);
            code = HandlerOutcome.errorCode(e);
            thrown = e;
        } finally {
            context.detach();
            Thread.interrupted(); // a stop's interrupt belongs to this run only
        }
        Status stopped = context.stopReason();
        if (stopped != null) {
            status = stopped;
            error = stopped == Status.TIMED_OUT ? "timed out after " + timeoutText + " s; process tree killed"
                : "cancelled while running; process tree killed";
            code = stopped == Status.TIMED_OUT ? ErrorCode.TIMED_OUT : ErrorCode.CANCELLED;
            data = null;
        }
        return new Ended(new Result(context.command().id(), status, context.exitCodeOrNull(), context.cappedOutput().text(),
            context.cappedOutput().truncated(), error, code, data, started, now.get()), thrown);
    }

    /**
     * The result of a stopped handler that did not return within the grace time: written without it.
     *
     * @param context the run's context
     * @param reason  {@code CANCELLED} or {@code TIMED_OUT}
     * @param now     when
     * @return the result
     */
    public static Result abandoned(ExecutionContext context, Status reason, Instant now) {
        String error = (reason == Status.TIMED_OUT ? "timed out" : "cancelled") + "; the handler did not stop and was abandoned";
        return new Result(context.command().id(), reason, context.exitCodeOrNull(), context.cappedOutput().text(),
            context.cappedOutput().truncated(), error, reason == Status.TIMED_OUT ? ErrorCode.TIMED_OUT : ErrorCode.CANCELLED,
            null, null, now);
    }
}
