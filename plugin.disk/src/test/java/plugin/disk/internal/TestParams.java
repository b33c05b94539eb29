package plugin.disk.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import agent.api.InvalidParamException;
import agent.api.Params;

/** {@link Params} over a map, with the agent's rules: every error names the param and quotes what came. */
final class TestParams implements Params {
    private final Map<String, Object> values;

    TestParams(Map<String, Object> values) { this.values = values; }

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
        if (!(v instanceof String)) throw new InvalidParamException(name, "must be a string, got " + v);
        return Optional.of((String) v);
    }

    @Override
    public long integer(String name, long min, long max, long dflt) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return dflt;
        if (!(v instanceof Long || v instanceof Integer)) throw new InvalidParamException(name, "must be an integer, got " + v);
        long n = ((Number) v).longValue();
        if (n < min || n > max) throw new InvalidParamException(name, "must be " + min + ".." + max + ", got " + n);
        return n;
    }

    @Override
    public boolean bool(String name, boolean dflt) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return dflt;
        if (!(v instanceof Boolean)) throw new InvalidParamException(name, "must be true or false, got " + v);
        return (Boolean) v;
    }

    @Override
    public List<String> strings(String name) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return List.of();
        if (!(v instanceof List)) throw new InvalidParamException(name, "must be a list of strings, got " + v);
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            if (!(o instanceof String)) throw new InvalidParamException(name, "must be a list of strings, got " + v);
            out.add((String) o);
        }
        return out;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Map<String, Object> object(String name) throws InvalidParamException {
        Object v = values.get(name);
        if (v == null) return Map.of();
        if (!(v instanceof Map)) throw new InvalidParamException(name, "must be an object, got " + v);
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
}
