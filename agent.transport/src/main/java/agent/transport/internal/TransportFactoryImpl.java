package agent.transport.internal;

import java.net.http.HttpClient;

import org.osgi.service.component.annotations.Component;

import agent.transport.AgentLink;
import agent.transport.Transport;
import agent.transport.TransportFactory;
import agent.transport.TransportSettings;

/** Opens the WebSocket or polling transport the settings ask for, sharing one TLS-configured HTTP client. */
@Component(service = TransportFactory.class)
public final class TransportFactoryImpl implements TransportFactory {

    @Override
    public Transport open(TransportSettings s, AgentLink link) {
        HttpClient http = HttpClients.of(s);
        return s.kind.equals("poll") ? new PollTransport(s, link, http) : new WebSocketTransport(s, link, http);
    }
}
