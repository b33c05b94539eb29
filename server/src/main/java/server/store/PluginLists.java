package server.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * Applies a succeeded {@code plugin.install}, {@code plugin.upgrade} or {@code plugin.remove} to the plugin list the
 * server keeps for the agent, as the result is stored. The agent's {@code capabilities} frame goes out when its
 * handlers change, which for a removal is while the bundle is still stopping: the list it carries still holds the
 * plugin, and nothing later corrects it until the next hello (issue 23, item 19). The result is the agent's word on
 * what changed, and it comes after that frame.
 */
final class PluginLists {
    private PluginLists() {}

    static void apply(Connection c, String agentId, String commandId, String action, String resultJson) throws SQLException {
        JsonObject data;
        try {
            JsonElement r = JsonParser.parseString(resultJson);
            JsonElement d = r.isJsonObject() ? r.getAsJsonObject().get("data") : null;
            if (d == null || !d.isJsonObject()) return;
            data = d.getAsJsonObject();
        } catch (JsonParseException e) {
            return;
        }
        String bsn = string(data, "bsn");
        if (bsn == null) return;
        JsonArray plugins = current(c, agentId);
        int at = -1;
        for (int i = 0; i < plugins.size(); i++) {
            JsonElement p = plugins.get(i);
            if (p.isJsonObject() && bsn.equals(string(p.getAsJsonObject(), "bsn"))) at = i;
        }
        switch (action) {
            case "plugin.remove" -> {
                if (at < 0) return;
                plugins.remove(at);
            }
            case "plugin.install", "plugin.upgrade" -> {
                String version = string(data, action.equals("plugin.upgrade") ? "to" : "version");
                if (version == null) return;
                JsonObject entry = at >= 0 ? plugins.get(at).getAsJsonObject() : new JsonObject();
                entry.addProperty("bsn", bsn);
                entry.addProperty("version", version);
                JsonElement actions = data.get("actions");
                if (actions != null && actions.isJsonArray()) entry.add("actions", actions);
                // an install with start: false leaves the bundle installed, not active
                boolean started = action.equals("plugin.upgrade") || started(c, commandId);
                entry.addProperty("state", started ? "active" : "installed");
                if (at < 0) plugins.add(entry);
            }
            default -> {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE agents SET plugins = ? WHERE agent_id = ?")) {
            ps.setString(1, plugins.toString());
            ps.setString(2, agentId);
            ps.executeUpdate();
        }
    }

    private static JsonArray current(Connection c, String agentId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT plugins FROM agents WHERE agent_id = ?")) {
            ps.setString(1, agentId);
            try (ResultSet rs = ps.executeQuery()) {
                String text = rs.next() ? rs.getString(1) : null;
                if (text == null) return new JsonArray();
                JsonElement e = JsonParser.parseString(text);
                return e.isJsonArray() ? e.getAsJsonArray() : new JsonArray();
            } catch (JsonParseException e) {
                return new JsonArray();
            }
        }
    }

    /** Whether the install command asked for the bundle to be started ({@code start}, default true). */
    private static boolean started(Connection c, String commandId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT params FROM commands WHERE id = ?")) {
            ps.setString(1, commandId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return true;
                JsonElement p = JsonParser.parseString(rs.getString(1));
                JsonElement start = p.isJsonObject() ? p.getAsJsonObject().get("start") : null;
                return start == null || !start.isJsonPrimitive() || !start.getAsJsonPrimitive().isBoolean() || start.getAsBoolean();
            } catch (JsonParseException e) {
                return true;
            }
        }
    }

    private static String string(JsonObject o, String field) {
        JsonElement v = o.get(field);
        return v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isString() ? v.getAsString() : null;
    }
}
