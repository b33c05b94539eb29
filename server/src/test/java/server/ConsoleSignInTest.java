package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import server.http.Guard;

/**
 * Signing in to the console and what a session may do, on a real server: the operator token or the first start's
 * password, cookies only this origin's pages send back, the CSRF token on every request that changes anything, the
 * rate limit on wrong sign-ins, sign-out, sessions that survive a restart, and the bearer token still working.
 */
class ConsoleSignInTest {
    @TempDir
    Path dir;
    TestServer s;

    @AfterEach
    void stop() {
        if (s != null) s.close();
    }

    private TestServer start() throws Exception {
        s = TestServer.start(dir.resolve("server"));
        return s;
    }

    @Test
    void pagesAskForASignInAndAWrongTokenIsRefusedWithAClearMessage() throws Exception {
        ConsoleClient c = new ConsoleClient(start());
        ConsoleClient.Page root = c.get("/");
        assertThat(root.status()).isEqualTo(303);
        assertThat(root.header("location")).isEqualTo("/console/");
        ConsoleClient.Page fleet = c.get("/console/agents/a1?x=1");
        assertThat(fleet.status()).isEqualTo(303);
        assertThat(fleet.header("location")).isEqualTo("/console/signin?next=%2Fconsole%2Fagents%2Fa1%3Fx%3D1");

        ConsoleClient.Page wrong = c.signIn("not-the-token");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.body()).contains("That is neither the operator token nor the console password.");
        assertThat(ConsoleClient.cookie(wrong, ConsoleClient.Console.SESSION)).isNull();
        assertThat(c.get("/console/").status()).isEqualTo(303);
    }

    @Test
    void theOperatorTokenGivesASessionCookieOnlyThisOriginsPagesSendBack() throws Exception {
        ConsoleClient c = new ConsoleClient(start());
        ConsoleClient.Page ok = c.signIn(s.operatorToken);
        assertThat(ok.status()).isEqualTo(303);
        assertThat(ok.header("location")).isEqualTo("/console/");
        String cookie = ConsoleClient.setCookie(ok, ConsoleClient.Console.SESSION);
        assertThat(cookie).contains("; Secure").contains("; HttpOnly").contains("; SameSite=Strict").contains("; Path=/");
        assertThat(c.get("/console/").status()).isEqualTo(200);
        assertThat(c.get("/console/").body()).contains("<h1>Fleet</h1>");
    }

    @Test
    void thePasswordPrintedAtTheFirstStartSignsInAndOnlyItsHashIsKept() throws Exception {
        start();
        String password = s.server.consolePasswordMadeNow();
        assertThat(password).matches("[a-z2-9]{6}(-[a-z2-9]{6}){3}");
        Path file = s.dir.resolve("console-password");
        assertThat(Files.readString(file)).doesNotContain(password).startsWith("pbkdf2-sha256$");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        ConsoleClient c = new ConsoleClient(s);
        assertThat(c.signIn(password).status()).isEqualTo(303);
        assertThat(c.get("/console/").status()).isEqualTo(200);

        s.close();
        s = TestServer.start(dir.resolve("server"));
        assertThat(s.server.consolePasswordMadeNow()).as("a later start makes no new password").isNull();
        assertThat(new ConsoleClient(s).signIn(password).status()).isEqualTo(303);
    }

    @Test
    void aSignInWithoutItsFormsTokenIsRefused() throws Exception {
        ConsoleClient c = new ConsoleClient(start());
        ConsoleClient.Form f = c.signInForm();
        ConsoleClient.Page noCookie = c.post("/console/signin", "application/x-www-form-urlencoded",
            ConsoleClient.form(Map.of("csrf", f.token(), "secret", s.operatorToken)));
        assertThat(noCookie.status()).isEqualTo(403);
        assertThat(noCookie.body()).contains("This sign-in form has expired");
        ConsoleClient.Page otherSite = c.post("/console/signin", "application/x-www-form-urlencoded",
            ConsoleClient.form(Map.of("csrf", f.token(), "secret", s.operatorToken)), "Cookie", "outpost_signin=" + f.cookie(),
            "Origin", "https://evil.example");
        assertThat(otherSite.status()).isEqualTo(403);
        assertThat(ConsoleClient.cookie(otherSite, ConsoleClient.Console.SESSION)).isNull();
    }

    @Test
    void wrongSignInsFromOneAddressAreRateLimited() throws Exception {
        s = TestServer.start(dir.resolve("server"), OutpostServer.Limits.DEFAULTS.withAuthFailures(new Guard.Rate(1, 3)));
        ConsoleClient c = new ConsoleClient(s);
        for (int i = 0; i < 3; i++) assertThat(c.signIn("wrong-" + i).status()).isEqualTo(401);
        ConsoleClient.Page limited = c.signIn(s.operatorToken);
        assertThat(limited.status()).isEqualTo(429);
        assertThat(limited.header("retry-after")).isNotNull();
        assertThat(limited.body()).contains("Too many failed sign-ins from your address");
        // the operator API shares the allowance: the same address is refused there too
        assertThat(s.operatorGet("/api/v1/agents").status()).isEqualTo(429);
    }

    @Test
    void theOperatorApiTakesTheSessionButEveryChangeNeedsTheCsrfTokenAndThisOrigin() throws Exception {
        ConsoleClient c = new ConsoleClient(start());
        c.signIn(s.operatorToken);
        TestServer.Agent agent = s.enroll("m1");
        assertThat(c.get("/api/v1/agents").status()).isEqualTo(200);
        String cmd = "{\"agentId\":\"" + agent.agentId() + "\",\"action\":\"agent.ping\"}";

        ConsoleClient.Page noToken = c.post("/api/v1/commands", "application/json", cmd);
        assertThat(noToken.status()).isEqualTo(403);
        assertThat(noToken.body()).contains("CSRF token");
        ConsoleClient.Page wrongToken = c.post("/api/v1/commands", "application/json", cmd, "X-CSRF-Token", "x" + c.csrf);
        assertThat(wrongToken.status()).isEqualTo(403);
        ConsoleClient.Page crossSite = c.post("/api/v1/commands", "application/json", cmd, "X-CSRF-Token", c.csrf, "Sec-Fetch-Site", "cross-site");
        assertThat(crossSite.status()).isEqualTo(403);
        ConsoleClient.Page crossOrigin = c.post("/api/v1/commands", "application/json", cmd, "X-CSRF-Token", c.csrf, "Origin", "https://evil.example");
        assertThat(crossOrigin.status()).isEqualTo(403);
        assertThat(s.operatorGet("/api/v1/results?agent=" + agent.agentId()).body()).isEqualTo("[]");
        int queued = s.server.store().read(conn -> {
            try (var rs = conn.createStatement().executeQuery("SELECT count(*) FROM commands")) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        });
        assertThat(queued).as("nothing was queued by the refused requests").isZero();

        ConsoleClient.Page ok = c.api("/api/v1/commands", cmd);
        assertThat(ok.status()).as(ok.body()).isEqualTo(201);
        assertThat(ok.body()).contains("\"runId\"");
        // the bearer token works as before, and a session cookie beside it changes nothing
        assertThat(s.operatorPost("/api/v1/commands", cmd).status()).isEqualTo(201);
        assertThat(s.get("/api/v1/agents", "wrong").status()).isEqualTo(401);
    }

    @Test
    void signOutNeedsTheTokenAndEndsTheSession() throws Exception {
        ConsoleClient c = new ConsoleClient(start());
        c.signIn(s.operatorToken);
        ConsoleClient.Page noToken = c.post("/console/signout", "application/x-www-form-urlencoded", "");
        assertThat(noToken.status()).isEqualTo(403);
        assertThat(c.get("/console/").status()).isEqualTo(200);
        ConsoleClient.Page out = c.post("/console/signout", "application/x-www-form-urlencoded", "csrf=" + c.csrf);
        assertThat(out.status()).isEqualTo(303);
        assertThat(out.header("location")).isEqualTo("/console/signin?signedout=1");
        assertThat(ConsoleClient.setCookie(out, ConsoleClient.Console.SESSION)).contains("Max-Age=0");
        assertThat(c.get("/console/").status()).isEqualTo(303);
        assertThat(c.api("/api/v1/commands", "{}").status()).as("the API no longer takes the ended session").isEqualTo(401);
    }

    @Test
    void aSessionSurvivesARestartOfTheServer() throws Exception {
        ConsoleClient c = new ConsoleClient(start());
        c.signIn(s.operatorToken);
        s.close();
        s = TestServer.start(dir.resolve("server"));
        ConsoleClient again = new ConsoleClient(s);
        again.session = c.session;
        assertThat(again.get("/console/").status()).isEqualTo(200);
    }

    @Test
    void withoutTheConsoleItsPagesAreNotThere() throws Exception {
        s = TestServer.start(OutpostServer.Options.defaults(dir.resolve("server")).withPort(0).withBindHost("127.0.0.1").withConsole(false));
        ConsoleClient c = new ConsoleClient(s);
        assertThat(c.get("/console/signin").status()).isEqualTo(404);
        assertThat(s.server.consolePasswordMadeNow()).isNull();
        assertThat(s.dir.resolve("console-password")).doesNotExist();
        assertThat(s.operatorGet("/api/v1/agents").status()).isEqualTo(200);
    }
}
