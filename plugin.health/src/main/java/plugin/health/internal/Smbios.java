package plugin.health.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The firmware's SMBIOS table as the kernel exports it ({@code /sys/firmware/dmi/tables/DMI}, readable by root): what
 * {@code dmidecode} decodes, read here without it for the parts an inventory needs: memory devices (type 17) and the
 * memory array's slot count (16), processors (4), system slots (9), port connectors (8) and power supplies (39).
 * Offsets and codes are those of the DMTF SMBIOS specification (DSP0134); every field is read only if the structure
 * is long enough to hold it (older firmware writes shorter structures).
 */
final class Smbios {
    /** One structure: its type, its formatted area and its strings (1-based in the table, 0-based here). */
    record Structure(int type, int handle, byte[] data, List<String> strings) {
        int u8(int off) { return off < data.length ? data[off] & 0xff : -1; }

        int u16(int off) { return off + 1 < data.length ? (data[off] & 0xff) | (data[off + 1] & 0xff) << 8 : -1; }

        long u32(int off) {
            return off + 3 < data.length ? (u16(off) & 0xffffL) | (long) u16(off + 2) << 16 : -1;
        }

        /** @return the string a byte at {@code off} points to, stripped, or null (none, or filled with blanks) */
        String string(int off) {
            int i = u8(off);
            if (i <= 0 || i > strings.size()) return null;
            String s = strings.get(i - 1).strip();
            return s.isEmpty() ? null : s;
        }
    }

    private final List<Structure> structures;

    Smbios(List<Structure> structures) { this.structures = structures; }

    /** @param table the raw table @return its structures, up to the end-of-table marker or the first damaged one */
    static Smbios parse(byte[] table) {
        List<Structure> out = new ArrayList<>();
        int i = 0;
        while (i + 4 <= table.length) {
            int type = table[i] & 0xff;
            int len = table[i + 1] & 0xff;
            if (len < 4 || i + len > table.length) break;
            byte[] data = java.util.Arrays.copyOfRange(table, i, i + len);
            int handle = (table[i + 2] & 0xff) | (table[i + 3] & 0xff) << 8;
            List<String> strings = new ArrayList<>();
            int j = i + len;
            if (j + 1 < table.length && table[j] == 0 && table[j + 1] == 0) {
                j += 2; // no strings
            } else {
                while (j < table.length) {
                    int start = j;
                    while (j < table.length && table[j] != 0) j++;
                    strings.add(new String(table, start, j - start, StandardCharsets.ISO_8859_1));
                    j++;
                    if (j < table.length && table[j] == 0) {
                        j++;
                        break;
                    }
                }
            }
            out.add(new Structure(type, handle, data, strings));
            if (type == 127) break;
            i = j;
        }
        return new Smbios(out);
    }

    List<Structure> ofType(int type) {
        List<Structure> l = new ArrayList<>();
        for (Structure s : structures) if (s.type() == type) l.add(s);
        return l;
    }

    private static final Map<Integer, String> MEMORY_TYPES = Map.ofEntries(
        Map.entry(0x01, "Other"), Map.entry(0x02, "Unknown"), Map.entry(0x03, "DRAM"), Map.entry(0x07, "RAM"),
        Map.entry(0x0F, "SDRAM"), Map.entry(0x12, "DDR"), Map.entry(0x13, "DDR2"), Map.entry(0x14, "DDR2 FB-DIMM"),
        Map.entry(0x18, "DDR3"), Map.entry(0x1A, "DDR4"), Map.entry(0x1B, "LPDDR"), Map.entry(0x1C, "LPDDR2"),
        Map.entry(0x1D, "LPDDR3"), Map.entry(0x1E, "LPDDR4"), Map.entry(0x1F, "Logical non-volatile device"),
        Map.entry(0x20, "HBM"), Map.entry(0x21, "HBM2"), Map.entry(0x22, "DDR5"), Map.entry(0x23, "LPDDR5"), Map.entry(0x24, "HBM3"));

    private static final Map<Integer, String> FORM_FACTORS = Map.ofEntries(
        Map.entry(0x01, "Other"), Map.entry(0x02, "Unknown"), Map.entry(0x03, "SIMM"), Map.entry(0x04, "SIP"),
        Map.entry(0x05, "Chip"), Map.entry(0x06, "DIP"), Map.entry(0x07, "ZIP"), Map.entry(0x08, "Proprietary Card"),
        Map.entry(0x09, "DIMM"), Map.entry(0x0A, "TSOP"), Map.entry(0x0B, "Row of chips"), Map.entry(0x0C, "RIMM"),
        Map.entry(0x0D, "SODIMM"), Map.entry(0x0E, "SRIMM"), Map.entry(0x0F, "FB-DIMM"), Map.entry(0x10, "Die"));

    /** @return installed memory modules (type 17 with a size); empty slots are counted by {@link #memorySlots()} */
    List<Object> memoryModules() {
        List<Object> out = new ArrayList<>();
        for (Structure s : ofType(17)) {
            long size = moduleBytes(s);
            if (size <= 0) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("locator", s.string(0x10));
            m.put("bank", s.string(0x11));
            m.put("sizeBytes", size);
            int type = s.u8(0x12);
            m.put("type", MEMORY_TYPES.getOrDefault(type, type <= 0 ? null : "type 0x" + Integer.toHexString(type)));
            m.put("formFactor", FORM_FACTORS.get(s.u8(0x0E)));
            int speed = s.u16(0x15);
            if (speed == 0xFFFF) speed = (int) s.u32(0x54);
            m.put("speedMts", speed <= 0 ? null : speed);
            int configured = s.u16(0x20);
            m.put("configuredSpeedMts", configured <= 0 || configured == 0xFFFF ? null : configured);
            m.put("manufacturer", s.string(0x17));
            m.put("serial", s.string(0x18));
            m.put("assetTag", s.string(0x19));
            m.put("partNumber", s.string(0x1A));
            out.add(m);
        }
        return out;
    }

    private static long moduleBytes(Structure s) {
        int size = s.u16(0x0C);
        if (size <= 0 || size == 0xFFFF) return 0; // no module installed, or unknown
        if (size == 0x7FFF) return (s.u32(0x1C) & 0x7FFFFFFFL) << 20; // extended size, in MiB
        return (size & 0x8000) != 0 ? (long) (size & 0x7FFF) << 10 : (long) size << 20;
    }

    /** @return the number of memory device slots of the system memory arrays (type 16, use 3 = system memory), or null */
    Integer memorySlots() {
        int n = 0;
        boolean any = false;
        for (Structure s : ofType(16)) {
            if (s.u8(0x05) != 3) continue;
            int d = s.u16(0x0D);
            if (d > 0) {
                n += d;
                any = true;
            }
        }
        return any ? n : null;
    }

    /** @return processors (type 4): socket, manufacturer, version, speeds, cores and threads as the firmware tells them */
    List<Object> processors() {
        List<Object> out = new ArrayList<>();
        for (Structure s : ofType(4)) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("socket", s.string(0x04));
            p.put("populated", s.u8(0x18) >= 0 ? (s.u8(0x18) & 0x40) != 0 : null);
            p.put("manufacturer", s.string(0x07));
            p.put("version", s.string(0x10));
            p.put("externalClockMhz", positive(s.u16(0x12)));
            p.put("maxSpeedMhz", positive(s.u16(0x14)));
            p.put("currentSpeedMhz", positive(s.u16(0x16)));
            int cores = s.u8(0x23);
            if (cores == 0xFF) cores = s.u16(0x2A);
            int threads = s.u8(0x25);
            if (threads == 0xFF) threads = s.u16(0x2E);
            p.put("cores", positive(cores));
            p.put("threads", positive(threads));
            out.add(p);
        }
        return out;
    }

    private static Integer positive(int v) { return v > 0 && v != 0xFFFF ? v : null; }

    private static final Map<Integer, String> SLOT_TYPES = slotTypes();

    private static Map<Integer, String> slotTypes() {
        Map<Integer, String> m = new java.util.HashMap<>(Map.of(0x01, "Other", 0x02, "Unknown", 0x03, "ISA", 0x06, "PCI",
            0x0E, "PCI 66 MHz", 0x0F, "AGP", 0x10, "AGP 2x", 0x11, "AGP 4x", 0x12, "PCI-X", 0x13, "AGP 8x"));
        // PCI Express: a generation's code, then its x1, x2, x4, x8 and x16 codes
        int[][] gens = {{0xA5, 1}, {0xAB, 2}, {0xB1, 3}, {0xB8, 4}, {0xBE, 5}};
        String[] widths = {"", " x1", " x2", " x4", " x8", " x16"};
        for (int[] g : gens) {
            for (int w = 0; w < widths.length; w++) {
                m.put(g[0] + w, "PCI Express" + (g[1] == 1 ? "" : " Gen " + g[1]) + widths[w]);
            }
        }
        return Map.copyOf(m);
    }

    /** @return system slots (type 9): designation, type, whether in use */
    List<Object> slots() {
        List<Object> out = new ArrayList<>();
        for (Structure s : ofType(9)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("designation", s.string(0x04));
            int type = s.u8(0x05);
            m.put("type", SLOT_TYPES.getOrDefault(type, type < 0 ? null : "type 0x" + Integer.toHexString(type)));
            int usage = s.u8(0x07);
            m.put("status", usage == 3 ? "available" : usage == 4 ? "in use" : usage == 5 ? "unavailable" : "unknown");
            m.put("id", s.u16(0x09) < 0 ? null : s.u16(0x09));
            out.add(m);
        }
        return out;
    }

    private static final Map<Integer, String> PORT_TYPES = Map.ofEntries(
        Map.entry(0x00, "None"), Map.entry(0x01, "Parallel Port XT/AT Compatible"), Map.entry(0x02, "Parallel Port PS/2"),
        Map.entry(0x03, "Parallel Port ECP"), Map.entry(0x04, "Parallel Port EPP"), Map.entry(0x05, "Parallel Port ECP/EPP"),
        Map.entry(0x06, "Serial Port XT/AT Compatible"), Map.entry(0x07, "Serial Port 16450 Compatible"),
        Map.entry(0x08, "Serial Port 16550 Compatible"), Map.entry(0x09, "Serial Port 16550A Compatible"),
        Map.entry(0x0A, "SCSI Port"), Map.entry(0x0B, "MIDI Port"), Map.entry(0x0C, "Joy Stick Port"), Map.entry(0x0D, "Keyboard Port"),
        Map.entry(0x0E, "Mouse Port"), Map.entry(0x0F, "SSA SCSI"), Map.entry(0x10, "USB"), Map.entry(0x11, "Firewire (IEEE P1394)"),
        Map.entry(0x17, "SCSI II"), Map.entry(0x18, "SCSI Wide"), Map.entry(0x1C, "Video Port"), Map.entry(0x1D, "Audio Port"),
        Map.entry(0x1E, "Modem Port"), Map.entry(0x1F, "Network Port"), Map.entry(0x20, "SATA"), Map.entry(0x21, "SAS"),
        Map.entry(0x22, "MFDP"), Map.entry(0x23, "Thunderbolt"), Map.entry(0xFF, "Other"));

    /** @return port connectors (type 8): internal and external designators, port type */
    List<Object> ports() {
        List<Object> out = new ArrayList<>();
        for (Structure s : ofType(8)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("internalDesignator", s.string(0x04));
            m.put("externalDesignator", s.string(0x06));
            int type = s.u8(0x08);
            m.put("type", PORT_TYPES.getOrDefault(type, type < 0 ? null : "type 0x" + Integer.toHexString(type)));
            out.add(m);
        }
        return out;
    }

    /** @return power supplies (type 39): location, name, maker, serial, model, revision, capacity, present/plugged */
    List<Object> powerSupplies() {
        List<Object> out = new ArrayList<>();
        for (Structure s : ofType(39)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("location", s.string(0x05));
            m.put("name", s.string(0x06));
            m.put("manufacturer", s.string(0x07));
            m.put("serial", s.string(0x08));
            m.put("partNumber", s.string(0x0A));
            m.put("revision", s.string(0x0B));
            int watts = s.u16(0x0C);
            m.put("maxPowerWatts", watts <= 0 || watts == 0x8000 ? null : watts);
            int chars = s.u16(0x0E);
            m.put("present", chars < 0 ? null : (chars & 0x2) != 0);
            m.put("pluggedIn", chars < 0 ? null : (chars & 0x4) == 0);
            m.put("hotReplaceable", chars < 0 ? null : (chars & 0x1) != 0);
            out.add(m);
        }
        return out;
    }
}
