package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The console's pages and live stream against a real server with scripted agents: a page of the fleet at a time, with
 * filters; what agents send shown as text, never as markup; regions fetched alone; runs counted as results come; the
 * stream's news (connections, results, alerts), including what happened between a page's render and its stream.
 */
class ConsolePagesTest {
    @TempDir
    java.nio.file.Path dir;
    TestServer s;
    ConsoleClient c;

    @BeforeEach
    void start() throws Exception {
        s = TestServer.start(dir.resolve("server"));
        c = new ConsoleClient(s);
        assertThat(c.signIn(s.operatorToken).status()).isEqualTo(303);
    }

    @AfterEach
    void stop() {
        s.close();
    }

    private TestServer.Agent enroll(String machineId, String hostname) throws Exception {
        JsonObject rq = new JsonObject();
        rq.addProperty("enrollmentToken", s.enrollmentToken);
        rq.addProperty("hostname", hostname);
        rq.addProperty("machineId", machineId);
        TestServer.Response rs = s.post("/agent/v1/enroll", null, rq.toString());
        assertThat(rs.status()).as(rs.body()).isEqualTo(200);
        return new TestServer.Agent(rs.object().get("agentId").getAsString(), rs.object().get("agentToken").getAsString());
    }

    private static int count(String text, String what) {
        return text.split(Pattern.quote(what), -1).length - 1;
    }

    @Test
    void theFleetIsShownAPageAtATimeWithCountsAndFilters() throws Exception {
        for (int i = 0; i < 120; i++) enroll(String.format("m%03d", i), String.format("web-%03d", i));
        ConsoleClient.Page first = c.get("/console/");
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.body()).contains("<strong id=\"count-total\">120</strong>").contains("<strong id=\"count-disconnected\">120</strong>")
            .contains("Page 1 of 3").contains("web-000").contains("web-049").doesNotContain("web-050");
        assertThat(count(first.body(), "<tr data-agent=")).isEqualTo(50);
        ConsoleClient.Page last = c.get("/console/?page=3");
        assertThat(count(last.body(), "<tr data-agent=")).isEqualTo(20);
        assertThat(last.body()).contains("web-119").contains("Page 3 of 3");

        ConsoleClient.Page search = c.get("/console/?q=web-01");
        assertThat(count(search.body(), "<tr data-agent=")).isEqualTo(10);
        assertThat(search.body()).contains("10 agents match the filters");
        assertThat(count(c.get("/console/?state=connected").body(), "<tr data-agent=")).isZero();

        try (TestServer.WsAgent ws = s.connect(enroll("m200", "db-1").token())) {
            ws.hello("m200", 1 << 20);
            TestServer.eventually("the agent is connected", () -> s.server.gateway().isConnected("m200"));
            TestServer.eventually("its hello is stored", () -> s.server.store().agent("m200").hello() != null);
            ConsoleClient.Page connected = get("/console/?state=connected");
            assertThat(count(connected.body(), "<tr data-agent=")).isEqualTo(1);
            assertThat(connected.body()).contains("data-agent-state=\"m200\">connected<").contains("echo 0.1.0").contains("Debian 12");
            assertThat(count(get("/console/?plugin=plugin.echo").body(), "<tr data-agent=")).isEqualTo(1);
            assertThat(count(get("/console/?plugin=plugin.echo%400.2.0").body(), "<tr data-agent=")).isZero();
            assertThat(count(get("/console/?os=Debian%2012").body(), "<tr data-agent=")).isEqualTo(1);
            assertThat(count(get("/console/?os=Debian%2013").body(), "<tr data-agent=")).isZero();
            assertThat(get("/console/").body()).contains("<strong id=\"count-connected\">1</strong>");
        }
    }

    private ConsoleClient.Page get(String path) throws Exception {
        ConsoleClient.Page p = c.get(path);
        assertThat(p.status()).as(p.body()).isEqualTo(200);
        return p;
    }

    @Test
    void whatAgentsSendIsShownAsTextNeverAsMarkup() throws Exception {
        String evil = "<img src=x onerror=alert(1)>";
        TestServer.Agent a = enroll("x1", evil);
        try (TestServer.WsAgent ws = s.connect(a.token())) {
            ws.send("{\"type\":\"hello\",\"protocol\":1,\"agentId\":\"x1\",\"hostname\":\"" + evil + "\",\"agentVersion\":\"\\\"><script>x()</script>\","
                + "\"os\":{\"name\":\"<b>os</b>\"},\"plugins\":[{\"bsn\":\"<i>p</i>\",\"version\":\"1\",\"state\":\"active\",\"actions\":[\"a.b\"]}]}");
            ws.expect("welcome");
            ws.send("{\"type\":\"event\",\"id\":\"" + UUID.randomUUID() + "\",\"kind\":\"alert\",\"time\":\"2026-11-30T10:00:00Z\","
                + "\"data\":{\"state\":\"firing\",\"alert\":\"x\",\"subject\":null,\"message\":\"<script>alert(2)</script>\"}}");
            ws.awaitFrame("ack");
            for (String page : new String[] {"/console/", "/console/agents/x1", "/console/events", "/console/plugins"}) {
                String body = get(page).body();
                assertThat(body).as(page).doesNotContain("<img src=x").doesNotContain("<script>x()").doesNotContain("<script>alert(2)")
                    .doesNotContain("<i>p</i>").doesNotContain("<b>os</b>");
            }
            assertThat(get("/console/agents/x1").body()).contains("&lt;img src=x onerror=alert(1)&gt;").contains("&lt;script&gt;alert(2)&lt;/script&gt;");
        }
    }

    @Test
    void aRegionIsRenderedAloneForTheScriptToSwapIn() throws Exception {
        enroll("r1", "one");
        ConsoleClient.Page counts = get("/console/?region=counts");
        assertThat(counts.body()).startsWith("<ul class=\"counts\"").doesNotContain("<html").contains("count-total\">1<");
        assertThat(c.get("/console/?region=nope").status()).isEqualTo(404);
        assertThat(c.get("/console/agents/nobody").status()).isEqualTo(404);
        ConsoleClient.Page page = get("/console/");
        assertThat(page.header("content-security-policy")).contains("script-src 'self'").contains("frame-ancestors 'none'");
        assertThat(page.header("cache-control")).isEqualTo("no-store");
    }

    @Test
    void aRunCountsItsResultsAsTheyCome() throws Exception {
        TestServer.Agent a = enroll("w1", "worker-1");
        enroll("w2", "worker-2");
        try (TestServer.WsAgent ws = s.connect(a.token())) {
            ws.hello("w1", 1 << 20);
            TestServer.eventually("w1 is connected", () -> s.server.gateway().isConnected("w1"));
            ConsoleClient.Page sent = c.api("/api/v1/commands", "{\"commands\":[{\"agentId\":\"w1\",\"action\":\"agent.ping\"},"
                + "{\"agentId\":\"w2\",\"action\":\"agent.ping\"}]}");
            assertThat(sent.status()).as(sent.body()).isEqualTo(201);
            String runId = JsonParser.parseString(sent.body()).getAsJsonObject().get("runId").getAsString();
            assertThat(get("/console/runs/" + runId).body()).contains("0 of 2 results").contains("href=\"/console/agents/w1\"").contains("worker-2");
            JsonObject cmd = ws.awaitFrame("command");
            ws.send(TestServer.WsAgent.result(cmd.get("id").getAsString(), "succeeded"));
            ws.awaitFrame("ack");
            String run = get("/console/runs/" + runId).body();
            assertThat(run).contains("1 of 2 results").contains("data-status-count=\"succeeded\">1<").contains("data-status-count=\"pending\">1<");
            assertThat(get("/console/commands").body()).contains("href=\"/console/runs/" + runId + "\"");
            assertThat(get("/console/agents/w1").body()).contains("agent.ping").contains("succeeded").contains("&quot;echo&quot;: 42");
        }
    }

    @Test
    void healthEventsBecomeChartsAndAlertsShowUntilTheyClear() throws Exception {
        TestServer.Agent a = enroll("h1", "db-2");
        try (TestServer.WsAgent ws = s.connect(a.token())) {
            ws.hello("h1", 1 << 20);
            long now = System.currentTimeMillis();
            for (int i = 5; i >= 0; i--) {
                String t = java.time.Instant.ofEpochMilli(now - i * 60_000L).toString();
                ws.send("{\"type\":\"event\",\"id\":\"" + UUID.randomUUID() + "\",\"kind\":\"health\",\"time\":\"" + t + "\",\"data\":{"
                    + "\"cpu\":{\"usagePercent\":" + (10 + i) + ",\"cores\":2},\"memory\":{\"totalBytes\":1000,\"usedBytes\":250,\"availablePercent\":75},"
                    + "\"load\":{\"load1\":0.5,\"load5\":0.4,\"load15\":0.3},\"filesystems\":[{\"mountpoint\":\"/var\",\"usedPercent\":93.5}]}}");
                ws.awaitFrame("ack");
            }
            String alert = "{\"type\":\"event\",\"id\":\"%s\",\"kind\":\"alert\",\"time\":\"2026-11-30T10:00:00Z\",\"data\":{\"state\":\"%s\","
                + "\"alert\":\"filesystem_used_percent\",\"subject\":\"/var\",\"message\":\"filesystem /var is 93.5 %% used\"}}";
            ws.send(String.format(alert, UUID.randomUUID(), "firing"));
            ws.awaitFrame("ack");
            String page = get("/console/agents/h1").body();
            assertThat(page).contains("id=\"chart-cpu\"").contains("CPU usage. CPU: latest 10 %, lowest 10 %, highest 15 %")
                .contains("Memory used. Memory: latest 25 %").contains("Filesystems used. /var: latest 94 %");
            assertThat(page.substring(page.indexOf("id=\"h-alerts\""), page.indexOf("id=\"h-health\""))).contains("filesystem /var is 93.5 % used");
            assertThat(get("/console/?alert=1").body()).contains("<tr data-agent=\"h1\">");
            assertThat(get("/console/events").body()).contains("filesystem /var is 93.5 % used").contains("1 open alert.");

            ws.send(String.format(alert, UUID.randomUUID(), "cleared"));
            ws.awaitFrame("ack");
            String after = get("/console/agents/h1").body();
            assertThat(after.substring(after.indexOf("id=\"h-alerts\""), after.indexOf("id=\"h-health\""))).contains("None");
            assertThat(count(get("/console/?alert=1").body(), "<tr data-agent=")).isZero();
            assertThat(s.operatorGet("/api/v1/agents/h1/health").object().getAsJsonArray("openAlerts")).isEmpty();
        }
    }

    // ---------------------------------------------------------------- backups

    /** Uploads a backup as plugin.backup does (docs/protocol.md §7.1), in one PUT; returns the server's record. */
    private JsonObject upload(TestServer.Agent a, String name, byte[] content, String metaJson) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.base.resolve("/agent/v1/backups/" + name)).timeout(Duration.ofSeconds(10))
            .PUT(HttpRequest.BodyPublishers.ofByteArray(content)).header("Authorization", "Bearer " + a.token())
            .header("Upload-Offset", "0").header("Upload-Length", Integer.toString(content.length))
            .header("Upload-Sha256", BackupsTest.sha256(content));
        if (metaJson != null) b.header("Upload-Meta", Base64.getEncoder().encodeToString(metaJson.getBytes(StandardCharsets.UTF_8)));
        HttpResponse<String> rs = s.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(rs.statusCode()).as(rs.body()).isEqualTo(201);
        return JsonParser.parseString(rs.body()).getAsJsonObject();
    }

    /** The agent page's Backups section. */
    private String backupsSection(String agentPath) throws Exception {
        String page = get(agentPath).body();
        assertThat(page).contains("id=\"h-backups\"");
        return page.substring(page.indexOf("id=\"h-backups\""), page.indexOf("id=\"h-plugins\""));
    }

    @Test
    void anAgentsPageListsTheBackupsTheServerHoldsForItAndNoOtherAgentsOnes() throws Exception {
        TestServer.Agent a = enroll("bk1", "files-1");
        enroll("bk2", "files-2");
        byte[] content = BackupsTest.random(3000, 7);
        String sha = BackupsTest.sha256(content);
        // meta is what the agent says of its backup: shown as text like everything an agent sends
        upload(a, "etc+app-20261130T100000.000Z.tar.gz", content,
            "{\"paths\":[\"/etc\",\"/srv/<b>app</b>\"],\"pathsOmitted\":3,\"files\":4321}");

        String mine = backupsSection("/console/agents/bk1");
        assertThat(mine).contains("1 backup, 2.9 KiB in all, newest first")
            .contains(">etc+app-20261130T100000.000Z.tar.gz</th>").contains("<td>2.9 KiB</td>")
            .contains("title=\"" + sha + "\">" + sha.substring(0, 12) + "…</span>")
            .contains("/etc, /srv/&lt;b&gt;app&lt;/b&gt;, and 3 more").doesNotContain("<b>app</b>")
            .contains("<td class=\"opt\">4321</td>")
            .contains("href=\"?restore=etc%2Bapp-20261130T100000.000Z.tar.gz#h-run\"");
        assertThat(get("/console/agents/bk1?region=backups").body()).startsWith("<div class=\"table-wrap\"").doesNotContain("<html")
            .contains(sha.substring(0, 12));

        String theirs = backupsSection("/console/agents/bk2");
        assertThat(theirs).doesNotContain("etc+app").doesNotContain(sha.substring(0, 12))
            .contains("The server holds no backup of this agent").contains("<code>backup.create</code>")
            .contains("{\"destination\": \"server\"");
    }

    @Test
    void aRestoreLinkPrefillsTheRunFormWithABackupTheServerHoldsForThatAgentOnly() throws Exception {
        TestServer.Agent a = enroll("bk3", "files-3");
        enroll("bk4", "files-4");
        upload(a, "etc+1.tar.gz", BackupsTest.random(100, 1), null);

        String page = get("/console/agents/bk3?restore=etc%2B1.tar.gz").body();
        String form = page.substring(page.indexOf("id=\"run-form\""), page.indexOf("</form>", page.indexOf("id=\"run-form\"")));
        assertThat(form).contains("value=\"backup.restore\"")
            .contains(">{&quot;destination&quot;: &quot;server&quot;, &quot;archive&quot;: &quot;etc+1.tar.gz&quot;, &quot;target&quot;: &quot;&quot;}</textarea>")
            .contains("fill in <code>target</code>");
        // only a backup this agent has on the server prefills the form: never text from the link itself
        for (String other : new String[] {"/console/agents/bk4?restore=etc%2B1.tar.gz", "/console/agents/bk3?restore=nope.tar.gz",
            "/console/agents/bk3?restore=%22%3E%3Cscript%3Ex()%3C/script%3E"}) {
            String p = get(other).body();
            assertThat(p).as(other).doesNotContain("value=\"backup.restore\"").doesNotContain("run-restore-note")
                .contains("spellcheck=\"false\">{}</textarea>").doesNotContain("<script>x()");
        }
    }

    @Test
    void theNewestBackupsAreListedFirstAndTheOlderOnesCounted() throws Exception {
        TestServer.Agent a = enroll("bk5", "files-5");
        int shown = 20; // AgentPage.BACKUPS_SHOWN
        int n = shown + 2;
        for (int i = 0; i < n; i++) {
            JsonObject rec = upload(a, String.format("b-%02d.tar", i), BackupsTest.random(10, i), null);
            // the next one must be received later, or the order by time would be the order by name
            java.time.Instant received = java.time.Instant.parse(rec.get("receivedAt").getAsString());
            TestServer.eventually("the clock passes " + received, () -> java.time.Instant.now().isAfter(received.plusMillis(1)));
        }
        String section = backupsSection("/console/agents/bk5");
        assertThat(count(section, "<tr><th scope=\"row\"")).isEqualTo(shown);
        assertThat(section).contains(n + " backups, 220 B in all, newest first (the newest 20 shown)")
            .contains("2 older backups are not shown").contains("href=\"/api/v1/backups?agent=bk5\"")
            .contains("b-02.tar").doesNotContain("b-01.tar").doesNotContain("b-00.tar");
        assertThat(section.indexOf(">b-" + (n - 1) + ".tar<")).isPositive().isLessThan(section.indexOf(">b-" + (n - 2) + ".tar<"));
        assertThat(section.indexOf(">b-03.tar<")).isLessThan(section.indexOf(">b-02.tar<"));
    }

    // ---------------------------------------------------------------- the stream

    /** An open stream: its lines as they come. */
    private final class Sse implements AutoCloseable {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final CompletableFuture<HttpResponse<Stream<String>>> response;

        Sse(String query) {
            HttpRequest rq = HttpRequest.newBuilder(s.base.resolve("/console/stream?" + query))
                .header("Cookie", "outpost_session=" + c.session).GET().build();
            response = s.http.sendAsync(rq, HttpResponse.BodyHandlers.ofLines());
            response.thenAccept(rs -> new Thread(() -> rs.body().forEach(lines::add), "sse-reader").start());
        }

        /** Waits for an event of the type whose data line contains {@code text}; returns its data. */
        String await(String event, String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            String type = null;
            while (true) {
                String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertThat(line).as("an '" + event + "' event with " + text + " within 10 s").isNotNull();
                if (line.startsWith("event: ")) type = line.substring(7);
                else if (line.startsWith("data: ") && event.equals(type) && line.contains(text)) return line.substring(6);
            }
        }

        @Override
        public void close() {
            response.thenAccept(rs -> rs.body().close());
            response.cancel(true);
        }
    }

    @Test
    void theStreamTellsTheFleetPageOfConnectionsAndAlerts() throws Exception {
        TestServer.Agent a = enroll("s1", "stream-1");
        try (Sse sse = new Sse("page=fleet")) {
            sse.await("hello", "boot");
            TestServer.WsAgent ws = s.connect(a.token());
            ws.hello("s1", 1 << 20);
            assertThat(sse.await("agent", "\"id\":\"s1\"")).contains("\"state\":\"connected\"");
            ws.send("{\"type\":\"event\",\"id\":\"" + UUID.randomUUID() + "\",\"kind\":\"alert\",\"time\":\"2026-11-30T10:00:00Z\","
                + "\"data\":{\"state\":\"firing\",\"alert\":\"load_per_core\",\"subject\":null}}");
            assertThat(sse.await("event", "\"kind\":\"alert\"")).contains("\"agentId\":\"s1\"");
            ws.close();
            assertThat(sse.await("agent", "\"id\":\"s1\"")).contains("\"state\":\"disconnected\"");
        }
    }

    @Test
    void anAgentPagesStreamGetsItsResults() throws Exception {
        TestServer.Agent a = enroll("s2", "stream-2");
        try (Sse sse = new Sse("page=agent&agent=s2")) {
            sse.await("hello", "boot"); // the stream is open: the connection below is news to it
            TestServer.WsAgent ws = s.connect(a.token());
            ws.hello("s2", 1 << 20);
            sse.await("agent", "connected");
            String id = s.command("s2", "agent.ping", "{}");
            ws.awaitFrame("command");
            ws.send(TestServer.WsAgent.result(id, "failed"));
            assertThat(sse.await("result", id)).contains("\"status\":\"failed\"");
            ws.close();
        }
    }

    @Test
    void aStreamOpenedAfterItsPageGetsWhatHappenedMeanwhileAndAPageOfAnEarlierStartIsRefreshed() throws Exception {
        TestServer.Agent a = enroll("s3", "stream-3");
        Matcher m = Pattern.compile("data-version=\"([^\"]+)\"").matcher(get("/console/").body());
        assertThat(m.find()).isTrue();
        String version = m.group(1);
        try (TestServer.WsAgent ws = s.connect(a.token())) {
            ws.hello("s3", 1 << 20);
            TestServer.eventually("connected", () -> s.server.gateway().isConnected("s3"));
            try (Sse sse = new Sse("page=fleet&v=" + version)) {
                assertThat(sse.await("agent", "\"id\":\"s3\"")).contains("connected");
            }
            try (Sse sse = new Sse("page=fleet&v=earlier.0.0")) {
                sse.await("refresh", "{}");
            }
        }
    }

    @Test
    void aStreamEndsWhenItsSessionDoes() throws Exception {
        try (Sse sse = new Sse("page=fleet")) {
            sse.await("hello", "boot");
            TestServer.eventually("the stream is open", () -> s.server.console().streams() == 1);
            assertThat(c.post("/console/signout", "application/x-www-form-urlencoded", "csrf=" + c.csrf).status()).isEqualTo(303);
            // the next heartbeat notices (every 20 s)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String line;
            do {
                line = sse.lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } while (line != null && !line.equals("event: signedout"));
            assertThat(line).isEqualTo("event: signedout");
            assertThat(s.server.console().streams()).isZero();
        }
    }

    @Test
    void staticFilesComeFromTheJarAndAreCachedByTheirHash() throws Exception {
        String page = get("/console/").body();
        Matcher m = Pattern.compile("href=\"(/console/static/console\\.css\\?v=[0-9a-f]{12})\"").matcher(page);
        assertThat(m.find()).isTrue();
        HttpResponse<byte[]> css = s.http.send(HttpRequest.newBuilder(s.base.resolve(m.group(1))).header("Accept-Encoding", "gzip").build(),
            HttpResponse.BodyHandlers.ofByteArray());
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.headers().firstValue("content-encoding")).hasValue("gzip");
        assertThat(css.headers().firstValue("cache-control").orElse("")).contains("immutable");
        String text = new String(new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(css.body())).readAllBytes(), StandardCharsets.UTF_8);
        assertThat(text).contains(":root");
        assertThat(page).as("nothing is fetched from elsewhere").doesNotContainPattern("(src|href|action)=\"(https?:)?//");
        assertThat(s.get("/console/static/nope.js", null).status()).isEqualTo(404);
    }
}
