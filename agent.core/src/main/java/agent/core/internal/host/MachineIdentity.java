package agent.core.internal.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The agent id when the config sets none (docs/protocol.md §2): Xen VM UUID, DMI product UUID, then machine-id. */
public final class MachineIdentity {
    private MachineIdentity() {}

    /** @param configured the config's {@code agent_id}, or null @return the agent's id */
    public static String agentId(String configured) {
        if (configured != null) return configured;
        String xen = xenVmUuid();
        if (xen != null) return xen;
        String dmi = firstLine(Path.of("/sys/class/dmi/id/product_uuid"));
        if (dmi != null) return dmi.toLowerCase();
        String mid = firstLine(Path.of("/etc/machine-id"));
        return mid != null ? mid : "unknown-" + hostname();
    }

    /** @return the host's name, from the kernel */
    public static String hostname() {
        String h = firstLine(Path.of("/proc/sys/kernel/hostname"));
        return h != null ? h : "localhost";
    }

    private static String xenVmUuid() {
        if (!Files.exists(Path.of("/proc/xen")) && !Files.exists(Path.of("/dev/xen"))) return null;
        try {
            Process p = new ProcessBuilder("xenstore-read", "vm").redirectErrorStream(true).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            // "/vm/<uuid>"
            return p.exitValue() == 0 && !out.isEmpty() ? out.substring(out.lastIndexOf('/') + 1) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String firstLine(Path p) {
        try {
            String s = Files.readString(p, StandardCharsets.UTF_8).trim();
            return s.isEmpty() ? null : s.lines().findFirst().orElse(null);
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
