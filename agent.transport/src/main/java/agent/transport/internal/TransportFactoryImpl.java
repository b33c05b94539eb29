package agent.transport.internal;

import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executors;

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
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30))
            .executor(Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "outpost-http");
                t.setDaemon(true);
                return t;
            }));
        if (s.serverUrl.getScheme().equals("https")) b.sslContext(Tls.context(s));
        if (s.httpsProxy != null) {
            int port = s.httpsProxy.getPort() > 0 ? s.httpsProxy.getPort() : 3128;
            b.proxy(ProxySelector.of(InetSocketAddress.createUnresolved(s.httpsProxy.getHost(), port)));
        }
        HttpClient http = b.build();
        return s.kind.equals("poll") ? new PollTransport(s, link, http) : new WebSocketTransport(s, link, http);
    }
}
