package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import server.TestServer.Response;

class EnrollmentTest {
    @TempDir Path dir;
    TestServer s;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir);
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void theRightTokenEnrolsUnderTheMachineId() throws Exception {
        TestServer.Agent a = s.enroll("vm-1234");
        assertThat(a.agentId()).isEqualTo("vm-1234");
        assertThat(a.token()).matches("[A-Za-z0-9_-]{43}");
        Response agents = s.operatorGet("/api/v1/agents");
        assertThat(agents.json().getAsJsonArray()).hasSize(1);
        assertThat(agents.json().getAsJsonArray().get(0).getAsJsonObject().get("hostname").getAsString()).isEqualTo("host-vm-1234");
    }

    @Test
    void aMachineIdTakenByAnotherTokenGetsANewUuid() throws Exception {
        TestServer.Agent first = s.enroll("vm-1");
        TestServer.Agent second = s.enroll("vm-1");
        assertThat(second.agentId()).isNotEqualTo(first.agentId()).matches("[0-9a-f-]{36}");
        assertThat(second.token()).isNotEqualTo(first.token());
    }

    @Test
    void aWrongEnrollmentTokenIsRefusedWith401() throws Exception {
        Response rs = s.post("/agent/v1/enroll", null, "{\"enrollmentToken\":\"nope\",\"hostname\":\"h\",\"machineId\":\"m\"}");
        assertThat(rs.status()).isEqualTo(401);
        assertThat(rs.object().get("error").getAsString()).contains("enrollmentToken");
        assertThat(s.operatorGet("/api/v1/agents").json().getAsJsonArray()).isEmpty();
    }

    @Test
    void aMissingEnrollmentTokenIsRefusedWith401() throws Exception {
        Response rs = s.post("/agent/v1/enroll", null, "{\"hostname\":\"h\"}");
        assertThat(rs.status()).isEqualTo(401);
    }

    @Test
    void aMalformedMachineIdIsABadRequestNamingTheField() throws Exception {
        Response rs = s.post("/agent/v1/enroll", null,
            "{\"enrollmentToken\":\"" + s.enrollmentToken + "\",\"machineId\":\"../../etc\"}");
        assertThat(rs.status()).isEqualTo(400);
        assertThat(rs.object().get("error").getAsString()).contains("machineId");
    }

    @Test
    void theTokenIsStoredOnlyAsAHash() throws Exception {
        TestServer.Agent a = s.enroll("vm-9");
        byte[] db = java.nio.file.Files.readAllBytes(dir.resolve("server.db"));
        byte[] wal = java.nio.file.Files.exists(dir.resolve("server.db-wal")) ? java.nio.file.Files.readAllBytes(dir.resolve("server.db-wal")) : new byte[0];
        String all = new String(db, java.nio.charset.StandardCharsets.ISO_8859_1) + new String(wal, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(all).doesNotContain(a.token()).contains(server.http.Tokens.sha256Hex(a.token()));
    }
}
