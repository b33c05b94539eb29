package packager;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.jar.Attributes;
import java.util.jar.JarInputStream;
import java.util.jar.Manifest;

/**
 * One bundle of the runtime as its manifest describes it.
 *
 * @param bsn     Bundle-SymbolicName, without its directives
 * @param version Bundle-Version
 * @param plugin  whether it serves actions (its manifest provides the agent.api.CommandHandler service): the agent
 *                tells its core from its plugins the same way
 * @param bytes   the jar
 * @param origin  where it came from, for messages: "the agent's runtime", "plugins.com.acme.hello (file ...)"
 */
record BundleJar(String bsn, String version, boolean plugin, byte[] bytes, String origin) {
    /** The bundle that is the agent: it serves the agent.* actions, and is never a plugin. */
    static final String AGENT = "agent.core";

    /**
     * @param bytes  a jar
     * @param origin where it came from
     * @return what its manifest says
     * @throws IOException when it is not a jar or not a bundle (the message names the origin)
     */
    static BundleJar of(byte[] bytes, String origin) throws IOException {
        Manifest mf;
        try (InputStream in = new ByteArrayInputStream(bytes); JarInputStream jar = new JarInputStream(in)) {
            mf = jar.getManifest();
        } catch (IOException e) {
            throw new IOException(origin + " is not a jar: " + e.getMessage());
        }
        Attributes a = mf == null ? null : mf.getMainAttributes();
        String bsn = a == null ? null : a.getValue("Bundle-SymbolicName");
        if (bsn == null || bsn.isBlank()) throw new IOException(origin + " is not an OSGi bundle: its manifest has no Bundle-SymbolicName");
        bsn = bsn.split(";", 2)[0].trim();
        String version = a.getValue("Bundle-Version");
        String caps = a.getValue("Provide-Capability");
        // agent.core serves actions too (agent.*), but it is the agent itself: core by identity, as the agent's own
        // PluginInventory.isCore has it
        boolean plugin = !bsn.equals(AGENT) && caps != null && caps.contains("osgi.service") && caps.contains("agent.api.CommandHandler");
        return new BundleJar(bsn, version == null ? "0.0.0" : version.trim(), plugin, bytes, origin);
    }

    /** @param file a jar @param origin where it came from @return its bundle @throws IOException as {@link #of(byte[], String)} */
    static BundleJar read(Path file, String origin) throws IOException { return of(Files.readAllBytes(file), origin); }

    /** @return the jar's sha256, in hex */
    String sha256() { return sha256(bytes); }

    /** @param bytes anything @return its sha256 in lower-case hex */
    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /** @return the name the runtime jar stores it under, as bnd's export names its bundles: {@code jar/BSN-VERSION.jar} */
    String entryName() { return "jar/" + bsn + "-" + version + ".jar"; }
}
