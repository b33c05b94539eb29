package runtime.test;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Plugin bundles made at test time, as a plugin author's build would make them but without one: Java sources
 * compiled in this JVM against agent.api (on the test class path), a manifest and Declarative Services component
 * XML written here. Each names the misbehaviour it carries, so a test reads as the plugin it installs.
 */
final class FixturePlugins {
    private FixturePlugins() {}

    /** One bundle to build: its name, version, headers, classes and DS components. */
    static final class Bundle {
        final String bsn;
        final String version;
        final Map<String, String> headers = new LinkedHashMap<>();
        /** Fully qualified class name to its source. */
        final Map<String, String> sources = new LinkedHashMap<>();
        /** Component name to its XML. */
        final Map<String, String> components = new LinkedHashMap<>();

        Bundle(String bsn, String version) {
            this.bsn = bsn;
            this.version = version;
        }

        Bundle header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        Bundle source(String className, String code) {
            sources.put(className, code);
            return this;
        }

        /**
         * An immediate DS component providing CommandHandler for the actions; SCR calls its {@code activate()} method
         * if the class has one (the default name, looked for and not required).
         */
        Bundle handler(String className, String code, String... actions) {
            source(className, code);
            String name = className;
            components.put(name, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<scr:component xmlns:scr=\"http://www.osgi.org/xmlns/scr/v1.3.0\" name=\"" + name + "\" immediate=\"true\">\n"
                + "  <property name=\"outpost.actions\" type=\"String\">" + String.join("\n", actions) + "</property>\n"
                + "  <service><provide interface=\"agent.api.CommandHandler\"/></service>\n"
                + "  <implementation class=\"" + className + "\"/>\n"
                + "</scr:component>\n");
            return this;
        }

        /** Compiles the sources and writes {@code dir/<bsn>-<version>.jar}. */
        Path build(Path dir) throws IOException {
            Files.createDirectories(dir);
            Path work = Files.createTempDirectory(dir, "build-" + bsn + "-");
            Path src = work.resolve("src");
            Path classes = Files.createDirectories(work.resolve("classes"));
            List<String> files = new ArrayList<>();
            for (Map.Entry<String, String> e : sources.entrySet()) {
                Path f = src.resolve(e.getKey().replace('.', '/') + ".java");
                Files.createDirectories(f.getParent());
                Files.writeString(f, e.getValue());
                files.add(f.toString());
            }
            if (!files.isEmpty()) compile(files, classes);

            Manifest mf = new Manifest();
            var a = mf.getMainAttributes();
            a.putValue("Manifest-Version", "1.0");
            a.putValue("Bundle-ManifestVersion", "2");
            a.putValue("Bundle-SymbolicName", bsn);
            a.putValue("Bundle-Version", version);
            if (!components.isEmpty()) {
                a.putValue("Import-Package", "agent.api;version=\"[1.2,2)\"");
                List<String> xml = new ArrayList<>();
                components.keySet().forEach(n -> xml.add("OSGI-INF/" + n + ".xml"));
                a.putValue("Service-Component", String.join(",", xml));
            }
            headers.forEach(a::putValue);

            Path jar = dir.resolve(bsn + "-" + version + ".jar");
            try (OutputStream os = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(os, mf)) {
                for (Map.Entry<String, String> c : components.entrySet()) {
                    jos.putNextEntry(new JarEntry("OSGI-INF/" + c.getKey() + ".xml"));
                    jos.write(c.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    jos.closeEntry();
                }
                try (Stream<Path> all = Files.walk(classes)) {
                    for (Path f : all.filter(Files::isRegularFile).sorted().toList()) {
                        jos.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                        Files.copy(f, jos);
                        jos.closeEntry();
                    }
                }
            }
            return jar;
        }
    }

    private static void compile(List<String> files, Path classes) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac).as("a JDK's compiler (javax.tools) in the test JVM: the fixture plugins are compiled at test time")
            .isNotNull();
        List<String> args = new ArrayList<>(List.of("--release", "17", "-proc:none", "-classpath",
            System.getProperty("java.class.path"), "-d", classes.toString()));
        args.addAll(files);
        StringWriter errors = new StringWriter();
        int rc = javac.run(null, null, new java.io.PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                errors.write(b);
            }
        }), args.toArray(new String[0]));
        assertThat(rc).as("javac of the fixture plugin: %s", errors).isZero();
    }

    /** {@code {"url": "file:...", "sha256": "..."}} for plugin.install and plugin.upgrade. */
    static String jarParams(Path jar) throws Exception {
        return "{\"url\": \"" + jar.toUri() + "\", \"sha256\": \"" + sha256(jar) + "\"}";
    }

    static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    // ------------------------------------------------------------------ the fixtures

    /** A handler whose answer says which build it is: {@code good.hello} answers {@code {"greeting": GREETING}}. */
    static Bundle good(String version, String greeting) {
        return new Bundle("fixture.good", version).handler("fixture.good.GoodHandler", """
            package fixture.good;
            public final class GoodHandler implements agent.api.CommandHandler {
                @Override
                public Object handle(agent.api.CommandContext ctx) {
                    return java.util.Map.of("greeting", "%s");
                }
            }
            """.formatted(greeting), "good.hello");
    }

    /** {@code good.hello} served by a component whose activate() throws: it never comes up. */
    static Bundle throwingActivate(String bsn, String version) {
        return new Bundle(bsn, version).handler("fixture.throwing.ThrowingHandler", """
            package fixture.throwing;
            public final class ThrowingHandler implements agent.api.CommandHandler {
                void activate() {
                    throw new IllegalStateException("fixture refuses to start: no license for this host");
                }
                @Override
                public Object handle(agent.api.CommandContext ctx) {
                    return java.util.Map.of("greeting", "never");
                }
            }
            """, "good.hello");
    }

    /** {@code ctor.hello} served by a component whose constructor throws. */
    static Bundle throwingConstructor() {
        return new Bundle("fixture.ctor", "1.0.0").handler("fixture.ctor.CtorHandler", """
            package fixture.ctor;
            public final class CtorHandler implements agent.api.CommandHandler {
                public CtorHandler() {
                    throw new IllegalStateException("fixture cannot be constructed: no config");
                }
                @Override
                public Object handle(agent.api.CommandContext ctx) {
                    return java.util.Map.of();
                }
            }
            """, "ctor.hello");
    }

    /**
     * {@code missing.hello} served by a component whose XML names an activate method the class lacks: SCR cannot
     * activate it, and records no exception (it logs a line).
     */
    static Bundle missingActivateMethod() {
        Bundle b = new Bundle("fixture.missing", "1.0.0").handler("fixture.missing.MissingHandler", """
            package fixture.missing;
            public final class MissingHandler implements agent.api.CommandHandler {
                @Override
                public Object handle(agent.api.CommandContext ctx) {
                    return java.util.Map.of();
                }
            }
            """, "missing.hello");
        b.components.replaceAll((name, xml) -> xml.replace("immediate=\"true\"", "immediate=\"true\" activate=\"start\""));
        return b;
    }

    /** A component whose activate() never returns, whatever interrupts it: a plugin that hangs at start. */
    static Bundle blockingActivate() {
        return new Bundle("fixture.hang", "1.0.0").handler("fixture.hang.HangingHandler", """
            package fixture.hang;
            public final class HangingHandler implements agent.api.CommandHandler {
                void activate() {
                    while (true) {
                        try {
                            Thread.sleep(Long.MAX_VALUE);
                        } catch (InterruptedException ignored) {
                            // a plugin that hangs does not listen either
                        }
                    }
                }
                @Override
                public Object handle(agent.api.CommandContext ctx) {
                    return java.util.Map.of();
                }
            }
            """, "hang.nothing");
    }

    /**
     * {@code slow.hello} served by a component whose deactivate() takes its time (a plugin flushing its state) and
     * then writes "deactivated" into the file: it is there only if the agent let the plugin finish stopping.
     */
    static Bundle slowDeactivate(Path marker, long millis) {
        return new Bundle("fixture.slowstop", "1.0.0").handler("fixture.slowstop.SlowStopHandler", """
            package fixture.slowstop;
            public final class SlowStopHandler implements agent.api.CommandHandler {
                void deactivate() throws Exception {
                    Thread.sleep(%d);
                    java.nio.file.Files.writeString(java.nio.file.Path.of("%s"), "deactivated");
                }
                @Override
                public Object handle(agent.api.CommandContext ctx) {
                    return java.util.Map.of();
                }
            }
            """.formatted(millis, marker.toAbsolutePath()), "slow.hello");
    }

    /** {@code exit.now}: calls System.exit(0) from its handler. */
    static Bundle systemExit() {
        return new Bundle("fixture.exit", "1.0.0").handler("fixture.exit.ExitHandler", """
            package fixture.exit;
            public final class ExitHandler implements agent.api.CommandHandler {
                @Override
                public Object handle(agent.api.CommandContext ctx) {
                    System.exit(0);
                    return null;
                }
            }
            """, "exit.now");
    }

    /** {@code exec.run}: runs {@code params.argv} through the agent's CommandContext.exec and answers its exit code. */
    static Bundle exec() {
        return new Bundle("fixture.exec", "1.0.0").handler("fixture.exec.ExecHandler", """
            package fixture.exec;
            public final class ExecHandler implements agent.api.CommandHandler {
                @Override
                public Object handle(agent.api.CommandContext ctx) throws Exception {
                    agent.api.ProcessResult r = ctx.exec(agent.api.ProcessSpec.of(ctx.params().strings("argv")));
                    return java.util.Map.of("exitCode", r.exitCode());
                }
            }
            """, "exec.run");
    }

    /**
     * {@code record.append}: appends the command id and a newline to {@code params.file} and forces it to disk before
     * it answers, after an optional {@code params.sleepMs}: every execution leaves a durable trace.
     */
    static Bundle recorder() {
        return new Bundle("fixture.record", "1.0.0").handler("fixture.record.RecordHandler", """
            package fixture.record;
            import java.nio.ByteBuffer;
            import java.nio.channels.FileChannel;
            import java.nio.charset.StandardCharsets;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;
            public final class RecordHandler implements agent.api.CommandHandler {
                @Override
                public Object handle(agent.api.CommandContext ctx) throws Exception {
                    long sleepMs = ctx.params().integer("sleepMs", 0, 60000, 0);
                    if (sleepMs > 0) Thread.sleep(sleepMs);
                    Path file = Path.of(ctx.params().string("file"));
                    byte[] line = (ctx.command().id() + "\\n").getBytes(StandardCharsets.UTF_8);
                    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.APPEND)) {
                        ch.write(ByteBuffer.wrap(line));
                        ch.force(true);
                    }
                    return java.util.Map.of("recorded", ctx.command().id());
                }
            }
            """, "record.append");
    }

    /** A bundle exporting the agent's API package under a higher version (and nothing in it). */
    static Bundle exportingAgentApi() {
        return new Bundle("fixture.fakeapi", "1.0.0").header("Export-Package", "agent.api;version=\"1.99\"");
    }

    /** A library bundle with one class, under the given name: no handlers, nothing exported. */
    static Bundle library(String bsn, String version) {
        String pkg = "fixture.lib" + Integer.toHexString(bsn.hashCode() & 0xffff);
        return new Bundle(bsn, version).source(pkg + ".Util", "package " + pkg + ";\npublic final class Util {}\n");
    }
}
