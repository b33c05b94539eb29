package plugin.health.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Names of PCI and USB vendors and devices from the hwdata databases ({@code pci.ids}, {@code usb.ids}, installed with
 * pciutils and usbutils), as {@code lspci} and {@code lsusb} show them. One pass over the file per inventory, keeping
 * only the ids asked for: the PCI file is 1.3 MB and 35,000 lines, and an inventory names a few dozen devices.
 */
final class DeviceIds {
    static final List<String> PCI_FILES = List.of("/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids");
    static final List<String> USB_FILES = List.of("/usr/share/misc/usb.ids", "/var/lib/usbutils/usb.ids", "/usr/share/hwdata/usb.ids");

    private final Map<String, String> names = new HashMap<>();
    final String source;

    private DeviceIds(String source) { this.source = source; }

    /**
     * @param host    the host's files
     * @param files   where the database may be, in order
     * @param vendors vendor ids wanted (4 lower-case hex digits)
     * @param devices "vendor:device" ids wanted
     * @param classes PCI "class" (2 hex digits) and "class:subclass" ids wanted; empty for USB
     * @return the names found; keys are the ids as given
     */
    static DeviceIds lookup(HostFiles host, List<String> files, Set<String> vendors, Set<String> devices, Set<String> classes) {
        for (String f : files) {
            Path p = host.path(f);
            if (!Files.isReadable(p)) continue;
            DeviceIds ids = new DeviceIds(f);
            try {
                ids.scan(Files.readAllBytes(p), vendors, devices, classes);
            } catch (IOException e) {
                continue;
            }
            return ids;
        }
        return new DeviceIds(null);
    }

    /**
     * Walks the file's lines as bytes and makes a String only of the lines it keeps: most of the 35,000 lines are
     * skipped by their first bytes (subsystem lines start with two tabs, devices of vendors not asked for are passed).
     */
    private void scan(byte[] b, Set<String> vendors, Set<String> devices, Set<String> classes) {
        String block = null;   // the vendor (or class) whose lines follow, if it is one asked for
        boolean inClasses = false;
        int n = b.length;
        int i = 0;
        while (i < n) {
            int end = i;
            while (end < n && b[end] != '\n') end++;
            int len = end - i;
            if (len > 0 && b[i] != '#') {
                if (b[i] != '\t') {
                    if (b[i] == 'C' && len >= 4 && b[i + 1] == ' ') {
                        inClasses = true;
                        String cls = ascii(b, i + 2, 2);
                        block = classes.contains(cls) ? cls : null;
                        if (block != null) names.put("class " + cls, text(b, i + 4, end));
                    } else if (len > 6 && b[i + 4] == ' ' && hex(b, i, 4)) {
                        inClasses = false;
                        String vendor = ascii(b, i, 4);
                        block = vendors.contains(vendor) || wantsDevicesOf(devices, vendor) ? vendor : null;
                        if (block != null && vendors.contains(vendor)) names.put(vendor, text(b, i + 4, end));
                    } else {
                        block = null; // another list (usb.ids has several after the vendors)
                    }
                } else if (block != null && len >= 3 && b[i + 1] != '\t') {
                    if (inClasses) {
                        String id = block + ":" + ascii(b, i + 1, 2);
                        if (classes.contains(id)) names.put("class " + id, text(b, i + 3, end));
                    } else if (len > 6 && hex(b, i + 1, 4)) {
                        String id = block + ":" + ascii(b, i + 1, 4);
                        if (devices.contains(id)) names.put(id, text(b, i + 5, end));
                    }
                }
            }
            i = end + 1;
        }
    }

    private final java.util.Map<String, Boolean> vendorsOfDevices = new HashMap<>();

    private boolean wantsDevicesOf(Set<String> devices, String vendor) {
        if (vendorsOfDevices.isEmpty()) {
            for (String d : devices) vendorsOfDevices.put(d.substring(0, d.indexOf(':')), true);
        }
        return vendorsOfDevices.containsKey(vendor);
    }

    private static boolean hex(byte[] b, int from, int count) {
        for (int i = from; i < from + count; i++) {
            if (Character.digit(b[i], 16) < 0) return false;
        }
        return true;
    }

    private static String ascii(byte[] b, int from, int count) { return new String(b, from, count, StandardCharsets.ISO_8859_1); }

    private static String text(byte[] b, int from, int end) {
        return new String(b, Math.min(from, end), end - Math.min(from, end), StandardCharsets.ISO_8859_1).strip();
    }

    /** @return the vendor's name, or null */
    String vendor(String vendor) { return names.get(vendor); }

    /** @return the device's name, or null */
    String device(String vendor, String device) { return names.get(vendor + ":" + device); }

    /** @return the PCI subclass's name, else its class's with the code (as lspci: "Unassigned class [ffff]"), or null */
    String pciClass(String cls, String subclass) {
        String n = names.get("class " + cls + ":" + subclass);
        if (n != null) return n;
        String c = names.get("class " + cls);
        return c == null ? null : c + " [" + cls + subclass + "]";
    }
}
