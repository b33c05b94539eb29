package runtime.test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import server.cli.ServerClient;

/**
 * The reference server's operator API called from the test JVM (what outpostctl calls), for tests that time what
 * they measure or send many commands: no JVM started per request.
 */
final class Operator {
    final ServerClient api;

    Operator(Path serverDir) throws Exception {
        this.api = ServerClient.fromServerDir(serverDir);
    }

    /** Creates a command; @return its id. @param timeoutSeconds null for none */
    String send(String agentId, String action, String params, Integer timeoutSeconds) throws Exception {
        JsonObject c = new JsonObject();
        c.addProperty("agentId", agentId);
        c.addProperty("action", action);
        c.add("params", JsonParser.parseString(params));
        if (timeoutSeconds != null) c.addProperty("timeoutSeconds", timeoutSeconds);
        return api.post("/api/v1/commands", c).getAsJsonObject().getAsJsonArray("commands").get(0).getAsJsonObject()
            .get("id").getAsString();
    }

    /** Creates many commands in one request; @return their ids, in order. */
    List<String> sendAll(String agentId, List<JsonObject> commands) throws Exception {
        List<String> ids = new ArrayList<>();
        for (JsonObject c : commands) {
            c.addProperty("agentId", agentId);
            ids.add(api.post("/api/v1/commands", c).getAsJsonObject().getAsJsonArray("commands").get(0).getAsJsonObject()
                .get("id").getAsString());
        }
        return ids;
    }

    JsonObject command(String id) throws Exception {
        return api.get("/api/v1/commands/" + id).getAsJsonObject();
    }

    void cancel(String id) throws Exception {
        api.post("/api/v1/commands/" + id + "/cancel", new JsonObject());
    }

    /** The command's result once the server has one, within the limit. */
    JsonObject awaitResult(String id, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        JsonObject c;
        do {
            c = command(id);
            if (c.has("result") && c.get("result").isJsonObject()) return c.getAsJsonObject("result");
            Thread.sleep(100);
        } while (System.nanoTime() < end);
        throw new AssertionError("no result for " + id + " within " + limit + ": " + c);
    }

    /** Waits until the server records the command in this state; @return whether it did within the limit. */
    boolean awaitState(String id, String state, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        do {
            if (state.equals(command(id).get("state").getAsString())) return true;
            Thread.sleep(100);
        } while (System.nanoTime() < end);
        return false;
    }

    /** Every result the server holds for these ids, as it lists them (one per id if all is well). */
    List<JsonObject> results(List<String> ids) throws Exception {
        List<JsonObject> out = new ArrayList<>();
        for (int from = 0; from < ids.size(); from += 1000) {
            JsonObject q = new JsonObject();
            JsonArray a = new JsonArray();
            ids.subList(from, Math.min(ids.size(), from + 1000)).forEach(a::add);
            q.add("ids", a);
            for (JsonElement r : api.post("/api/v1/results/query", q).getAsJsonObject().getAsJsonArray("results")) {
                out.add(r.getAsJsonObject());
            }
        }
        return out;
    }

    /** The server's record of one agent. */
    JsonObject agent(String agentId) throws Exception {
        return api.get("/api/v1/agents/" + agentId).getAsJsonObject();
    }
}
