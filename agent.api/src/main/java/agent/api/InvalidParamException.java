package agent.api;

/** A param is missing or has a wrong value; the command ends {@code rejected} with a message naming the param. */
public class InvalidParamException extends CommandRefusedException {
    private static final long serialVersionUID = 1L;
    private final String param;

    /** @param param the param's name @param problem what is wrong with it */
    public InvalidParamException(String param, String problem) {
        super("param '" + param + "' " + problem);
        this.param = param;
    }

    /** @return the name of the param at fault */
    public String param() { return param; }
}
