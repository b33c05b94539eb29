package plugin.dataset.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import agent.api.AgentPaths;
import agent.testkit.Outcome;
import agent.testkit.TestContext;

/** What the data set tests share: a temp host root, the agent's data dir, an HTTPS server on loopback. */
abstract class DatasetTestBase {
    @TempDir
    Path root;
    Path dataDir;
    TestHttpsServer server;

    @BeforeEach
    void startServer() throws Exception {
        dataDir = Files.createDirectories(root.resolve("var/lib/outpost"));
        server = new TestHttpsServer(TestTls.get().serverKeystore);
    }

    @AfterEach
    void stopServer() throws IOException { server.close(); }

    /** The agent's paths under the temp root, as the core's AgentPaths gives them. */
    static AgentPaths paths(Path dataDir) {
        return new AgentPaths() {
            @Override
            public Path dataDir() { return dataDir; }

            @Override
            public Path pluginDir(String name) {
                try {
                    return Files.createDirectories(dataDir.resolve("plugins-data").resolve(name));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            @Override
            public Path scriptsDir() { return dataDir.resolve("scripts"); }

            @Override
            public Path runDir() { return dataDir.resolve("run"); }
        };
    }

    Path target(String name) { return root.resolve("srv/data").resolve(name); }

    /** The settings every test uses: trust the test CA, retry fast. */
    static Map<String, Object> settings(String caPem) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("ca_file", caPem);
        s.put("retry_delay_ms", 10);
        s.put("stall_seconds", 10);
        return s;
    }

    TestContext install(String name, String version, String path, byte[] content, Path target) throws Exception {
        server.serve(path, content);
        return TestContext.forAction("dataset.install").param("name", name).param("version", version).param("url", server.url(path))
            .param("sha256", sha256(content)).param("target", target.toString()).settings(settings(TestTls.get().caPem.toString()));
    }

    Outcome run(TestContext c) {
        DatasetInstaller d = new DatasetInstaller();
        d.paths = paths(dataDir);
        return c.run(d);
    }

    Outcome list() {
        DatasetLister l = new DatasetLister();
        l.paths = paths(dataDir);
        return TestContext.forAction("dataset.list").run(l);
    }

    Outcome remove(String name, boolean dryRun) {
        DatasetRemover r = new DatasetRemover();
        r.paths = paths(dataDir);
        return TestContext.forAction("dataset.remove").param("name", name).dryRun(dryRun).run(r);
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String tool(Path dir, String... cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError(cmd[0] + " is needed by this test (packages tar, gzip, zstd, util-linux): " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", cmd), out).isZero();
        return out;
    }

    /** @return every entry of a tree: relative name → "file <sha256> <mode>", "dir", or "link <target>" */
    static Map<String, String> tree(Path top) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(top)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(top)) continue;
                String rel = top.relativize(p).toString();
                if (Files.isSymbolicLink(p)) out.put(rel, "link " + Files.readSymbolicLink(p));
                else if (Files.isDirectory(p)) out.put(rel, "dir");
                else {
                    try {
                        out.put(rel, "file " + sha256(Files.readAllBytes(p)) + " " + java.nio.file.attribute.PosixFilePermissions.toString(
                            Files.getPosixFilePermissions(p)));
                    } catch (Exception e) {
                        throw new IOException(e);
                    }
                }
            }
        }
        return out;
    }

    /** @return the names in a directory (hidden ones too), sorted; empty if it does not exist */
    static List<String> names(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> data(Outcome o) { return (Map<String, Object>) o.wireData(); }
}
