package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import server.TestServer.Response;
import server.TestServer.WsAgent;

/** {@code POST /api/v1/commands} with {@code {"commands": [...]}}: one transaction, one push, all or nothing. */
class CommandBatchTest {
    @TempDir Path dir;
    TestServer s;
    TestServer.Agent agent;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
        agent = s.enroll("batch-agent");
        s.enroll("batch-agent-2");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void aBatchIsStoredAndPushedToTheConnectedAgentInOrder() throws Exception {
        try (WsAgent a = s.connect(agent.token())) {
            a.hello(agent.agentId());
            Response rs = s.operatorPost("/api/v1/commands", """
                {"commands": [
                  {"agentId": "batch-agent", "action": "agent.ping", "params": {"echo": 1}, "id": "b-1"},
                  {"agentId": "batch-agent-2", "action": "agent.info"},
                  {"agentId": "batch-agent", "action": "agent.ping", "params": {"echo": 3}, "timeoutSeconds": 9}
                ]}""");
            assertThat(rs.status()).as(rs.body()).isEqualTo(201);
            JsonArray commands = rs.object().getAsJsonArray("commands");
            assertThat(commands).hasSize(3);
            assertThat(agentIds(commands)).containsExactly("batch-agent", "batch-agent-2", "batch-agent");
            assertThat(commands.get(0).getAsJsonObject().get("id").getAsString()).isEqualTo("b-1");

            // the connected agent gets its two, in the batch's order; the other one's waits for its hello
            JsonObject first = a.expect("command");
            JsonObject second = a.expect("command");
            assertThat(first.get("id").getAsString()).isEqualTo("b-1");
            assertThat(first.getAsJsonObject("params").get("echo").getAsInt()).isEqualTo(1);
            assertThat(second.get("id").getAsString()).isEqualTo(commands.get(2).getAsJsonObject().get("id").getAsString());
            assertThat(second.get("timeoutSeconds").getAsInt()).isEqualTo(9);
            assertThat(s.commandView(commands.get(1).getAsJsonObject().get("id").getAsString()).get("state").getAsString())
                .isEqualTo("queued");
        }
    }

    @Test
    void allTrueInABatchMakesOneCommandPerAgent() throws Exception {
        Response rs = s.operatorPost("/api/v1/commands", """
            {"commands": [{"all": true, "action": "agent.ping"}, {"agentId": "batch-agent", "action": "agent.info"}]}""");
        assertThat(rs.status()).as(rs.body()).isEqualTo(201);
        assertThat(agentIds(rs.object().getAsJsonArray("commands"))).containsExactly("batch-agent", "batch-agent-2", "batch-agent");
    }

    @Test
    void aBatchOfCommandsThatAllExistAlreadyIs200WithTheSameIds() throws Exception {
        String batch = """
            {"commands": [{"agentId": "batch-agent", "action": "agent.ping", "id": "again-1"},
                          {"agentId": "batch-agent", "action": "agent.ping", "id": "again-2"}]}""";
        Response first = s.operatorPost("/api/v1/commands", batch);
        assertThat(first.status()).as(first.body()).isEqualTo(201);
        Response again = s.operatorPost("/api/v1/commands", batch);
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(again.object()).isEqualTo(first.object());
    }

    /** Each bad batch names the field and the index; its good first command (id "kept-out") is not stored either. */
    @Test
    void aBadCommandIsRefusedNamingItsIndexAndNothingOfTheBatchIsStored() throws Exception {
        s.operatorPost("/api/v1/commands", "{\"agentId\":\"batch-agent\",\"action\":\"agent.ping\",\"id\":\"taken\"}");
        String ok = "{\"agentId\": \"batch-agent\", \"action\": \"agent.ping\", \"id\": \"kept-out\"}";
        record Case(String second, int status, String message) {}
        List<Case> cases = List.of(
            new Case("{\"agentId\": \"batch-agent\"}", 400, "commands[1].action is required"),
            new Case("{\"agentId\": \"batch-agent\", \"action\": \"ping\"}", 400, "commands[1].action must be a dotted name"),
            new Case("{\"agentId\": \"batch-agent\", \"action\": \"agent.ping\", \"params\": [1]}", 400, "commands[1].params must be a JSON object"),
            new Case("{\"action\": \"agent.ping\"}", 400, "commands[1].agentId is required"),
            new Case("{\"agentId\": 7, \"action\": \"agent.ping\"}", 400, "commands[1].agentId must be a string"),
            new Case("{\"agentId\": \"batch-agent\", \"all\": true, \"action\": \"agent.ping\"}", 400, "either commands[1].agentId or commands[1].all"),
            new Case("{\"agentId\": \"batch-agent\", \"action\": \"agent.ping\", \"timeoutSeconds\": 0}", 400, "commands[1].timeoutSeconds"),
            new Case("{\"agentId\": \"batch-agent\", \"action\": \"agent.ping\", \"expiresAt\": \"2000-01-01T00:00:00Z\"}", 400, "commands[1].expiresAt"),
            new Case("{\"agentId\": \"batch-agent\", \"action\": \"agent.ping\", \"id\": \"has space\"}", 400, "commands[1].id must be"),
            new Case("{\"agentId\": \"batch-agent\", \"action\": \"agent.ping\", \"id\": \"kept-out\"}", 400, "commands[1].id 'kept-out' is given twice (also commands[0].id)"),
            new Case("\"agent.ping\"", 400, "commands[1] must be a JSON object"),
            new Case("{\"agentId\": \"nobody\", \"action\": \"agent.ping\"}", 404, "commands[1].agentId 'nobody' is not an enrolled agent"),
            new Case("{\"agentId\": \"batch-agent\", \"action\": \"agent.info\", \"id\": \"taken\"}", 409, "commands[1].id 'taken' already names another command"));
        for (Case c : cases) {
            Response rs = s.operatorPost("/api/v1/commands", "{\"commands\": [" + ok + ", " + c.second() + "]}");
            assertThat(rs.status()).as(c.second() + " -> " + rs.body()).isEqualTo(c.status());
            assertThat(rs.object().get("error").getAsString()).as(c.second()).contains(c.message());
            assertThat(s.operatorGet("/api/v1/commands/kept-out").status()).as("after " + c.second()).isEqualTo(404);
        }
    }

    @Test
    void aMalformedBatchIsRefusedAsAWhole() throws Exception {
        assertError(s.operatorPost("/api/v1/commands", "{\"commands\": []}"), "commands is empty");
        assertError(s.operatorPost("/api/v1/commands", "{\"commands\": {\"agentId\": \"batch-agent\"}}"), "commands must be a JSON array");
        assertError(s.operatorPost("/api/v1/commands", "{\"commands\": [{\"agentId\": \"batch-agent\", \"action\": \"agent.ping\"}],"
            + " \"action\": \"agent.ping\"}"), "'action' is outside commands");
        StringBuilder big = new StringBuilder("{\"commands\": [");
        for (int i = 0; i <= 10_000; i++) big.append(i == 0 ? "" : ",").append("{\"agentId\":\"batch-agent\",\"action\":\"agent.ping\"}");
        assertError(s.operatorPost("/api/v1/commands", big.append("]}").toString()), "at most 10000");
    }

    private static void assertError(Response rs, String contains) {
        assertThat(rs.status()).as(rs.body()).isEqualTo(400);
        assertThat(rs.object().get("error").getAsString()).contains(contains);
    }

    private static List<String> agentIds(JsonArray commands) {
        return commands.asList().stream().map(c -> c.getAsJsonObject().get("agentId").getAsString()).toList();
    }
}
