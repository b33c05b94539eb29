package plugin.health.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.SettingsType;

/**
 * {@code health.report} (param {@code sampleMs}, default 200): one snapshot, CPU usage measured over {@code sampleMs}.
 * Reads only, starts no process. The data also says what the snapshot cost ({@code cost.cpuMs}, the reading's own CPU
 * time without the sampling wait), which is how the benchmark measures it in the real runtime.
 */
@Component
@Actions("health.report")
@SettingsType(HealthSettings.class)
public final class HealthReporter implements CommandHandler {
    /** the filesystem root read; tests point it at a fixture tree */
    Path root = Path.of("/");

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        long sampleMs = ctx.params().integer("sampleMs", 0, 10000, 200);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        long wall0 = System.nanoTime();
        HealthSampler sampler = new HealthSampler(root);
        HealthSampler.CpuTimes a = sampler.cpuTimes();
        long cpuWaiting = threads.getCurrentThreadCpuTime();
        if (sampleMs > 0) Thread.sleep(sampleMs); // interrupted by a cancel
        long cpuAwake = threads.getCurrentThreadCpuTime();
        ctx.checkCancelled();
        HealthSampler.CpuTimes b = sampler.cpuTimes();
        Map<String, Object> data = sampler.snapshot(a, b, Instant.now());
        long cpu1 = threads.getCurrentThreadCpuTime();
        Map<String, Object> cost = new LinkedHashMap<>();
        cost.put("cpuMs", HostFiles.round2(((cpuWaiting - cpu0) + (cpu1 - cpuAwake)) / 1e6));
        cost.put("wallMs", (System.nanoTime() - wall0) / 1_000_000);
        data.put("cost", cost);
        ctx.output().println(summary(data));
        return data;
    }

    @SuppressWarnings("unchecked")
    static String summary(Map<String, Object> d) {
        StringBuilder sb = new StringBuilder();
        Map<String, Object> cpu = (Map<String, Object>) d.get("cpu");
        sb.append("cpu ").append(cpu.get("usagePercent")).append(" % of ").append(cpu.get("cores")).append(" cores");
        Map<String, Object> load = (Map<String, Object>) d.get("load");
        if (load != null) sb.append(", load ").append(load.get("load1")).append(' ').append(load.get("load5")).append(' ').append(load.get("load15"));
        Map<String, Object> mem = (Map<String, Object>) d.get("memory");
        if (mem != null) sb.append(", memory available ").append(mem.get("availablePercent")).append(" %");
        Map<String, Object> swap = (Map<String, Object>) d.get("swap");
        if (swap != null && ((Number) swap.get("totalBytes")).longValue() > 0) sb.append(", swap used ").append(swap.get("usedPercent")).append(" %");
        for (Object o : (List<Object>) d.get("filesystems")) {
            Map<String, Object> fs = (Map<String, Object>) o;
            sb.append("\n").append(fs.get("mountpoint")).append(" (").append(fs.get("fstype")).append(") ").append(fs.get("usedPercent"))
                .append(" % used");
            if (fs.get("inodesUsedPercent") != null) sb.append(", inodes ").append(fs.get("inodesUsedPercent")).append(" %");
        }
        return sb.toString();
    }
}
