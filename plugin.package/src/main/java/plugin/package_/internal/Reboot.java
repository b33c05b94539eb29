package plugin.package_.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Whether the host needs a reboot after package changes, and why: the manager's own signal where it has one
 * (Debian's {@code /run/reboot-required}, {@code needs-restarting -r}, {@code zypper needs-rebooting}), else the kernel
 * in use against the newest one installed.
 *
 * @param required whether a reboot is needed
 * @param reason   what says so, or why it cannot be told; null when nothing says so
 */
record Reboot(boolean required, String reason) {
    static Reboot no() { return new Reboot(false, null); }

    /**
     * @param running the release of the kernel in use ({@code /proc/sys/kernel/osrelease})
     * @param dirs    where installed kernels show: {@code /boot} ({@code vmlinuz-RELEASE}) and the modules directories
     *                (one directory per release)
     * @param order   the distribution's version order
     */
    static Reboot byKernel(String running, List<Path> dirs, Comparator<String> order) {
        List<String> installed = new ArrayList<>();
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) continue;
            boolean boot = d.getFileName() != null && d.getFileName().toString().equals("boot");
            try (DirectoryStream<Path> s = Files.newDirectoryStream(d)) {
                for (Path p : s) {
                    String n = p.getFileName().toString();
                    if (boot && n.startsWith("vmlinuz-")) installed.add(n.substring("vmlinuz-".length()));
                    else if (!boot && Files.isDirectory(p.resolve("kernel"))) installed.add(n);
                }
            } catch (IOException e) {
                // unreadable: as if none
            }
        }
        if (installed.isEmpty() || running == null) return no();
        String newest = installed.stream().max(order).orElseThrow();
        if (newest.equals(running) || order.compare(newest, running) <= 0) return no();
        return new Reboot(true, "the kernel in use is " + running + ", the newest installed is " + newest);
    }

    static Reboot byKernel(Comparator<String> order) {
        String running = null;
        try {
            running = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            // not Linux's /proc: cannot tell
        }
        return byKernel(running, List.of(Path.of("/boot"), Path.of("/lib/modules"), Path.of("/usr/lib/modules")), order);
    }
}
