package agent.transport;

import org.osgi.annotation.versioning.ProviderType;

/** Opens transports. A DS service of agent.transport. */
@ProviderType
public interface TransportFactory {
    /**
     * @param settings where and how to connect
     * @param link     the agent's side
     * @return a transport, not started yet
     * @throws IllegalArgumentException if a TLS file cannot be read or parsed (the message names it)
     */
    Transport open(TransportSettings settings, AgentLink link);
}
