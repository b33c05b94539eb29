package agent.core.internal.dispatch;

import agent.api.CommandCancelledException;
import agent.api.CommandException;
import agent.api.CommandRefusedException;
import agent.api.ErrorCode;
import agent.api.InvalidSettingsException;
import agent.api.Status;

/**
 * How a handler's exception ends its command (the contract in {@link agent.api.CommandHandler}): one mapping for the
 * dispatcher and for agent.testkit, so a plugin's unit tests see what the agent reports. Public for the test kit only;
 * the package is not exported.
 */
public final class HandlerOutcome {
    private HandlerOutcome() {}

    /** @return the status of a run whose handler threw {@code t} without being stopped */
    public static Status status(Throwable t) {
        if (t instanceof CommandException && ((CommandException) t).errorCode() == ErrorCode.TIMED_OUT) {
            return Status.TIMED_OUT; // a limit of the handler's own (plugin.script's timeoutSeconds): protocol §10 pairs them
        }
        return t instanceof CommandRefusedException || t instanceof InvalidSettingsException ? Status.REJECTED : Status.FAILED;
    }

    /** @return the result's error code for {@code t} */
    public static ErrorCode errorCode(Throwable t) {
        if (t instanceof CommandException) return ((CommandException) t).errorCode();
        if (t instanceof InvalidSettingsException) return ErrorCode.INVALID_SETTINGS;
        if (t instanceof CommandCancelledException || t instanceof InterruptedException) return ErrorCode.INTERRUPTED;
        return ErrorCode.HANDLER_ERROR;
    }

    /** @return the result's error for {@code t}: the handler's own message for the exceptions of agent.api */
    public static String error(Throwable t) {
        if (t instanceof CommandCancelledException || t instanceof InterruptedException) return "interrupted: " + t.getMessage();
        if (t instanceof CommandException || t instanceof InvalidSettingsException) return t.getMessage();
        return "handler error: " + t;
    }

    /** @return true if {@code t} is not one of the ways agent.api lets a handler end a command (worth a stack trace) */
    public static boolean unexpected(Throwable t) {
        return !(t instanceof CommandException || t instanceof CommandCancelledException || t instanceof InterruptedException
            || t instanceof InvalidSettingsException);
    }
}
