package agent.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import agent.api.Command;
import agent.api.Result;
import agent.api.Status;

/**
 * The durable state of every command id (PROTOCOL.md §6). Each method that changes state returns only after
 * the change is committed and synced to disk. Thread-safe.
 */
@ProviderType
public interface CommandStore extends AutoCloseable {

    /**
     * Records a command as {@code received}, unless its id is known.
     *
     * @param command the command
     * @param to      who asked for it and gets its answer
     * @return whether it is new, still pending, or finished (with its stored result)
     */
    Admission admit(Command command, Destination to);

    /**
     * Records several commands in one transaction (one sync to disk), as {@link #admit} would one by one: a burst
     * of commands from the server costs one commit, not one each.
     *
     * @param commands the commands, in arrival order
     * @param to       who asked for them
     * @return one admission per command, in the same order
     */
    List<Admission> admitAll(List<Command> commands, Destination to);

    /**
     * {@code received} → {@code running}.
     *
     * @param id        the command id
     * @param startedAt when the handler starts
     * @throws StoreException if the command is not {@code received}
     */
    void markRunning(String id, Instant startedAt);

    /**
     * {@code received} or {@code running} → the result's terminal status; the result joins the outbox.
     *
     * @param result the one result of the command
     * @throws StoreException if the command is unknown or already finished
     */
    void finish(Result result);

    /**
     * Records how a running command ends if the agent stops before it finishes (agent.api
     * {@code CommandContext.resultOnRestart}): {@link #recover} then finishes it with this result (its times
     * replaced) instead of {@code interrupted}.
     *
     * @param result what to report; its id names the command, which must be {@code running}
     * @throws StoreException if the command is not running
     * @since 2.0
     */
    void resultOnRestart(Result result);

    /**
     * Start-up recovery: every {@code running} command becomes {@code interrupted} with this reason, unless it
     * recorded a {@link #resultOnRestart}.
     *
     * @param reason error text of the interrupted results, naming the restart
     * @return the interrupted results and the commands still {@code received}, to be run
     */
    Recovery recover(String reason);

    /** @param id a command id @return its record, if known */
    Optional<CommandRecord> get(String id);

    /**
     * @param limit  most records to return
     * @param status only this status, or null for all
     * @return the most recently received records first
     */
    List<CommandRecord> recent(int limit, Status status);

    /**
     * @param limit most results to return
     * @return terminal results of commands for {@link Destination#SERVER} not yet acked, oldest first
     */
    List<Result> outbox(int limit);

    /** @param ids results the consumer has stored; they leave the outbox */
    void ack(Collection<String> ids);

    /**
     * Deletes records that finished before the cutoff, except results for the server not yet acked.
     *
     * @param cutoff the oldest finish time to keep
     * @return how many records were deleted
     */
    int prune(Instant cutoff);

    /** @return the number of records per status */
    Map<Status, Long> counts();

    /**
     * @return the events waiting for the server, in the same database
     * @since 2.0
     */
    EventLog events();

    /** Closes the database; pending writes are committed first. */
    @Override
    void close();
}
