package agent.core.internal.config;

import java.lang.annotation.Annotation;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import agent.api.InvalidSettingsException;

/**
 * One plugin's section of the config file, and its typed views (agent.api {@code CommandContext.settings(Class)}):
 * the section is mapped onto a record or an annotation type once per type and kept. Keys are the snake_case names of
 * the type's components; every error names the key from the top of the file ({@code plugins.settings.acme.level})
 * and the file. Public (in a package the bundle does not export) for agent.testkit.
 */
public final class SettingsSection {
    private final String key;
    private final Map<String, Object> values;
    private final String file;
    private final Map<Class<?>, Object> typed = new ConcurrentHashMap<>();

    /**
     * @param key    the section's key from the top of the config, e.g. {@code disk} or {@code plugins.settings.acme}
     * @param values the section as JSON values (String, Long, Double, Boolean, List, Map)
     * @param file   the config file it came from, for messages, or null if there is none
     */
    public SettingsSection(String key, Map<String, Object> values, Path file) {
        this.key = key;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.file = file == null ? "the agent's config (no config file: defaults)" : file.toString();
    }

    /** @return the raw section */
    public Map<String, Object> raw() { return values; }

    /** @return the section's key from the top of the config */
    public String key() { return key; }

    /**
     * @param type a record or an annotation type
     * @return the section mapped onto it, the same instance every time
     * @throws InvalidSettingsException naming the key and the file
     */
    public <T> T as(Class<T> type) {
        Object o = typed.get(type);
        if (o == null) {
            o = map(type);
            Object raced = typed.putIfAbsent(type, o);
            if (raced != null) o = raced;
        }
        return type.cast(o);
    }

    private Object map(Class<?> type) {
        if (type.isRecord()) return record(type);
        if (type.isAnnotation()) return annotation(type);
        throw new IllegalArgumentException("settings type " + type.getName() + " must be a record or an annotation type");
    }

    private Object record(Class<?> type) {
        RecordComponent[] components = type.getRecordComponents();
        Map<String, RecordComponent> byKey = new LinkedHashMap<>();
        for (RecordComponent c : components) byKey.put(snake(c.getName()), c);
        checkKnown(byKey.keySet());
        Object defaults = recordDefaults(type);
        Object[] args = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            String k = snake(c.getName());
            types[i] = c.getType();
            if (values.containsKey(k)) {
                args[i] = convert(values.get(k), c.getType(), c.getGenericType(), k);
            } else if (defaults != null) {
                try {
                    Method accessor = c.getAccessor();
                    accessor.setAccessible(true); // a plugin's record may well be package-private
                    args[i] = accessor.invoke(defaults);
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalStateException("cannot read the default of " + type.getName() + "." + c.getName(), e);
                }
            } else {
                args[i] = zero(c.getType());
            }
        }
        try {
            var ctor = type.getDeclaredConstructor(types);
            ctor.setAccessible(true);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InvalidSettingsException) { // the record named the key itself; the file is added
                throw new InvalidSettingsException(((InvalidSettingsException) cause).key(), cause.getMessage() + " (in " + file + ")");
            }
            // the record's own check: its message says what is wrong; the section and file say where
            throw new InvalidSettingsException(key, "config section '" + key + "' in " + file + ": " + cause.getMessage());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot make " + type.getName() + " from config section '" + key + "'", e);
        }
    }

    private static Object recordDefaults(Class<?> type) {
        try {
            Method m = type.getDeclaredMethod("defaults");
            if (!Modifier.isStatic(m.getModifiers()) || m.getReturnType() != type) return null;
            m.setAccessible(true);
            return m.invoke(null);
        } catch (NoSuchMethodException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot call " + type.getName() + ".defaults()", e);
        }
    }

    private Object annotation(Class<?> type) {
        Map<String, Method> byKey = new LinkedHashMap<>();
        for (Method m : type.getDeclaredMethods()) {
            if (m.getParameterCount() == 0 && !Modifier.isStatic(m.getModifiers())) byKey.put(snake(m.getName()), m);
        }
        checkKnown(byKey.keySet());
        Map<String, Object> resolved = new LinkedHashMap<>();
        for (Map.Entry<String, Method> e : byKey.entrySet()) {
            Method m = e.getValue();
            Object v = values.containsKey(e.getKey()) ? convert(values.get(e.getKey()), m.getReturnType(), m.getGenericReturnType(), e.getKey())
                : m.getDefaultValue();
            if (v == null) throw new InvalidSettingsException(sub(e.getKey()), where(e.getKey()) + " is required (it has no default)");
            resolved.put(m.getName(), v);
        }
        InvocationHandler h = (proxy, method, args) -> {
            switch (method.getName()) {
                case "annotationType": return type;
                case "toString": return "@" + type.getName() + resolved;
                case "hashCode": return resolved.hashCode();
                case "equals": return proxy == args[0];
                default: {
                    Object v = resolved.get(method.getName());
                    return v != null && v.getClass().isArray() ? cloneArray(v) : v;
                }
            }
        };
        return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type, Annotation.class}, h);
    }

    private void checkKnown(Set<String> known) {
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw new InvalidSettingsException(sub(k), where(k) + " is unknown (known: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }

    private Object convert(Object v, Class<?> t, Type generic, String k) {
        if (v == null) throw new InvalidSettingsException(sub(k), where(k) + " is null; remove it to use the default");
        if (t == String.class) {
            if (v instanceof String) return v;
            throw wrong(k, "a string", v);
        }
        if (t == boolean.class || t == Boolean.class) {
            if (v instanceof Boolean) return v;
            throw wrong(k, "true or false", v);
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            long n = integral(v, k);
            if (t == int.class || t == Integer.class) {
                if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) throw wrong(k, "an integer of at most 10 digits", v);
                return (int) n;
            }
            return n;
        }
        if (t == double.class || t == Double.class) {
            if (v instanceof Number) return ((Number) v).doubleValue();
            throw wrong(k, "a number", v);
        }
        if (t == Path.class) {
            if (!(v instanceof String) || ((String) v).isEmpty()) throw wrong(k, "a path", v);
            try {
                return Path.of((String) v);
            } catch (InvalidPathException e) {
                throw wrong(k, "a path", v);
            }
        }
        if (t.isEnum()) {
            if (v instanceof String) {
                for (Object c : t.getEnumConstants()) {
                    if (((Enum<?>) c).name().equalsIgnoreCase(((String) v).replace('-', '_'))) return c;
                }
            }
            List<String> names = new ArrayList<>();
            for (Object c : t.getEnumConstants()) names.add(((Enum<?>) c).name().toLowerCase(Locale.ROOT));
            throw wrong(k, "one of " + names, v);
        }
        if (t == String[].class) return strings(v, k).toArray(new String[0]);
        if (t == List.class && isListOf(generic, String.class)) return List.copyOf(strings(v, k));
        if (t == Map.class) {
            if (v instanceof Map) return Collections.unmodifiableMap(new LinkedHashMap<>((Map<?, ?>) v));
            throw wrong(k, "a JSON object", v);
        }
        throw new IllegalArgumentException("settings type component '" + k + "' has type " + generic.getTypeName()
            + ", which settings cannot hold (String, boolean, int, long, double, Path, an enum, List<String>, String[],"
            + " Map<String, Object>)");
    }

    private long integral(Object v, String k) {
        if (v instanceof Long || v instanceof Integer) return ((Number) v).longValue();
        if (v instanceof Double && ((Double) v) == Math.rint((Double) v) && !((Double) v).isInfinite()) return ((Double) v).longValue();
        throw wrong(k, "an integer", v);
    }

    private List<String> strings(Object v, String k) {
        if (!(v instanceof List)) throw wrong(k, "a list of strings", v);
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
            if (!(o instanceof String)) throw wrong(k, "a list of strings", v);
            out.add((String) o);
        }
        return out;
    }

    private static boolean isListOf(Type generic, Class<?> element) {
        return generic instanceof ParameterizedType && ((ParameterizedType) generic).getActualTypeArguments()[0] == element;
    }

    private static Object zero(Class<?> t) {
        if (t == boolean.class) return false;
        if (t == int.class) return 0;
        if (t == long.class) return 0L;
        if (t == double.class) return 0.0;
        return null;
    }

    private static Object cloneArray(Object a) {
        int n = Array.getLength(a);
        Object copy = Array.newInstance(a.getClass().getComponentType(), n);
        System.arraycopy(a, 0, copy, 0, n);
        return copy;
    }

    private InvalidSettingsException wrong(String k, String expected, Object got) {
        String shown = got instanceof String ? "'" + got + "'" : String.valueOf(got);
        if (shown.length() > 80) shown = shown.substring(0, 77) + "...";
        return new InvalidSettingsException(sub(k), where(k) + " must be " + expected + ", got " + shown);
    }

    private String sub(String k) { return key + "." + k; }

    private String where(String k) { return "config key '" + sub(k) + "' in " + file; }

    /** {@code maxSize} → {@code max_size}: config keys are snake_case (ARCHITECTURE.md), Java names camelCase. */
    static String snake(String javaName) {
        StringBuilder sb = new StringBuilder(javaName.length() + 4);
        for (char ch : javaName.toCharArray()) {
            if (Character.isUpperCase(ch)) sb.append('_').append(Character.toLowerCase(ch));
            else sb.append(ch);
        }
        return sb.toString();
    }

    @Override
    public String toString() { return key + " " + values; }
}
