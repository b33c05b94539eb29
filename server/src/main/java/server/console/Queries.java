package server.console;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

import server.store.ServerStore;

/**
 * What the console's pages read from the store. Every list is a page of rows chosen by SQL (filters, order, limit):
 * no page reads every agent or every event, so a fleet of thousands costs each view a few milliseconds.
 */
final class Queries {
    private final ServerStore store;
    /** Polling agents seen within this long count as online. */
    private final long pollOnlineMillis;

    Queries(ServerStore store, int checkInSeconds) {
        this.store = store;
        // three missed check-ins, and some slack for a slow one
        this.pollOnlineMillis = checkInSeconds * 3000L + 10_000L;
    }

    String pollOnlineSince(long nowMillis) {
        return java.time.Instant.ofEpochMilli(nowMillis - pollOnlineMillis).toString();
    }

    // ---------------------------------------------------------------- fleet

    /** The fleet page's filters; null or empty means "any". */
    record FleetFilter(String q, String state, boolean alerting, String os, String plugin) {
        boolean any() {
            return !blank(q) || !blank(state) || alerting || !blank(os) || !blank(plugin);
        }
    }

    static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** One row of the fleet table. {@code plugins} is the JSON list the agent last reported. */
    record FleetRow(String agentId, String hostname, String transport, boolean connectedInStore, String lastSeen, String osName,
                    String osVersion, String agentVersion, String plugins, int openAlerts) {}

    record Page<T>(List<T> rows, int total) {}

    private record Where(String sql, List<Object> args) {}

    private Where fleetWhere(FleetFilter f, long nowMillis) {
        StringBuilder sql = new StringBuilder(" WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (!blank(f.q())) {
            sql.append(" AND (a.hostname LIKE ? ESCAPE '\\' OR a.agent_id LIKE ? ESCAPE '\\')");
            String like = "%" + f.q().trim().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
            args.add(like);
            args.add(like);
        }
        if (!blank(f.state())) {
            String since = pollOnlineSince(nowMillis);
            switch (f.state()) {
                case "connected" -> sql.append(" AND a.connected = 1");
                case "polling" -> {
                    sql.append(" AND a.connected = 0 AND a.transport = 'poll' AND a.last_seen >= ?");
                    args.add(since);
                }
                case "online" -> {
                    sql.append(" AND (a.connected = 1 OR a.transport = 'poll' AND a.last_seen >= ?)");
                    args.add(since);
                }
                case "disconnected" -> {
                    sql.append(" AND a.connected = 0 AND NOT (coalesce(a.transport, '') = 'poll' AND coalesce(a.last_seen, '') >= ?)");
                    args.add(since);
                }
                default -> throw new IllegalArgumentException("state must be connected, polling, online or disconnected, got '" + f.state() + "'");
            }
        }
        if (f.alerting()) sql.append(" AND EXISTS (SELECT 1 FROM alerts l WHERE l.agent_id = a.agent_id AND l.state = 'firing')");
        if (!blank(f.os())) {
            sql.append(" AND json_valid(a.hello) AND " + OS + " = ?");
            args.add(f.os());
        }
        if (!blank(f.plugin())) {
            // bsn, or bsn@version
            String bsn = f.plugin();
            String version = null;
            int at = bsn.indexOf('@');
            if (at > 0) {
                version = bsn.substring(at + 1);
                bsn = bsn.substring(0, at);
            }
            sql.append(" AND json_valid(a.plugins) AND EXISTS (SELECT 1 FROM json_each(a.plugins) p WHERE json_extract(p.value, '$.bsn') = ?");
            args.add(bsn);
            if (version != null) {
                sql.append(" AND json_extract(p.value, '$.version') = ?");
                args.add(version);
            }
            sql.append(")");
        }
        return new Where(sql.toString(), args);
    }

    /** What the fleet shows as an agent's OS, and filters by: as {@link FleetPage#os} writes it. */
    private static final String OS = """
        (CASE WHEN coalesce(json_extract(a.hello, '$.os.version'), '') = '' THEN json_extract(a.hello, '$.os.name')
              WHEN json_extract(a.hello, '$.os.name') IS NULL
                OR instr(json_extract(a.hello, '$.os.version'), json_extract(a.hello, '$.os.name')) > 0 THEN json_extract(a.hello, '$.os.version')
              WHEN instr(json_extract(a.hello, '$.os.name'), json_extract(a.hello, '$.os.version')) > 0 THEN json_extract(a.hello, '$.os.name')
              ELSE json_extract(a.hello, '$.os.name') || ' ' || json_extract(a.hello, '$.os.version') END)""";

    Page<FleetRow> fleet(FleetFilter f, int offset, int limit, long nowMillis) {
        Where w = fleetWhere(f, nowMillis);
        return store.read(c -> {
            int total;
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM agents a" + w.sql())) {
                bind(ps, w.args());
                try (ResultSet rs = ps.executeQuery()) {
                    total = rs.next() ? rs.getInt(1) : 0;
                }
            }
            List<FleetRow> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.agent_id, a.hostname, a.transport, a.connected, a.last_seen,
                       CASE WHEN json_valid(a.hello) THEN json_extract(a.hello, '$.os.name') END,
                       CASE WHEN json_valid(a.hello) THEN json_extract(a.hello, '$.os.version') END,
                       CASE WHEN json_valid(a.hello) THEN json_extract(a.hello, '$.agentVersion') END,
                       a.plugins,
                       (SELECT count(*) FROM alerts l WHERE l.agent_id = a.agent_id AND l.state = 'firing')
                FROM agents a""" + w.sql() + " ORDER BY a.hostname COLLATE NOCASE, a.agent_id LIMIT ? OFFSET ?")) {
                List<Object> args = new ArrayList<>(w.args());
                args.add(limit);
                args.add(offset);
                bind(ps, args);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new FleetRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4) != 0, rs.getString(5),
                            rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getInt(10)));
                    }
                }
            }
            return new Page<>(rows, total);
        });
    }

    /** The counts at the top of the fleet page. */
    record Counts(int total, int polling, int alerting, int openAlerts) {}

    Counts counts(long nowMillis) {
        return store.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("""
                SELECT count(*), coalesce(sum(connected = 0 AND transport = 'poll' AND last_seen >= ?), 0),
                       (SELECT count(DISTINCT agent_id) FROM alerts WHERE state = 'firing'),
                       (SELECT count(*) FROM alerts WHERE state = 'firing')
                FROM agents""")) {
                ps.setString(1, pollOnlineSince(nowMillis));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new Counts(rs.getInt(1), rs.getInt(2), rs.getInt(3), rs.getInt(4));
                }
            }
        });
    }

    /**
     * The choices of the fleet's OS and plugin filters and the actions the agents serve, read at most every 15 s (they
     * change with enrolments and plugin pushes).
     */
    record Choices(List<String> oses, List<String> plugins, List<String> actions, long readAt) {}

    private final AtomicReference<Choices> choices = new AtomicReference<>();

    Choices choices(long nowMillis) {
        Choices cached = choices.get();
        if (cached != null && nowMillis - cached.readAt() < 15_000) return cached;
        Choices fresh = store.read(c -> new Choices(
            strings(c, "SELECT DISTINCT " + OS + " AS n FROM agents a WHERE json_valid(a.hello) AND n IS NOT NULL ORDER BY n"),
            strings(c, """
                SELECT DISTINCT json_extract(p.value, '$.bsn') AS b FROM agents a, json_each(a.plugins) p
                WHERE json_valid(a.plugins) AND json_array_length(coalesce(json_extract(p.value, '$.actions'), '[]')) > 0
                  AND b IS NOT NULL ORDER BY b"""),
            strings(c, """
                SELECT DISTINCT x.value AS v FROM agents a, json_each(a.plugins) p, json_each(p.value, '$.actions') x
                WHERE json_valid(a.plugins) AND json_type(p.value, '$.actions') = 'array' AND x.type = 'text' ORDER BY v"""),
            nowMillis));
        choices.set(fresh);
        return fresh;
    }

    /** Agents by id or host name, for the forms that send to a chosen set; unknown names are listed apart. */
    record Targets(Map<String, String> hostnameById, List<String> unknown) {}

    Targets resolve(Collection<String> names) {
        return store.read(c -> {
            Map<String, String> found = new LinkedHashMap<>();
            List<String> unknown = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, hostname FROM agents WHERE agent_id = ? OR hostname = ?")) {
                for (String n : names) {
                    ps.setString(1, n);
                    ps.setString(2, n);
                    boolean any = false;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            found.put(rs.getString(1), rs.getString(2));
                            any = true;
                        }
                    }
                    if (!any) unknown.add(n);
                }
            }
            return new Targets(found, unknown);
        });
    }

    Map<String, String> hostnames(Collection<String> agentIds) {
        return store.read(c -> {
            Map<String, String> out = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT hostname FROM agents WHERE agent_id = ?")) {
                for (String id : agentIds) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) out.put(id, rs.getString(1));
                    }
                }
            }
            return out;
        });
    }

    // ---------------------------------------------------------------- commands and runs

    /** A command with its result, if any (the result object as stored). */
    record CommandRow(String id, String agentId, String hostname, String action, String params, String state, boolean dryRun,
                      boolean cancelRequested, String createdAt, String runId, String status, String result, String receivedAt) {}

    private static final String COMMAND_SELECT = """
        SELECT c.id, c.agent_id, a.hostname, c.action, c.params, c.state, c.dry_run, c.cancel_requested, c.created_at, c.run_id,
               r.status, r.result, r.received_at
        FROM commands c LEFT JOIN results r ON r.attached = 1 AND r.id = c.id LEFT JOIN agents a ON a.agent_id = c.agent_id""";

    private static CommandRow commandRow(ResultSet rs) throws SQLException {
        return new CommandRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
            rs.getInt(7) != 0, rs.getInt(8) != 0, rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12), rs.getString(13));
    }

    Page<CommandRow> agentCommands(String agentId, int offset, int limit) {
        return store.read(c -> {
            int total = count(c, "SELECT count(*) FROM commands WHERE agent_id = ?", agentId);
            List<CommandRow> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(COMMAND_SELECT + " WHERE c.agent_id = ? ORDER BY c.rowid DESC LIMIT ? OFFSET ?")) {
                bind(ps, List.of(agentId, limit, offset));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(commandRow(rs));
                }
            }
            return new Page<>(rows, total);
        });
    }

    CommandRow command(String id) {
        return store.read(c -> {
            try (PreparedStatement ps = c.prepareStatement(COMMAND_SELECT + " WHERE c.id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? commandRow(rs) : null;
                }
            }
        });
    }

    /** A run (the commands of one request) and how its commands stand: counts by status, {@code pending} without a result. */
    record RunRow(String id, String action, String params, boolean dryRun, int targets, boolean allAgents, String createdAt,
                  Map<String, Integer> byStatus) {
        int pending() {
            return byStatus.getOrDefault("pending", 0);
        }
    }

    private static final String RUN_COLUMNS = "id, action, params, dry_run, targets, all_agents, created_at";

    Page<RunRow> runs(int offset, int limit) {
        return store.read(c -> {
            int total = count(c, "SELECT count(*) FROM runs");
            List<RunRow> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM runs ORDER BY rowid DESC LIMIT ? OFFSET ?")) {
                bind(ps, List.of(limit, offset));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(runRow(c, rs));
                }
            }
            return new Page<>(rows, total);
        });
    }

    RunRow run(String id) {
        return store.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM runs WHERE id = ?")) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? runRow(c, rs) : null;
                }
            }
        });
    }

    private static RunRow runRow(Connection c, ResultSet rs) throws SQLException {
        String id = rs.getString(1);
        Map<String, Integer> byStatus = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(r.status, 'pending'), count(*) FROM commands c"
            + " LEFT JOIN results r ON r.attached = 1 AND r.id = c.id WHERE c.run_id = ? GROUP BY 1")) {
            ps.setString(1, id);
            try (ResultSet s = ps.executeQuery()) {
                while (s.next()) byStatus.put(s.getString(1), s.getInt(2));
            }
        }
        return new RunRow(id, rs.getString(2), rs.getString(3), rs.getInt(4) != 0, rs.getInt(5), rs.getInt(6) != 0, rs.getString(7), byStatus);
    }

    /**
     * A run's commands: {@code order} "slowest" gives those with a result by how long the round trip took (issued to
     * stored), longest first; "pending" those still without a result; otherwise all by host name. {@code status} keeps
     * those of one status ("pending": no result yet), null all.
     */
    Page<CommandRow> runCommands(String runId, String order, String status, int offset, int limit) {
        StringBuilder where = new StringBuilder(" WHERE c.run_id = ?");
        List<Object> args = new ArrayList<>(List.of(runId));
        if ("pending".equals(status) || "pending".equals(order)) where.append(" AND r.status IS NULL");
        else if (status != null) {
            where.append(" AND r.status = ?");
            args.add(status);
        }
        if ("slowest".equals(order)) where.append(" AND r.status IS NOT NULL");
        String by = "slowest".equals(order) ? " ORDER BY julianday(r.received_at) - julianday(c.created_at) DESC"
            : " ORDER BY a.hostname COLLATE NOCASE, c.agent_id";
        return store.read(c -> {
            int total;
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM commands c LEFT JOIN results r ON r.attached = 1 AND r.id = c.id"
                + where)) {
                bind(ps, args);
                try (ResultSet rs = ps.executeQuery()) {
                    total = rs.next() ? rs.getInt(1) : 0;
                }
            }
            List<CommandRow> rows = new ArrayList<>();
            List<Object> a = new ArrayList<>(args);
            a.add(limit);
            a.add(offset);
            try (PreparedStatement ps = c.prepareStatement(COMMAND_SELECT + where + by + " LIMIT ? OFFSET ?")) {
                bind(ps, a);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(commandRow(rs));
                }
            }
            return new Page<>(rows, total);
        });
    }

    // ---------------------------------------------------------------- events and alerts

    /** An event as stored, with the agent's host name. */
    record EventRow(long seq, String agentId, String hostname, String kind, String event, String receivedAt) {}

    /**
     * Events newest first, filtered. {@code agentIds} null for every agent; {@code kind} null for every kind, and then
     * {@code withHealth} false leaves out the periodic {@code health} snapshots; {@code beforeSeq} pages back.
     */
    List<EventRow> events(List<String> agentIds, String kind, boolean withHealth, Long beforeSeq, int limit) {
        StringBuilder sql = new StringBuilder("SELECT e.seq, e.agent_id, a.hostname, e.kind, e.event, e.received_at FROM events e"
            + " LEFT JOIN agents a ON a.agent_id = e.agent_id WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (agentIds != null) {
            if (agentIds.isEmpty()) return List.of();
            sql.append(" AND e.agent_id IN (").append(String.join(", ", java.util.Collections.nCopies(agentIds.size(), "?"))).append(")");
            args.addAll(agentIds);
        }
        if (kind != null) {
            sql.append(" AND e.kind = ?");
            args.add(kind);
        } else if (!withHealth) {
            sql.append(" AND coalesce(e.kind, '') <> 'health'");
        }
        if (beforeSeq != null) {
            sql.append(" AND e.seq < ?");
            args.add(beforeSeq);
        }
        sql.append(" ORDER BY e.seq DESC LIMIT ?");
        args.add(limit);
        return store.read(c -> {
            List<EventRow> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
                bind(ps, args);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(new EventRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6)));
                }
            }
            return out;
        });
    }

    /** The cursor of the newest stored event (0 when none). */
    long lastEventSeq() {
        return store.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(seq), 0) FROM events"); ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    /** Who sent an event and of what kind, stored after {@code afterSeq} (what the live updates need to route it). */
    record EventHead(long seq, String agentId, String kind) {}

    List<EventHead> eventsAfter(long afterSeq, int limit) {
        return store.read(c -> {
            List<EventHead> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, agent_id, kind FROM events WHERE seq > ? ORDER BY seq LIMIT ?")) {
                bind(ps, List.of(afterSeq, limit));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) out.add(new EventHead(rs.getLong(1), rs.getString(2), rs.getString(3)));
                }
            }
            return out;
        });
    }

    /** An alert's latest word: the {@code data} of its latest {@code alert} event. */
    record AlertRow(String agentId, String hostname, String alert, String subject, String state, String data, long seq) {}

    /** Firing alerts, the latest changed first; {@code agentId} null for the fleet. */
    Page<AlertRow> openAlerts(String agentId, int limit) {
        String where = " WHERE l.state = 'firing'" + (agentId == null ? "" : " AND l.agent_id = ?");
        List<Object> args = agentId == null ? new ArrayList<>() : new ArrayList<>(List.of(agentId));
        return store.read(c -> {
            int total;
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM alerts l" + where)) {
                bind(ps, args);
                try (ResultSet rs = ps.executeQuery()) {
                    total = rs.next() ? rs.getInt(1) : 0;
                }
            }
            List<AlertRow> rows = new ArrayList<>();
            List<Object> a = new ArrayList<>(args);
            a.add(limit);
            try (PreparedStatement ps = c.prepareStatement("SELECT l.agent_id, a.hostname, l.alert, l.subject, l.state, l.data, l.seq FROM alerts l"
                + " LEFT JOIN agents a ON a.agent_id = l.agent_id" + where + " ORDER BY l.seq DESC LIMIT ?")) {
                bind(ps, a);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) rows.add(new AlertRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6), rs.getLong(7)));
                }
            }
            return new Page<>(rows, total);
        });
    }

    /** An agent's alert events (fired and cleared), newest first. */
    List<EventRow> alertHistory(String agentId, int limit) {
        return events(List.of(agentId), "alert", true, null, limit);
    }

    /** One sample of the health charts: when, CPU %, memory used %, load1, and filesystem use % by mount point. */
    record HealthPoint(long timeMillis, double cpu, double memoryUsed, double load1, Map<String, Double> filesystems) {}

    /** The agent's health snapshots since {@code sinceMillis}, oldest first, read field by field by SQLite (no snapshot is parsed whole). */
    List<HealthPoint> healthSeries(String agentId, long sinceMillis) {
        return store.read(c -> {
            Map<Long, HealthPoint> bySeq = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("""
                SELECT seq, time_ms, json_extract(event, '$.data.cpu.usagePercent'), json_extract(event, '$.data.memory.usedBytes'),
                       json_extract(event, '$.data.memory.totalBytes'), json_extract(event, '$.data.load.load1')
                FROM events WHERE agent_id = ? AND kind = 'health' AND time_ms >= ? AND json_valid(event) ORDER BY time_ms""")) {
                bind(ps, List.of(agentId, sinceMillis));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        double used = number(rs, 4);
                        double total = number(rs, 5);
                        bySeq.put(rs.getLong(1), new HealthPoint(rs.getLong(2), number(rs, 3),
                            total > 0 ? 100 * used / total : Double.NaN, number(rs, 6), new TreeMap<>()));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("""
                SELECT e.seq, json_extract(f.value, '$.mountpoint'), json_extract(f.value, '$.usedPercent')
                FROM events e, json_each(e.event, '$.data.filesystems') f
                WHERE e.agent_id = ? AND e.kind = 'health' AND e.time_ms >= ? AND json_valid(e.event)""")) {
                bind(ps, List.of(agentId, sinceMillis));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        HealthPoint p = bySeq.get(rs.getLong(1));
                        double v = number(rs, 3);
                        if (p != null && rs.getString(2) != null && !Double.isNaN(v)) p.filesystems().put(rs.getString(2), v);
                    }
                }
            }
            return new ArrayList<>(bySeq.values());
        });
    }

    // ---------------------------------------------------------------- plugins

    /** A plugin version and the agents that report it. */
    record Deployed(String bsn, String version, String state, int agents, int connected) {}

    List<Deployed> deployed(boolean withLibraries) {
        return store.read(c -> {
            List<Deployed> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("""
                SELECT json_extract(p.value, '$.bsn') AS b, json_extract(p.value, '$.version') AS v,
                       coalesce(json_extract(p.value, '$.state'), 'unknown') AS s, count(*), sum(a.connected)
                FROM agents a, json_each(a.plugins) p
                WHERE json_valid(a.plugins) AND b IS NOT NULL"""
                + (withLibraries ? "" : " AND (json_array_length(coalesce(json_extract(p.value, '$.actions'), '[]')) > 0 OR s <> 'active')")
                + " GROUP BY b, v, s ORDER BY b, v, s");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(new Deployed(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5)));
            }
            return out;
        });
    }

    // ---------------------------------------------------------------- helpers

    private static double number(ResultSet rs, int column) throws SQLException {
        double d = rs.getDouble(column);
        return rs.wasNull() ? Double.NaN : d;
    }

    private static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
    }

    private static int count(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, List.of(args));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }

    private static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.add(rs.getString(1));
        }
        return out;
    }
}
