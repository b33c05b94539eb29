package agent.store;

import agent.api.Result;
import agent.api.Status;

/** The answer of {@link CommandStore#admit}: what the store knew of the id. */
public final class Admission {
    /** How the id was known. */
    public enum Kind {
        /** A new id, now durably {@code received}: run it. */
        NEW,
        /** A duplicate still {@code received} or {@code running}: answer {@code accepted}, do not run it. */
        PENDING,
        /** A duplicate already finished: answer with the stored result, do not run it. */
        FINISHED
    }

    private final Kind kind;
    private final Status status;
    private final Result result;

    /** @param kind how the id was known @param status its status now @param result its result if finished, else null */
    public Admission(Kind kind, Status status, Result result) {
        this.kind = kind;
        this.status = status;
        this.result = result;
    }

    /** @return how the id was known */
    public Kind kind() { return kind; }

    /** @return the status of the id now */
    public Status status() { return status; }

    /** @return the stored result of a finished duplicate, else null */
    public Result result() { return result; }
}
