package plugin.disk.internal;

import java.util.regex.Pattern;

import agent.api.InvalidParamException;

/**
 * The syntax of device and mount point params, checked before anything looks at the system. A device name
 * ends up as a program argument and a mount point in fstab, so both are held to a plain character set.
 */
final class DeviceNames {
    private static final Pattern DEVICE = Pattern.compile("/dev(/[A-Za-z0-9._+:@-]+)+");
    private static final Pattern PATH = Pattern.compile("(/[A-Za-z0-9._+:@,-]+)+");

    private DeviceNames() {}

    /**
     * @param param the param's name, for the message
     * @param value its value
     * @return the value, a syntactically safe path under /dev
     * @throws InvalidParamException naming the param and quoting the value
     */
    static String device(String param, String value) throws InvalidParamException {
        if (!value.startsWith("/dev/")) {
            throw new InvalidParamException(param, "must be a device path under /dev such as /dev/sdb, got " + Text.quote(value));
        }
        if (hasDotSegment(value)) {
            throw new InvalidParamException(param, "must not contain '.' or '..' path segments, got " + Text.quote(value));
        }
        if (!DEVICE.matcher(value).matches()) {
            throw new InvalidParamException(param, "may contain only letters, digits and / . _ + : @ - after /dev/, got "
                + Text.quote(value));
        }
        return value;
    }

    /**
     * @param param the param's name, for the message
     * @param value its value
     * @return the value, an absolute normalised path other than "/"
     * @throws InvalidParamException naming the param and quoting the value
     */
    static String mountPoint(String param, String value) throws InvalidParamException {
        if (!value.startsWith("/")) {
            throw new InvalidParamException(param, "must be an absolute path such as /data, got " + Text.quote(value));
        }
        if (value.equals("/")) return value;
        if (hasDotSegment(value) || value.endsWith("/") || value.contains("//")) {
            throw new InvalidParamException(param, "must be a normalised path (no '.', '..', '//' or trailing '/'), got "
                + Text.quote(value));
        }
        if (!PATH.matcher(value).matches()) {
            throw new InvalidParamException(param, "may contain only letters, digits and / . _ + : @ , -, got " + Text.quote(value));
        }
        return value;
    }

    private static boolean hasDotSegment(String path) {
        for (String seg : path.split("/")) {
            if (seg.equals(".") || seg.equals("..")) return true;
        }
        return false;
    }

    /**
     * The kernel's name for partition {@code n} of a disk: a "p" goes between a name that ends in a digit
     * and the number (sda → sda1, nvme0n1 → nvme0n1p1, loop0 → loop0p1, mmcblk0 → mmcblk0p1).
     *
     * @param disk a disk's path or kernel name
     * @param n    a partition number
     * @return the partition's path or name
     */
    static String partition(String disk, int n) {
        char last = disk.charAt(disk.length() - 1);
        return disk + (Character.isDigit(last) ? "p" : "") + n;
    }
}
