package plugin.health.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.SettingsType;

/**
 * {@code health.inventory}: the host's asset inventory in one document ({@link Inventory}): OS, kernel, identity,
 * virtualisation, DMI and SMBIOS, CPU, memory and its modules, block devices, filesystems, network, PCI and USB
 * devices, slots, ports, power supplies, batteries, sound, inputs, monitors, time zone, uptime. Reads only, starts no
 * process.
 */
@Component
@Actions("health.inventory")
@SettingsType(HealthSettings.class)
public final class InventoryReader implements CommandHandler {
    /** the filesystem root read; tests point it at a fixture tree */
    Path root = Path.of("/");

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        Map<String, Object> inv = new Inventory(root).collect();
        ctx.output().println(summary(inv));
        return inv;
    }

    @SuppressWarnings("unchecked")
    private static String summary(Map<String, Object> inv) {
        Map<String, Object> os = (Map<String, Object>) inv.get("os");
        Map<String, Object> kernel = (Map<String, Object>) inv.get("kernel");
        Map<String, Object> virt = (Map<String, Object>) inv.get("virtualization");
        Map<String, Object> cpu = (Map<String, Object>) inv.get("cpu");
        Map<String, Object> mem = (Map<String, Object>) inv.get("memory");
        return inv.get("hostname") + ": " + os.get("prettyName") + ", Linux " + kernel.get("release") + " " + inv.get("architecture")
            + "; " + virt.get("type") + (virt.get("hypervisor") != null ? " (" + virt.get("hypervisor") + ")" : "")
            + (virt.get("container") != null ? " in " + virt.get("container") : "")
            + "; " + cpu.get("model") + ", " + cpu.get("sockets") + " socket(s), " + cpu.get("cores") + " core(s), "
            + cpu.get("threads") + " thread(s); " + mem.get("totalBytes") + " bytes of memory; "
            + ((List<?>) inv.get("blockDevices")).size() + " block device(s), " + ((List<?>) inv.get("pci")).size() + " PCI device(s)";
    }
}
