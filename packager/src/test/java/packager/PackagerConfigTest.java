package packager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.google.gson.JsonObject;

import packager.PackagerConfig.Builtin;
import packager.PackagerConfig.Format;
import packager.PackagerConfig.FromFile;
import packager.PackagerConfig.FromMaven;
import packager.PackagerConfig.FromUrl;
import packager.PackagerConfig.LeftOut;
import packager.PackagerConfig.RuntimeKind;

class PackagerConfigTest {
    static final String SHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        Files.writeString(dir.resolve("not-a-ca.pem"), "hello\n");
        Files.writeString(dir.resolve("hello.jar"), "a jar");
    }

    private PackagerConfig read(String json) throws Exception {
        Path f = dir.resolve("packager.json");
        Files.writeString(f, json);
        return PackagerConfig.read(f);
    }

    /** A valid config with one part replaced: {@code %s} is where the case's JSON goes. */
    private static String config(String plugins, String agent, String top) {
        return "{\"name\": \"outpost-acme\", \"version\": \"1.0.0\"" + top + ", \"plugins\": {" + plugins + "},"
            + " \"agent\": {\"server_url\": \"https://mgmt.example.test:8443\"" + agent + "}}";
    }

    @Test
    void aFullConfigIsReadWithEveryKindOfPluginAndPathsFromTheConfigsFolder() throws Exception {
        PackagerConfig c = read(config("\"plugin.disk\": \"none\", \"plugin.timezone\": \"builtin\","
            + " \"com.acme.hello\": {\"file\": \"hello.jar\", \"sha256\": \"" + SHA + "\"},"
            + " \"org.example.lib\": {\"maven\": \"org.example:lib:1.2.3\"},"
            + " \"org.example.web\": {\"url\": \"https://plugins.example.test/web.jar\", \"sha256\": \"" + SHA + "\"}",
            ", \"server_ca\": \"ca.pem\", \"transport\": \"poll\", \"check_in_interval\": 60,"
                + " \"plugins\": {\"allow\": [\"com.acme.*\"], \"require_signed\": false}",
            ", \"output\": \"out\", \"formats\": [\"deb\", \"tar.gz\"], \"runtime\": \"jlink\""));

        assertThat(c.name()).isEqualTo("outpost-acme");
        assertThat(c.output()).isEqualTo(dir.resolve("out"));
        assertThat(c.formats()).containsExactly(Format.DEB, Format.TAR_GZ);
        assertThat(c.runtime()).isEqualTo(RuntimeKind.JLINK);
        assertThat(c.plugins()).containsExactly(
            java.util.Map.entry("plugin.disk", new LeftOut()),
            java.util.Map.entry("plugin.timezone", new Builtin()),
            java.util.Map.entry("com.acme.hello", new FromFile(dir.resolve("hello.jar"), SHA)),
            java.util.Map.entry("org.example.lib", new FromMaven("org.example", "lib", "1.2.3", null)),
            java.util.Map.entry("org.example.web", new FromUrl(URI.create("https://plugins.example.test/web.jar"), SHA)));
        assertThat(c.agent().serverCa()).isEqualTo(dir.resolve("ca.pem"));
        // the order install.sh and the postinst rely on: server_url, server_ca, then the rest
        JsonObject d = c.agent().defaultConfig();
        assertThat(d.keySet()).containsExactly("server_url", "server_ca", "transport", "check_in_interval", "plugins");
        assertThat(d.get("server_ca").getAsString()).isEqualTo("/etc/outpost/server-ca.pem");
    }

    @Test
    void theDefaultsAreOneTarGzOnTheSystemsJavaInDistWithTransportAndIntervalWritten() throws Exception {
        PackagerConfig c = read(config("", "", ""));
        assertThat(c.formats()).containsExactly(Format.TAR_GZ);
        assertThat(c.runtime()).isEqualTo(RuntimeKind.SYSTEM);
        assertThat(c.output()).isEqualTo(dir.resolve("dist"));
        assertThat(c.plugins()).isEmpty();
        // never only server_url: install.sh adds the token after it and keeps the rest, which must not be empty
        assertThat(Distribution.JSON.toJson(c.agent().defaultConfig())).isEqualTo(
            "{\n  \"server_url\": \"https://mgmt.example.test:8443\",\n  \"transport\": \"websocket\",\n  \"check_in_interval\": 30\n}");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '^', value = {
        // case | plugins | agent | top | message
        "unknown top-level key | | | , \"plugin\": {} | config key 'plugin' in DIR/packager.json is unknown (known: agent, formats, jdk, maintainer, name, output, plugins, runtime, version)",
        "unknown agent key | | , \"server_urll\": \"x\" | | config key 'agent.server_urll' in DIR/packager.json is unknown (known: check_in_interval, plugins, server_ca, server_url, transport)",
        "unknown policy key | | , \"plugins\": {\"alow\": []} | | config key 'agent.plugins.alow' in DIR/packager.json is unknown (known: allow, deny, require_signed, settings, trust_store)",
        "unknown key in a plugin | \"a.b\": {\"file\": \"hello.jar\", \"sha\": \"x\"} | | | config key 'plugins.a.b.sha' in DIR/packager.json is unknown (known: file, maven, sha256, url)",
        "a plugin word that is no choice | \"plugin.disk\": \"off\" | | | config key 'plugins.plugin.disk' in DIR/packager.json must be \"builtin\", \"none\", {\"file\": JAR}",
        "two sources | \"a.b\": {\"file\": \"hello.jar\", \"maven\": \"a:b:1\"} | | | config key 'plugins.a.b' in DIR/packager.json must name exactly one of 'file', 'maven', 'url', got [file, maven]",
        "a missing local jar | \"a.b\": {\"file\": \"nope.jar\"} | | | config key 'plugins.a.b.file' in DIR/packager.json names a jar that does not exist: DIR/nope.jar",
        "a bad checksum form | \"a.b\": {\"file\": \"hello.jar\", \"sha256\": \"ABC\"} | | | config key 'plugins.a.b.sha256' in DIR/packager.json must be 64 lower-case hex digits (the jar's sha256), got 'ABC'",
        "a url without its checksum | \"a.b\": {\"url\": \"https://x.example/a.jar\"} | | | config key 'plugins.a.b.sha256' in DIR/packager.json is required with 'url'",
        "a plain http url | \"a.b\": {\"url\": \"http://x.example/a.jar\", \"sha256\": \"" + SHA + "\"} | | | config key 'plugins.a.b.url' in DIR/packager.json must be an https:// URL, got 'http://x.example/a.jar'",
        "a bad coordinate | \"a.b\": {\"maven\": \"org.example:lib\"} | | | config key 'plugins.a.b.maven' in DIR/packager.json must be 'GROUP:ARTIFACT:VERSION', got 'org.example:lib'",
        "a key that is no bundle name | \"a b\": \"builtin\" | | | config key 'plugins.a b' in DIR/packager.json is not a bundle symbolic name",
        "a CA that is no certificate | | , \"server_ca\": \"not-a-ca.pem\" | | config key 'agent.server_ca' in DIR/packager.json names a file with no PEM certificate: DIR/not-a-ca.pem",
        "an interval out of range | | , \"check_in_interval\": 2 | | config key 'agent.check_in_interval' in DIR/packager.json must be an integer of seconds, 5..86400, got 2",
        "an unknown transport | | , \"transport\": \"carrier-pigeon\" | | config key 'agent.transport' in DIR/packager.json must be \"websocket\" or \"poll\", got 'carrier-pigeon'",
        "signed plugins without a trust store | | , \"plugins\": {\"require_signed\": true} | | config key 'agent.plugins.require_signed' in DIR/packager.json is true but 'agent.plugins.trust_store' is not set",
        "an unknown format | | | , \"formats\": [\"rpm\"] | config key 'formats' in DIR/packager.json holds \"rpm\": the formats are \"tar.gz\" and \"deb\"",
        "an unknown runtime | | | , \"runtime\": \"graal\" | config key 'runtime' in DIR/packager.json must be \"system\" (the host's Java 17+) or \"jlink\" (a private runtime), got 'graal'",
        "a jdk that is no JDK | | | , \"jdk\": \"/nonexistent\" | config key 'jdk' in DIR/packager.json must be a JDK's folder (with bin/java and release), got '/nonexistent'",
    })
    void aBadConfigIsRefusedNamingTheKeyAndTheValue(String what, String plugins, String agent, String top, String message) {
        String json = config(plugins == null ? "" : plugins, agent == null ? "" : agent, top == null ? "" : top);
        assertThatThrownBy(() -> read(json)).as(what).isInstanceOf(PackagerException.class)
            .hasMessageContaining(message.replace("DIR", dir.toString()))
            .satisfies(e -> assertThat(((PackagerException) e).exitCode()).isEqualTo(2));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '^', value = {
        "no name | {\"version\": \"1\", \"agent\": {\"server_url\": \"https://a\"}} | config key 'name' in DIR/packager.json is required",
        "a bad name | {\"name\": \"Outpost_Acme\", \"version\": \"1\"} | config key 'name' in DIR/packager.json must be a package name: 2-63 lower-case letters, digits, '+', '-', '.', got 'Outpost_Acme'",
        "a bad version | {\"name\": \"acme\", \"version\": \"v1\"} | config key 'version' in DIR/packager.json must be a version: a digit, then letters, digits, '.', '+', '~', got 'v1'",
        "no agent | {\"name\": \"acme\", \"version\": \"1\"} | config key 'agent' in DIR/packager.json is required",
        "no server | {\"name\": \"acme\", \"version\": \"1\", \"agent\": {}} | config key 'agent.server_url' in DIR/packager.json is required",
        "a plain http server | {\"name\": \"acme\", \"version\": \"1\", \"agent\": {\"server_url\": \"http://a\"}} | config key 'agent.server_url' in DIR/packager.json must be an https:// URL like https://host:port, got 'http://a'",
        "a key given twice | {\"name\": \"acme\", \"name\": \"b\"} | key 'name' appears twice in one object (at line 1 column",
        "not JSON | {\"name\": | config file DIR/packager.json: not valid JSON",
        "not an object | [1] | config file DIR/packager.json must hold one JSON object, got [1]",
    })
    void aConfigMissingWhatItNeedsIsRefused(String what, String json, String message) {
        assertThatThrownBy(() -> read(json)).as(what).isInstanceOf(PackagerException.class)
            .hasMessageContaining(message.replace("DIR", dir.toString()));
    }

    @Test
    void aMissingConfigFileIsNamed() {
        assertThatThrownBy(() -> PackagerConfig.read(dir.resolve("nope.json"))).hasMessage("config file " + dir.resolve("nope.json") + " does not exist");
    }
}
