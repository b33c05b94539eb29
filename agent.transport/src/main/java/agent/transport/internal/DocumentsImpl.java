package agent.transport.internal;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import agent.api.Command;
import agent.api.Event;
import agent.api.Result;
import agent.transport.DocumentException;
import agent.transport.Documents;
import agent.transport.TaskFile;

/** The offline documents of docs/protocol.md §8 and the JSON an operator sees, through the bundle's one codec. */
@Component(service = Documents.class)
public final class DocumentsImpl implements Documents {

    @Override
    public TaskFile readTasks(Path file) throws DocumentException {
        String where = "tasks file " + file;
        JsonElement doc;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            doc = Codec.parse(r, where);
        } catch (Codec.FrameException e) {
            throw new DocumentException(e.getMessage());
        } catch (IOException e) {
            throw new DocumentException("cannot read " + where + ": " + e.getMessage());
        }
        if (!doc.isJsonObject() || !doc.getAsJsonObject().has("commands") || !doc.getAsJsonObject().get("commands").isJsonArray()) {
            throw new DocumentException(where + " must be {\"commands\": [command, ...]} (with \"parallel\": true to let them run at once)");
        }
        JsonObject o = doc.getAsJsonObject();
        for (String key : o.keySet()) {
            if (!key.equals("commands") && !key.equals("parallel")) {
                throw new DocumentException(where + ": unknown key '" + key + "' (known: commands, parallel)");
            }
        }
        boolean parallel = false;
        if (o.has("parallel")) {
            JsonElement p = o.get("parallel");
            if (!p.isJsonPrimitive() || !p.getAsJsonPrimitive().isBoolean()) throw new DocumentException(where + ": parallel must be true or false, got " + p);
            parallel = p.getAsBoolean();
        }
        List<Command> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        JsonArray arr = o.getAsJsonArray("commands");
        for (int i = 0; i < arr.size(); i++) {
            try {
                Command c = Codec.command(arr.get(i), "commands[" + i + "]");
                if (!seen.add(c.id())) throw new DocumentException(where + ": commands[" + i + "].id '" + c.id() + "' appears twice");
                out.add(c);
            } catch (Codec.FrameException e) {
                throw new DocumentException(where + ": " + e.getMessage());
            }
        }
        return new TaskFile(out, parallel);
    }

    @Override
    public void writeReport(String agentId, List<Result> results, List<Event> events, Writer out) throws IOException {
        JsonObject doc = new JsonObject();
        doc.addProperty("agentId", agentId);
        JsonArray rs = new JsonArray();
        results.forEach(r -> rs.add(Codec.result(r)));
        doc.add("results", rs);
        JsonArray es = new JsonArray();
        events.forEach(e -> es.add(Codec.event(e)));
        doc.add("events", es);
        out.write(Codec.PRETTY.toJson(doc));
        out.write("\n");
    }

    @Override
    public String toJson(Result result) { return Codec.PRETTY.toJson(Codec.result(result)); }

    @Override
    public String toJson(Object value) { return Codec.PRETTY.toJson(value); }

    @Override
    public Map<String, Object> parseObject(String json, String what) throws DocumentException {
        try {
            return Codec.params(json, what);
        } catch (Codec.FrameException e) {
            throw new DocumentException(e.getMessage());
        }
    }
}
