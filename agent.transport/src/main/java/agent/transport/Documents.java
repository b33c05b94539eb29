package agent.transport;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

import agent.api.Event;
import agent.api.Result;

/**
 * The documents of docs/protocol.md that the agent reads and writes outside a connection: task files and reports of
 * offline mode (§8), results shown to an operator, params typed in a shell. The JSON codec stays private to this
 * bundle. A DS service of agent.transport.
 *
 * @since 2.0
 */
@ProviderType
public interface Documents {
    /**
     * @param file a task file
     * @return its commands
     * @throws DocumentException naming the file, the command and the field (an id twice, a bad action, bad JSON)
     */
    TaskFile readTasks(Path file) throws DocumentException;

    /**
     * Writes the report of docs/protocol.md §8, indented.
     *
     * @param agentId the agent's id
     * @param results the results, in order
     * @param events  the events, in order
     * @param out     where to write it
     * @throws IOException if writing fails
     */
    void writeReport(String agentId, List<Result> results, List<Event> events, Writer out) throws IOException;

    /** @param result a result @return its docs/protocol.md §3 object as indented JSON, for an operator */
    String toJson(Result result);

    /** @param value JSON values (maps, lists, strings, numbers) @return them as indented JSON, for an operator */
    String toJson(Object value);

    /**
     * @param json a JSON object, e.g. params typed in a shell
     * @param what names it in errors
     * @return its members as JSON values (numbers as Long or Double)
     * @throws DocumentException naming it and, for bad JSON, the line and column
     */
    Map<String, Object> parseObject(String json, String what) throws DocumentException;
}
