package plugin.disk.internal;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import agent.api.Actions;
import agent.api.CommandContext;
import agent.api.CommandHandler;
import agent.api.ConcurrencyKey;
import agent.api.DryRun;
import agent.api.SettingsType;

/**
 * {@code disk.list}: every block device lsblk reports, as a tree (disks → partitions → LVM volumes ...),
 * with size, type, filesystem type, UUID, label, mount points and the usage of mounted filesystems.
 */
@Component
@Actions("disk.list")
@ConcurrencyKey("disk")
@DryRun
@SettingsType(DiskSettings.class)
public final class DiskLister implements CommandHandler {
    Tools tools = Tools.fromEnvironment();

    @Override
    public Object handle(CommandContext ctx) throws Exception {
        tools.requireAll("lsblk", "blkid");
        BlockDevices devices = BlockDevices.scan(ctx, tools);
        List<Object> list = new ArrayList<>();
        for (BlockDevice d : devices.roots()) list.add(describe(d));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("devices", list);
        ctx.output().println(list.size() + " block device(s)");
        return data;
    }

    static Map<String, Object> describe(BlockDevice d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", Path.of(d.kname).getFileName().toString());
        m.put("path", d.path);
        m.put("type", d.type);
        m.put("sizeBytes", d.sizeBytes);
        m.put("readOnly", d.readOnly);
        if (d.isPartition()) m.put("partitionNumber", d.partitionNumber);
        else {
            m.put("model", d.model);
            m.put("serial", d.serial);
            m.put("partitionTable", d.partitionTable);
        }
        m.put("fstype", d.fstype);
        m.put("uuid", d.uuid);
        m.put("label", d.label);
        if (d.isPartition()) m.put("partUuid", d.partUuid);
        m.put("mountpoint", d.mountPoint());
        m.put("mountpoints", d.mountPoints);
        m.put("usage", d.mountPoint() == null ? null : usage(Path.of(d.mountPoint())));
        List<Object> partitions = new ArrayList<>();
        List<Object> others = new ArrayList<>();
        for (BlockDevice c : d.children) (c.isPartition() ? partitions : others).add(describe(c));
        if (!d.isPartition()) m.put("partitions", partitions);
        m.put("children", others);
        return m;
    }

    /** statfs of a mount point, as df shows it; null if it cannot be read (the list must still come back). */
    static Map<String, Object> usage(Path mountPoint) {
        try {
            FileStore fs = Files.getFileStore(mountPoint);
            long total = fs.getTotalSpace();
            Map<String, Object> u = new LinkedHashMap<>();
            u.put("totalBytes", total);
            u.put("usedBytes", total - fs.getUnallocatedSpace());
            u.put("availableBytes", fs.getUsableSpace());
            return u;
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
