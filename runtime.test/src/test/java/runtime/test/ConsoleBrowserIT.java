package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The server's web console in headless Chromium (Debian's chromium and chromedriver, driven by Selenium) against the
 * reference server and the exported agent, both real processes on loopback: the fleet follows the agent as it is
 * killed and started again, an agent page runs agent.ping and a dry run of disk.extend on the real plugin.disk, a plugin
 * pushed from the plugins page shows its version on the agent, and an alert made by plugin.health's thresholds on this
 * host's real filesystems appears in the feed. The server's own tests (ConsoleBrowserTest) cover the rest with a
 * scripted agent. Screenshots go to {@code target/console-screenshots/}.
 */
class ConsoleBrowserIT {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SHOTS = Path.of("target", "console-screenshots");
    static final Duration T = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    ServerProcess server;
    WebDriver browser;

    @BeforeEach
    void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            fail("the browser tests need Chromium and its driver from Debian's packages (apt-get install chromium chromium-driver): "
                + (Files.isExecutable(CHROMIUM) ? "" : CHROMIUM + " is missing ") + (Files.isExecutable(CHROMEDRIVER) ? "" : CHROMEDRIVER + " is missing"));
        }
        Files.createDirectories(SHOTS);
        server = ServerProcess.start(dir.resolve("server"), 0);
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        // the server's CA is made at test time: the browser is told to accept its certificate rather than given an NSS
        // database; the cookies are still Secure ones on an HTTPS origin
        o.addArguments("--headless", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800",
            "--ignore-certificate-errors", "--user-data-dir=" + dir.resolve("chromium"), "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync");
        o.setAcceptInsecureCerts(true);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, o);
        browser.manage().timeouts().pageLoadTimeout(T).scriptTimeout(T);
    }

    @AfterEach
    void stop() throws Exception {
        if (browser != null) browser.quit();
        if (server != null) server.close();
    }

    private AgentProcess agent(String extra) throws Exception {
        Path config = AgentProcess.write(dir.resolve("agent.json"), server.agentConfig("websocket", extra));
        return AgentProcess.start("run", "--config", config.toString(), "--data-dir", dir.resolve("agent").toString());
    }

    private void open(String path) throws Exception {
        browser.get(java.net.URI.create(server.url()).resolve(path).toString());
    }

    private void signIn() throws Exception {
        open("/console/signin");
        WebElement field = browser.findElement(By.id("secret"));
        field.sendKeys(Files.readString(dir.resolve("server/operator.token")).trim());
        field.submit();
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Fleet");
    }

    private Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

    /** Marks the page: the mark is gone if the browser loads the page again, so live updates are told from reloads. */
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

    private static void until(String what, Supplier<Boolean> condition, Supplier<String> shown) throws InterruptedException {
        long deadline = System.nanoTime() + T.toNanos();
        while (!Boolean.TRUE.equals(condition.get())) {
            if (System.nanoTime() > deadline) throw new AssertionError(what + ": not within " + T.toSeconds() + " s; the page shows: " + shown.get());
            Thread.sleep(100);
        }
    }

    private void waitForText(String what, String cssSelector, String expected) throws InterruptedException {
        until(what, () -> {
            String t = text(cssSelector);
            return t != null && t.contains(expected);
        }, () -> cssSelector + " = " + text(cssSelector));
    }

    /** The text of the newest command row of the page for the action, once it shows one of the final statuses. */
    private String awaitCommandRow(String what, String action) throws InterruptedException {
        String find = "for (const b of document.querySelectorAll('tbody[data-command]')) { const t = b.textContent;"
            + " if (t.includes(arguments[0]) && /succeeded|failed|rejected|timed_out|cancelled/.test(t)) return t; } return null;";
        until(what, () -> js(find, action) != null, () -> text("main"));
        return js(find, action).toString();
    }

    private void screenshot(String name) throws Exception {
        Path shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.move(shot, SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void theFleetFollowsTheRealAgentKilledAndStartedAgainAndItsPageRunsAPingAndADryRun() throws Exception {
        String agentId;
        try (AgentProcess agent = agent("\"health\": {\"interval_seconds\": 0}")) {
            agentId = server.awaitAgent(T, true);
            signIn();
            String state = "[data-agent-state=\"" + agentId + "\"]";
            // whole texts: "disconnected" contains "connected"
            until("the agent connected", () -> "connected".equals(text(state)), () -> text(state));
            waitForText("live updates on", "#live", "on");
            mark();
            screenshot("it-fleet");

            agent.process.destroyForcibly(); // no goodbye: the server sees its socket die
            assertThat(agent.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
            until("the killed agent", () -> "disconnected".equals(text(state)), () -> text(state));
            assertNotReloaded();
        }
        try (AgentProcess again = agent("\"health\": {\"interval_seconds\": 0}")) {
            String state = "[data-agent-state=\"" + agentId + "\"]";
            until("the agent back", () -> "connected".equals(text(state)), () -> text(state));
            assertNotReloaded();

            open("/console/agents/" + agentId);
            waitForText("live updates on", "#live", "on");
            mark();
            browser.findElement(By.id("run-action")).sendKeys("agent.ping");
            browser.findElement(By.cssSelector("#run-form button[type=submit]")).click();
            assertThat(awaitCommandRow("the ping's result", "agent.ping")).contains("succeeded");
            assertNotReloaded();

            WebElement action = browser.findElement(By.id("run-action"));
            action.clear();
            action.sendKeys("disk.extend");
            WebElement params = browser.findElement(By.id("run-params"));
            params.clear();
            params.sendKeys("{\"mountpoint\": \"/\"}");
            browser.findElement(By.id("run-dry")).click();
            browser.findElement(By.cssSelector("#run-form button[type=submit]")).click();
            // whatever plugin.disk makes of this host's root, the row says it was a dry run and shows the agent's answer
            String row = awaitCommandRow("the dry run's result", "disk.extend");
            assertThat(row).contains("dry run");
            assertNotReloaded();
            screenshot("it-agent-dry-run");
            assertThat(server.send(T, agentId, "agent.ping").get(0).get("status").getAsString()).isEqualTo("succeeded");
        }
    }

    @Test
    void aPluginPushedFromThePluginsPageRunsOnTheAgentAndAnAlertOfItsThresholdsAppearsInTheFeed() throws Exception {
        // every real filesystem is at or above 0 % used: the first tick fires an alert for each
        try (AgentProcess agent = agent("\"health\": {\"interval_seconds\": 2, \"thresholds\": {\"filesystem_used_percent\": 0}}")) {
            String agentId = server.awaitAgent(T, true);
            signIn();
            open("/console/events");
            waitForText("live updates on", "#live", "on");
            mark();
            waitForText("plugin.health's alert in the feed", "#event-feed", "filesystem");
            assertThat(text("#event-feed")).contains("used");
            assertNotReloaded();
            screenshot("it-events");

            open("/console/plugins");
            Path jar = Path.of(System.getProperty("plugin.echo.jar")).toRealPath(); // chromedriver takes canonical paths only
            browser.findElement(By.id("upload-file")).sendKeys(jar.toString());
            browser.findElement(By.cssSelector("#upload-form button[type=submit]")).click();
            waitForText("the upload is confirmed", "#upload-form .form-status", "Uploaded plugin.echo");
            browser.findElement(By.cssSelector("[data-bundle] button[data-push]")).click();
            browser.findElement(By.id("push-agents")).sendKeys(agentId);
            browser.findElement(By.cssSelector("#push-form button[type=submit]")).click();
            until("the run page", () -> browser.getCurrentUrl().contains("/console/runs/"), browser::getCurrentUrl);
            waitForText("the agent's result", "main", "1 of 1 results");
            screenshot("it-run");

            open("/console/agents/" + agentId);
            waitForText("the agent's plugins", "#agent-plugins", "plugin.echo");
            assertThat(server.send(T, agentId, "echo.say", "{\"message\": \"hi\"}").get(0).get("status").getAsString()).isEqualTo("succeeded");
        }
    }
}
