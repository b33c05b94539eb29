package agent.transport.internal;

import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executors;

import agent.transport.TransportSettings;

/** The one way this bundle builds its HTTP client: the server's TLS settings, the proxy, daemon threads. */
final class HttpClients {
    /** A proxy URL without a port means the port proxies conventionally listen on. */
    static final int DEFAULT_PROXY_PORT = 3128;

    private HttpClients() {}

    /**
     * @param s the settings
     * @return a client for the server of the settings
     * @throws IllegalArgumentException if a TLS file cannot be read or parsed (the message names it)
     */
    static HttpClient of(TransportSettings s) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30))
            .executor(Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "outpost-http");
                t.setDaemon(true);
                return t;
            }));
        if (s.serverUrl.getScheme().equals("https")) b.sslContext(Tls.context(s));
        if (s.httpsProxy != null) b.proxy(ProxySelector.of(InetSocketAddress.createUnresolved(s.httpsProxy.getHost(), proxyPort(s))));
        return b.build();
    }

    static int proxyPort(TransportSettings s) { return s.httpsProxy.getPort() > 0 ? s.httpsProxy.getPort() : DEFAULT_PROXY_PORT; }
}
