package agent.core.internal.dispatch;

import agent.api.Result;
import agent.store.Destination;

/**
 * Told what becomes of every command the dispatcher takes, new, pending or finished alike: the one path by which a
 * command's answer leaves the dispatcher (the server connection is one listener, for {@link Destination#SERVER}).
 * Called after the state is durable; never on a lock the dispatcher holds.
 */
public interface CommandListener {
    /** @param id a command now recorded, or a duplicate still queued or running @param to who asked */
    default void accepted(String id, Destination to) {}

    /**
     * @param result a result now stored, or the stored result of a duplicate that had finished
     * @param to     who asked: for a duplicate, whoever sent it again
     */
    default void finished(Result result, Destination to) {}

    /** @param id a running command @param percent 0..100 or null @param message text @param to who asked */
    default void progress(String id, Integer percent, String message, Destination to) {}
}
