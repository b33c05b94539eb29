package agent.core.internal.main;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Tells systemd the agent is ready (the unit's Type=notify). Java 17 cannot send a Unix datagram, so
 * {@code systemd-notify} sends it; run by root (CAP_SYS_ADMIN) with {@code --pid} it sends with this process's pid as
 * the sender, which the unit's NotifyAccess=main accepts.
 */
final class SystemdNotify {
    private static final Logger LOG = Logger.getLogger("agent.core");

    private SystemdNotify() {}

    static void ready() {
        if (System.getenv("NOTIFY_SOCKET") == null) return;
        try {
            Process p = new ProcessBuilder("systemd-notify", "--ready", "--pid=" + ProcessHandle.current().pid())
                .redirectErrorStream(true).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                LOG.warning("systemd-notify --ready did not finish within 10 s");
                return;
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) LOG.warning("systemd-notify --ready failed (exit " + p.exitValue() + "): " + out);
        } catch (IOException e) {
            LOG.warning("cannot tell systemd the agent is ready: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
