package plugin.disk.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** One block device as lsblk, blkid, sysfs and the mount table report it; a node of the device tree. */
final class BlockDevice {
    final String path;
    final String kname;
    final String majMin;
    final String type;
    final long sizeBytes;
    final boolean readOnly;
    final String model;
    final String serial;
    String fstype;
    String uuid;
    String label;
    String partUuid;
    String partitionTable;
    Integer partitionNumber;
    List<String> mountPoints = List.of();
    BlockDevice parent;
    final List<BlockDevice> children = new ArrayList<>();

    BlockDevice(String path, String kname, String majMin, String type, long sizeBytes, boolean readOnly, String model,
            String serial) {
        this.path = path;
        this.kname = kname;
        this.majMin = majMin;
        this.type = type;
        this.sizeBytes = sizeBytes;
        this.readOnly = readOnly;
        this.model = model;
        this.serial = serial;
    }

    /** @return whether this is a partition */
    boolean isPartition() { return "part".equals(type); }

    /** @return whether this is a whole disk: lsblk type "disk", or "loop" for a whole loop device */
    boolean isWholeDisk() { return "disk".equals(type) || "loop".equals(type); }

    /** @return the partitions among the children */
    List<BlockDevice> partitions() {
        return children.stream().filter(BlockDevice::isPartition).toList();
    }

    /** @param n a partition number @return that partition, or null */
    BlockDevice partition(int n) {
        for (BlockDevice p : partitions()) {
            if (p.partitionNumber != null && p.partitionNumber == n) return p;
        }
        return null;
    }

    /** @return this device and everything built on it (partitions, LVM volumes, ...) */
    Stream<BlockDevice> subtree() {
        return Stream.concat(Stream.of(this), children.stream().flatMap(BlockDevice::subtree));
    }

    /** @return the first mount point, or null */
    String mountPoint() { return mountPoints.isEmpty() ? null : mountPoints.get(0); }

    /** @return e.g. "/dev/sdb1 (ext4, UUID=..., mounted at /data)" */
    String describe() {
        StringBuilder sb = new StringBuilder(path);
        List<String> facts = new ArrayList<>();
        if (fstype != null) facts.add(fstype);
        if (uuid != null) facts.add("UUID=" + uuid);
        if (label != null) facts.add("LABEL=" + label);
        if (!mountPoints.isEmpty()) facts.add("mounted at " + String.join(", ", mountPoints));
        if (!facts.isEmpty()) sb.append(" (").append(String.join(", ", facts)).append(')');
        return sb.toString();
    }

    @Override
    public String toString() { return path; }
}
