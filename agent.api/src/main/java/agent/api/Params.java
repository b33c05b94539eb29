package agent.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Typed access to a command's params. Every accessor that finds a missing or wrong value throws
 * {@link InvalidParamException} with a message that names the param, what was expected and what came.
 */
@ProviderType
public interface Params {

    /** @return the names of the params present */
    Set<String> names();

    /** @param name a param name @return whether it is present and not null */
    boolean has(String name);

    /** @param name a param name @return the raw JSON value as a Java value, or null */
    Object raw(String name);

    /** @param name a required string param @return its value @throws InvalidParamException if absent or not a string */
    String string(String name) throws InvalidParamException;

    /** @param name an optional string param @return its value, if present @throws InvalidParamException if not a string */
    Optional<String> optionalString(String name) throws InvalidParamException;

    /**
     * @param name an integer param
     * @param min  smallest allowed value
     * @param max  largest allowed value
     * @param dflt value if absent
     * @return the value
     * @throws InvalidParamException if not an integer or out of range
     */
    long integer(String name, long min, long max, long dflt) throws InvalidParamException;

    /** @param name a boolean param @param dflt value if absent @return the value @throws InvalidParamException if not a boolean */
    boolean bool(String name, boolean dflt) throws InvalidParamException;

    /** @param name a list-of-strings param @return the value, empty if absent @throws InvalidParamException if not a list of strings */
    List<String> strings(String name) throws InvalidParamException;

    /** @param name an object param @return the value, empty if absent @throws InvalidParamException if not an object */
    Map<String, Object> object(String name) throws InvalidParamException;

    /**
     * @param name    a string param restricted to some values
     * @param allowed the allowed values
     * @param dflt    value if absent, or null to make it required
     * @return the value
     * @throws InvalidParamException if absent (and required) or not one of the allowed values
     */
    String oneOf(String name, Set<String> allowed, String dflt) throws InvalidParamException;
}
