package agent.core.internal.dispatch;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import agent.api.InvalidParamException;
import agent.api.Params;

/**
 * {@link Params} over the JSON values of a command. Every error names the param and quotes what came.
 * Public (in a package the bundle does not export) for agent.testkit.
 */
public final class ParamsImpl implements Params {
    private final Map<String, Object> values;

    /** @param values the params as JSON values (String, Long, Double, Boolean, List, Map) */
    public ParamsImpl(Map<String, Object> values) { this.values = values; }

    @Override
    public Set<String> names() { return values.keySet(); }

    @Override
    public boolean has(String name) { return values.get(name) != null; }

    @Override
    public Object raw(String name) { return values.get(name); }

    @Override
    public String string(String name) throws InvalidParamException {
        return optionalString(name).orElseThrow(() -> new InvalidParamException(name, "is required"));
    }

    @Override
    public Optional<String> optionalString(String name) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return Optional.empty();
        if (!(v instanceof String)) throw wrong(name, "a string", v);
        return Optional.of((String) v);
    }

    @Override
    public long integer(String name, long min, long max, long dflt) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return dflt;
        long n;
        if (v instanceof Long || v instanceof Integer) n = ((Number) v).longValue();
        else if (v instanceof Double && ((Double) v) == Math.rint((Double) v) && !((Double) v).isInfinite()) n = ((Double) v).longValue();
        else throw wrong(name, "an integer", v);
        if (n < min || n > max) throw new InvalidParamException(name, "must be " + min + ".." + max + ", got " + n);
        return n;
    }

    @Override
    public boolean bool(String name, boolean dflt) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return dflt;
        if (!(v instanceof Boolean)) throw wrong(name, "true or false", v);
        return (Boolean) v;
    }

    @Override
    public List<String> strings(String name) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return List.of();
        if (!(v instanceof List)) throw wrong(name, "a list of strings", v);
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            if (!(o instanceof String)) throw wrong(name, "a list of strings", v);
            out.add((String) o);
        }
        return out;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> object(String name) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return Map.of();
        if (!(v instanceof Map)) throw wrong(name, "an object", v);
        return (Map<String, Object>) v;
    }

    @Override
    public String oneOf(String name, Set<String> allowed, String dflt) throws InvalidParamException {
        Optional<String> v = optionalString(name);
        if (v.isEmpty()) {
            if (dflt == null) throw new InvalidParamException(name, "is required (one of " + new TreeSet<>(allowed) + ")");
            return dflt;
        }
        if (!allowed.contains(v.get())) {
            throw new InvalidParamException(name, "must be one of " + new TreeSet<>(allowed) + ", got '" + v.get() + "'");
        }
        return v.get();
    }

    private static InvalidParamException wrong(String name, String expected, Object got) {
        String shown = got instanceof String ? "'" + got + "'" : String.valueOf(got);
        if (shown.length() > 80) shown = shown.substring(0, 77) + "...";
        return new InvalidParamException(name, "must be " + expected + ", got " + shown);
    }
}
