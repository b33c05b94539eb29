package server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import com.google.gson.JsonObject;

/**
 * The console in a real browser: headless Chromium from Debian's packages, driven by Selenium through Debian's
 * chromedriver, against a real server on loopback and an agent speaking the real protocol over its WebSocket (a
 * scripted one: it answers as plugin.disk, plugin.health and the core would). Each page's screenshot is saved under
 * {@code target/console-screenshots/}.
 *
 * <p>The browser trusts the server's certificate by being told to ignore certificate errors: the CA is made at test
 * time, and teaching Chromium a CA means an NSS database. The cookies are still Secure ones on an HTTPS origin.
 */
class ConsoleBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SHOTS = Path.of("target", "console-screenshots");
    static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;
    TestServer s;
    WebDriver browser;

    @BeforeEach
    void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the browser tests need Chromium and its driver from Debian's packages (apt-get install chromium chromium-driver): "
                + (Files.isExecutable(CHROMIUM) ? "" : CHROMIUM + " is missing ") + (Files.isExecutable(CHROMEDRIVER) ? "" : CHROMEDRIVER + " is missing"));
        }
        Files.createDirectories(SHOTS);
        s = TestServer.start(dir.resolve("server"));
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800",
            "--ignore-certificate-errors", "--user-data-dir=" + dir.resolve("chromium"), "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync");
        o.setAcceptInsecureCerts(true);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, o);
        browser.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
    }

    @AfterEach
    void stop() {
        if (browser != null) browser.quit();
        if (s != null) s.close();
    }

    // ---------------------------------------------------------------- helpers

    private void open(String path) {
        browser.get(s.base.resolve(path).toString());
    }

    private void signIn(String secret) {
        open("/console/signin");
        WebElement field = browser.findElement(By.id("secret"));
        field.clear();
        field.sendKeys(secret);
        field.submit();
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    /** Marks the page: the mark is gone if the browser loads the page again, so a test can tell live updates from reloads. */
    private void mark() {
        js("window.__sameLoad = 'yes';");
    }

    private void assertNotReloaded() {
        assertThat(js("return window.__sameLoad;")).as("the page was updated in place, not reloaded").isEqualTo("yes");
    }

    private String text(String cssSelector) {
        Object t = js("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", cssSelector);
        return t == null ? null : t.toString();
    }

    /** Waits, bounded, for a condition the browser's page meets (the script's live updates come when they come). */
    private static void until(String what, Supplier<Boolean> condition, Supplier<String> shown) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!Boolean.TRUE.equals(condition.get())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + WAIT.toSeconds() + " s; the page shows: " + shown.get());
            }
            Thread.sleep(50);
        }
    }

    private void waitForText(String what, String cssSelector, String expected) throws InterruptedException {
        until(what, () -> {
            String t = text(cssSelector);
            return t != null && t.contains(expected);
        }, () -> cssSelector + " = " + text(cssSelector));
    }

    /** Waits for the element's whole text: "disconnected" contains "connected", so a state is compared whole. */
    private void waitForExactText(String what, String cssSelector, String expected) throws InterruptedException {
        until(what, () -> expected.equals(text(cssSelector)), () -> cssSelector + " = " + text(cssSelector));
    }

    private void waitForUrl(String what, String part) throws InterruptedException {
        until(what, () -> browser.getCurrentUrl().contains(part), browser::getCurrentUrl);
    }

    private void screenshot(String name) throws Exception {
        Path shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.move(shot, SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
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

    private static final String PLUGINS = "{\"bsn\":\"agent.core\",\"version\":\"2.0.0\",\"state\":\"active\",\"actions\":[\"agent.ping\"]},"
        + "{\"bsn\":\"plugin.disk\",\"version\":\"1.0.0\",\"state\":\"active\",\"actions\":[\"disk.extend\",\"disk.list\"]},"
        + "{\"bsn\":\"plugin.health\",\"version\":\"1.0.0\",\"state\":\"active\",\"actions\":[\"health.inventory\"]}";

    /** Connects the agent and says hello as a current agent does (dry runs, error codes, event ids). */
    private TestServer.WsAgent connect(TestServer.Agent a, String extraPlugins) throws Exception {
        TestServer.WsAgent ws = s.connect(a.token());
        ws.send("{\"type\":\"hello\",\"protocol\":1,\"agentId\":\"" + a.agentId() + "\",\"agentVersion\":\"2.0.0\",\"hostname\":\"web-1\","
            + "\"os\":{\"name\":\"Debian GNU/Linux\",\"version\":\"12\",\"kernel\":\"6.1.0\",\"arch\":\"amd64\"},\"mode\":\"managed\","
            + "\"maxFrameBytes\":1048576,\"features\":[\"dryRun\",\"errorCode\",\"eventIds\"],\"plugins\":[" + PLUGINS + extraPlugins + "]}");
        ws.expect("welcome");
        return ws;
    }

    private static String result(String id, String status, String output, String dataJson) {
        return "{\"type\":\"result\",\"id\":\"" + id + "\",\"status\":\"" + status + "\",\"exitCode\":0,\"output\":\"" + output + "\","
            + "\"outputTruncated\":false,\"data\":" + dataJson + ",\"startedAt\":\"2026-11-30T10:00:00Z\",\"finishedAt\":\"2026-11-30T10:00:01.250Z\"}";
    }

    /** A small OSGi bundle jar, made here: what an operator uploads. */
    private Path bundle(String bsn, String version) throws Exception {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", bsn);
        a.putValue("Bundle-Version", version);
        Path jar = dir.resolve(bsn + "-" + version + ".jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            j.putNextEntry(new ZipEntry("hello/readme.txt"));
            j.write("hello".getBytes());
            j.closeEntry();
        }
        return jar;
    }

    // ---------------------------------------------------------------- the tests

    @Test
    void aWrongTokenIsRefusedAndTheOperatorTokenSignsIn() throws Exception {
        open("/console/");
        assertThat(browser.getCurrentUrl()).contains("/console/signin?next=");
        screenshot("signin");
        signIn("not-the-token");
        assertThat(browser.findElement(By.id("signin-error")).getText()).isEqualTo("That is neither the operator token nor the console password.");
        assertThat(browser.findElement(By.id("secret")).getAttribute("aria-invalid")).isEqualTo("true");
        screenshot("signin-refused");
        assertThat(browser.manage().getCookieNamed("outpost_session")).isNull();

        signIn(s.operatorToken);
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Fleet");
        assertThat(browser.manage().getCookieNamed("outpost_session").isHttpOnly()).isTrue();
        assertThat(browser.manage().getCookieNamed("outpost_session").isSecure()).isTrue();
        assertThat(browser.manage().getCookieNamed("outpost_session").getSameSite()).isEqualTo("Strict");
        assertThat(js("return document.cookie;")).as("no script can read the session").asString().doesNotContain("outpost_session");
        screenshot("fleet-empty");
    }

    @Test
    void theFleetShowsTheAgentConnectedThenDisconnectedThenConnectedAgainWithoutAReload() throws Exception {
        TestServer.Agent a = enroll("b1", "web-1");
        TestServer.WsAgent ws = connect(a, "");
        signIn(s.operatorToken);
        String state = "[data-agent-state=\"b1\"]";
        waitForExactText("the agent connected", state, "connected");
        waitForText("live updates on", "#live", "on");
        mark();
        screenshot("fleet");

        ws.close(); // the agent dies: its socket goes without a close frame
        waitForExactText("the killed agent", state, "disconnected");
        assertNotReloaded();
        waitForText("the counts follow", "#count-disconnected", "1");

        TestServer.WsAgent again = connect(a, "");
        waitForExactText("the agent back", state, "connected");
        assertNotReloaded();
        again.close();

        browser.manage().window().setSize(new Dimension(390, 844));
        browser.navigate().refresh();
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Fleet");
        assertThat(((Number) js("return document.documentElement.scrollWidth;")).intValue()).as("no sideways scrolling at a phone's width")
            .isLessThanOrEqualTo(390);
        screenshot("fleet-phone");
    }

    @Test
    void anAgentsPageRunsAPingAndADryRunAndShowsTheirResultsWithoutAReload() throws Exception {
        TestServer.Agent a = enroll("b1", "web-1");
        try (TestServer.WsAgent ws = connect(a, "")) {
            signIn(s.operatorToken);
            open("/console/agents/b1");
            assertThat(browser.findElement(By.tagName("h1")).getText()).contains("web-1");
            waitForText("live updates on", "#live", "on");
            mark();

            browser.findElement(By.id("run-action")).sendKeys("agent.ping");
            browser.findElement(By.cssSelector("#run-form button[type=submit]")).click();
            JsonObject ping = ws.awaitFrame("command");
            assertThat(ping.get("action").getAsString()).isEqualTo("agent.ping");
            String pingId = ping.get("id").getAsString();
            ws.send(result(pingId, "succeeded", "pong from web-1\\n", "{\"pong\":true}"));
            String row = "tbody[data-command=\"" + pingId + "\"]";
            waitForText("the ping's result", row, "succeeded");
            assertThat(text(row)).contains("pong from web-1").contains("\"pong\": true").contains("1.3 s");
            assertNotReloaded();
            js("document.querySelector(arguments[0]).scrollIntoView();", row);
            screenshot("agent-ping");

            WebElement action = browser.findElement(By.id("run-action"));
            action.clear();
            action.sendKeys("disk.extend");
            WebElement params = browser.findElement(By.id("run-params"));
            params.clear();
            params.sendKeys("{\"mountpoint\": \"/var\"}");
            browser.findElement(By.id("run-dry")).click();
            browser.findElement(By.cssSelector("#run-form button[type=submit]")).click();
            JsonObject extend = ws.awaitFrame("command");
            assertThat(extend.get("action").getAsString()).isEqualTo("disk.extend");
            assertThat(extend.get("dryRun").getAsBoolean()).as("the agent is told it is a dry run").isTrue();
            assertThat(extend.getAsJsonObject("params").get("mountpoint").getAsString()).isEqualTo("/var");
            String extendId = extend.get("id").getAsString();
            waitForText("the form says what it sent", "#run-form .form-status", "Dry run of disk.extend sent");
            ws.send(result(extendId, "succeeded", "would grow /dev/vda1 by 2 GiB\\n", "{\"changed\":false,\"wouldGrowBytes\":2147483648}"));
            String extendRow = "tbody[data-command=\"" + extendId + "\"]";
            waitForText("the dry run's result", extendRow, "succeeded");
            assertThat(text(extendRow)).contains("dry run").contains("would grow /dev/vda1 by 2 GiB").contains("\"changed\": false");
            assertNotReloaded();
            js("document.querySelector(arguments[0]).scrollIntoView();", extendRow);
            screenshot("agent-dry-run");
        }
    }

    @Test
    void aPluginUploadedAndPushedFromThePluginsPageShowsItsVersionOnTheAgent() throws Exception {
        TestServer.Agent a = enroll("b1", "web-1");
        try (TestServer.WsAgent ws = connect(a, "")) {
            signIn(s.operatorToken);
            open("/console/plugins");
            browser.findElement(By.id("upload-file")).sendKeys(bundle("plugin.hello", "1.2.3").toAbsolutePath().toString());
            browser.findElement(By.cssSelector("#upload-form button[type=submit]")).click();
            waitForText("the upload is confirmed", "#upload-form .form-status", "Uploaded plugin.hello 1.2.3");
            waitForText("the bundle is listed", "#bundles", "plugin.hello");
            screenshot("plugins");

            browser.findElement(By.cssSelector("[data-bundle] button[data-push]")).click();
            browser.findElement(By.id("push-agents")).sendKeys("web-1");
            browser.findElement(By.cssSelector("#push-form button[type=submit]")).click();
            JsonObject install = ws.awaitFrame("command");
            assertThat(install.get("action").getAsString()).isEqualTo("plugin.install");
            String sha = install.getAsJsonObject("params").get("sha256").getAsString();
            assertThat(install.getAsJsonObject("params").get("url").getAsString()).isEqualTo("/agent/v1/bundles/" + sha);
            waitForUrl("the run page opens", "/console/runs/");
            waitForText("the run page", "main", "0 of 1 results");
            mark();
            // what an agent does after installing: tells its plugins, then the result
            ws.send("{\"type\":\"capabilities\",\"plugins\":[" + PLUGINS
                + ",{\"bsn\":\"plugin.hello\",\"version\":\"1.2.3\",\"state\":\"active\",\"actions\":[\"hello.say\"]}]}");
            ws.send(result(install.get("id").getAsString(), "succeeded", "installed plugin.hello 1.2.3\\n",
                "{\"bsn\":\"plugin.hello\",\"version\":\"1.2.3\",\"changed\":true}"));
            waitForText("the run counts the result", "main", "1 of 1 results");
            assertNotReloaded();
            screenshot("run");

            open("/console/agents/b1");
            waitForText("the agent's plugins", "#agent-plugins", "plugin.hello");
            assertThat(text("#agent-plugins")).contains("1.2.3");
            open("/console/plugins");
            waitForText("who runs which version", "#deployed", "plugin.hello");
            assertThat(text("#deployed")).contains("1.2.3");
        }
    }

    @Test
    void anAlertFromTheHealthThresholdsAppearsInTheFeedWithoutAReload() throws Exception {
        TestServer.Agent a = enroll("b1", "web-1");
        try (TestServer.WsAgent ws = connect(a, "")) {
            signIn(s.operatorToken);
            open("/console/events");
            waitForText("live updates on", "#live", "on");
            mark();
            // what plugin.health's thresholds send when a filesystem passes its line (AlertTracker's event)
            String now = java.time.Instant.now().toString();
            ws.send("{\"type\":\"event\",\"id\":\"" + UUID.randomUUID() + "\",\"kind\":\"alert\",\"time\":\"" + now + "\","
                + "\"data\":{\"state\":\"firing\",\"alert\":\"filesystem_used_percent\",\"subject\":\"/var\",\"value\":93.5,"
                + "\"direction\":\"above\",\"threshold\":90,\"clear\":85,\"forSeconds\":0,\"since\":\"" + now + "\",\"firedAt\":\"" + now + "\","
                + "\"message\":\"filesystem /var is 93.5 % used (alert at ≥ 90 %)\"}}");
            ws.awaitFrame("ack");
            waitForText("the alert in the feed", "#event-feed", "filesystem /var is 93.5 % used");
            waitForText("the open alerts", "main", "1 open alert.");
            assertThat(text("main")).doesNotContain("since never");
            assertNotReloaded();
            screenshot("events");

            open("/console/");
            waitForText("the fleet counts the alert", "#count-alerting", "1");
            open("/console/agents/b1");
            waitForText("the agent's open alerts", "#alerts", "filesystem /var is 93.5 % used");
            screenshot("agent");
            open("/console/commands");
            screenshot("commands");
        }
    }

    @Test
    void aChangeWithoutTheCsrfTokenIsRefusedEvenFromTheConsolesOwnPage() throws Exception {
        TestServer.Agent a = enroll("b1", "web-1");
        signIn(s.operatorToken);
        open("/console/agents/b1");
        String body = "{\"agentId\":\"" + a.agentId() + "\",\"action\":\"agent.ping\"}";
        // the page's own origin and session cookie, but no token: refused
        Object without = ((JavascriptExecutor) browser).executeAsyncScript("""
            const done = arguments[arguments.length - 1];
            fetch('/api/v1/commands', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'}, body: arguments[0]})
              .then(async r => done(r.status + ' ' + await r.text()), e => done('error ' + e));""", body);
        assertThat(without.toString()).startsWith("403 ").contains("CSRF token");
        // a plain form without the token (what another page could make the browser post): refused
        Object signOut = ((JavascriptExecutor) browser).executeAsyncScript("""
            const done = arguments[arguments.length - 1];
            fetch('/console/signout', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: ''})
              .then(r => done(r.status), e => done('error ' + e));""");
        assertThat(signOut.toString()).isEqualTo("403");
        int queued = s.server.store().read(conn -> {
            try (var rs = conn.createStatement().executeQuery("SELECT count(*) FROM commands")) {
                return rs.next() ? rs.getInt(1) : -1;
            }
        });
        assertThat(queued).as("nothing was queued").isZero();

        // with the page's token the same request goes through, and the sign-out button signs out
        Object with = ((JavascriptExecutor) browser).executeAsyncScript("""
            const done = arguments[arguments.length - 1];
            const token = document.querySelector('meta[name="csrf-token"]').content;
            fetch('/api/v1/commands', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
              body: arguments[0]}).then(r => done(r.status), e => done('error ' + e));""", body);
        assertThat(with.toString()).isEqualTo("201");
        browser.findElement(By.cssSelector("form[action=\"/console/signout\"] button")).click();
        waitForUrl("signed out", "/console/signin");
        assertThat(browser.findElement(By.cssSelector(".notice")).getText()).isEqualTo("You are signed out.");
        open("/console/");
        assertThat(browser.getCurrentUrl()).contains("/console/signin");
    }
}
