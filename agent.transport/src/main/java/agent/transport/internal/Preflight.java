package agent.transport.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

import agent.transport.ServerRequests.Check;
import agent.transport.TransportSettings;

/**
 * The network half of {@code outpost check}: each step as the transport would take it (the same resolver, proxy,
 * trust and credentials), one {@link Check} per step, stopping at the first failure and listing the rest as not
 * tried. Nothing here sends a secret anywhere but to the server over a verified TLS connection.
 */
final class Preflight {
    private static final int CONNECT_MS = 10_000;
    private static final Duration REQUEST = Duration.ofSeconds(30);

    private final TransportSettings s;
    private final List<Check> out = new ArrayList<>();
    private final String host;
    private final int port;
    /** The first check that failed: the ones after it are not tried. */
    private String failed;

    Preflight(TransportSettings s) {
        this.s = s;
        this.host = s.serverUrl.getHost();
        int p = s.serverUrl.getPort();
        this.port = p > 0 ? p : s.serverUrl.getScheme().equals("http") ? 80 : 443;
    }

    List<Check> run() throws InterruptedException {
        InetAddress[] addresses = dns();
        Socket socket = null;
        try {
            if (failed == null) {
                socket = s.httpsProxy != null ? proxy() : noProxy(addresses);
            } else {
                notTried("proxy");
            }
            if (out.stream().noneMatch(c -> c.name().equals("tcp"))) notTried("tcp");
            if (s.serverUrl.getScheme().equals("https")) {
                tls(socket);
            } else if (failed != null) {
                notTried("tls");
            } else {
                fail("tls", "not used: server_url " + s.serverUrl + " is plain http (insecure_http)",
                    "plain http is for development only: use https:// with the server's certificate");
            }
        } finally {
            closeQuietly(socket);
        }
        http();
        return out;
    }

    // ---- name, route and reach ---------------------------------------------------------------------------

    private InetAddress[] dns() {
        String name = s.httpsProxy != null ? s.httpsProxy.getHost() : host;
        String what = s.httpsProxy != null ? "the proxy's name '" + name + "'" : "'" + name + "'";
        try {
            InetAddress[] all = InetAddress.getAllByName(name);
            String list = Arrays.stream(all).limit(4).map(InetAddress::getHostAddress).collect(Collectors.joining(", "));
            if (isAddress(name)) {
                ok("dns", "'" + name + "' is an address: nothing to resolve");
            } else {
                ok("dns", what + " resolves to " + list + (s.httpsProxy != null ? "; the proxy resolves '" + host + "'" : ""));
            }
            return all;
        } catch (UnknownHostException e) {
            fail("dns", what + " does not resolve (" + e.getMessage() + ")",
                "check the host name in " + (s.httpsProxy != null ? "https_proxy" : "server_url") + " and this host's resolver (/etc/resolv.conf)");
            return new InetAddress[0];
        }
    }

    private static boolean isAddress(String name) { return name.matches("[0-9.]+") || name.contains(":"); }

    /** Direct: the proxy line says so, then TCP to each address of the server until one answers. */
    private Socket noProxy(InetAddress[] addresses) {
        ok("proxy", "none: the agent connects directly (https_proxy is not set, nor https_proxy/HTTPS_PROXY in its environment)");
        IOException last = null;
        InetAddress tried = null;
        for (InetAddress a : addresses) {
            Socket socket = new Socket();
            long start = System.nanoTime();
            try {
                socket.connect(new InetSocketAddress(a, port), CONNECT_MS);
                ok("tcp", "connected to " + host + ":" + port + " (" + a.getHostAddress() + ") in " + ms(start) + " ms");
                return socket;
            } catch (IOException e) {
                closeQuietly(socket);
                last = e;
                tried = a;
            }
        }
        fail("tcp", "cannot connect to " + host + ":" + port + " (" + tried.getHostAddress() + "): " + describe(last), tcpHint(last));
        return null;
    }

    private String tcpHint(IOException e) {
        if (e instanceof ConnectException) {
            return "nothing listens on " + host + ":" + port + ": is the server running, and is the port in server_url its port?";
        }
        if (e instanceof SocketTimeoutException) {
            return "no answer within " + CONNECT_MS / 1000 + " s: a firewall may drop the packets, or the address is wrong";
        }
        return "check server_url and the network route to the server";
    }

    /** Through the proxy: TCP to it, then CONNECT to the server, as the JDK's HTTP client does for https. */
    private Socket proxy() {
        String proxy = s.httpsProxy.getHost() + ":" + HttpClients.proxyPort(s);
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(s.httpsProxy.getHost(), HttpClients.proxyPort(s)), CONNECT_MS);
        } catch (IOException e) {
            closeQuietly(socket);
            fail("proxy", "cannot connect to the proxy " + proxy + ": " + describe(e), "check https_proxy (or the environment's https_proxy)");
            return null;
        }
        try {
            socket.setSoTimeout(CONNECT_MS);
            String target = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
            OutputStream o = socket.getOutputStream();
            o.write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            o.flush();
            String status = proxyAnswer(socket.getInputStream());
            if (!status.matches("HTTP/1\\.[01] 200\\b.*")) {
                closeQuietly(socket);
                fail("proxy", "the proxy " + proxy + " answered CONNECT " + target + " with '" + status + "'",
                    "the proxy must allow CONNECT to " + target);
                return null;
            }
            ok("proxy", "the proxy " + proxy + " opened a tunnel to " + target);
            ok("tcp", "reached " + target + " through the proxy");
            return socket;
        } catch (IOException e) {
            closeQuietly(socket);
            fail("proxy", "the proxy " + proxy + " did not answer CONNECT: " + describe(e), "check that https_proxy names an HTTP proxy");
            return null;
        }
    }

    /** Reads the proxy's answer to CONNECT up to the empty line; returns its status line. */
    private static String proxyAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && head.size() < 16_384) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') break;
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int eol = text.indexOf("\r\n");
        if (eol < 0) throw new IOException("no status line in its answer");
        return text.substring(0, eol);
    }

    // ---- TLS -----------------------------------------------------------------------------------------------

    /**
     * The handshake with the agent's own trust and client key, through a trust manager that records what it is
     * shown and lets the handshake finish: the chain and the host name are then judged apart, each with its reason.
     * Nothing is sent on this connection.
     */
    private void tls(Socket socket) {
        if (failed != null) {
            notTried("tls");
            notTried("certificate");
            notTried("host name");
            return;
        }
        Recording trust;
        SSLSocket ssl = null;
        try {
            trust = new Recording(realTrust());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(Tls.keyManagers(s), new TrustManager[] {trust}, null);
            ssl = (SSLSocket) ctx.getSocketFactory().createSocket(socket, host, port, false);
            SSLParameters params = ssl.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            ssl.setSSLParameters(params);
            ssl.setSoTimeout(15_000);
            ssl.startHandshake();
            SSLSession session = ssl.getSession();
            ok("tls", session.getProtocol() + " with " + session.getCipherSuite() + (s.clientCert != null
                ? ", client certificate " + s.clientCert + " presented" : ""));
        } catch (IllegalArgumentException e) {
            fail("tls", e.getMessage(), "fix the TLS files the config names (server_ca, client_cert, client_key)");
            notTried("certificate");
            notTried("host name");
            return;
        } catch (IOException | java.security.GeneralSecurityException e) {
            fail("tls", "the TLS handshake with " + host + ":" + port + " failed: " + describe(e), s.clientCert == null
                ? "is server_url the server's https port? A server that asks for a client certificate needs client_cert and client_key"
                : "check that the server accepts the client certificate " + s.clientCert);
            notTried("certificate");
            notTried("host name");
            return;
        } finally {
            closeQuietly(ssl);
        }
        X509Certificate leaf = trust.chain[0];
        String trustedBy = s.serverCa != null ? "server_ca " + s.serverCa : "the system's trust store";
        if (trust.chainError != null) {
            fail("certificate", describe(leaf) + " is not trusted by " + trustedBy + ": " + rootMessage(trust.chainError),
                s.serverCa != null ? "server_ca must be the CA that signed the server's certificate (bin/outpost-server writes it as ca.pem)"
                    : "set server_ca to the PEM file of the CA that signed the server's certificate");
        } else {
            ok("certificate", describe(leaf) + ", trusted by " + trustedBy);
        }
        String names = String.join(", ", subjectNames(leaf));
        if (trust.hostError != null) {
            fail("host name", "'" + host + "' is not a name of the server's certificate (it names: " + names + ")",
                "use one of those names in server_url, or give the server a certificate for '" + host + "'");
        } else {
            ok("host name", "'" + host + "' is a name of the server's certificate");
        }
    }

    private X509ExtendedTrustManager realTrust() throws java.security.GeneralSecurityException {
        TrustManager[] managers = Tls.trustManagers(s);
        if (managers == null) {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init((KeyStore) null);
            managers = tmf.getTrustManagers();
        }
        return x509(managers);
    }

    private static X509ExtendedTrustManager x509(TrustManager[] managers) {
        for (TrustManager m : managers) if (m instanceof X509ExtendedTrustManager) return (X509ExtendedTrustManager) m;
        throw new IllegalStateException("no X.509 trust manager");
    }

    /**
     * Judges a server chain twice: against the agent's trust (the chain), and against a trust of the chain's own
     * top certificate with the host name checked (the name alone, whether or not the chain is trusted).
     */
    static final class Recording extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager real;
        volatile X509Certificate[] chain;
        volatile CertificateException chainError;
        volatile CertificateException hostError;

        Recording(X509ExtendedTrustManager real) { this.real = real; }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            this.chain = chain;
            try {
                real.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                chainError = e;
            }
            try {
                KeyStore own = KeyStore.getInstance("PKCS12");
                own.load(null, null);
                own.setCertificateEntry("top", chain[chain.length - 1]);
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(own);
                x509(tmf.getTrustManagers()).checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                hostError = e;
            } catch (IOException | java.security.GeneralSecurityException e) {
                hostError = new CertificateException(e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            throw new UnsupportedOperationException("sockets only");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException("with the socket only: the host name is checked");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() { return real.getAcceptedIssuers(); }
    }

    private static String describe(X509Certificate c) {
        return "'" + c.getSubjectX500Principal().getName() + "' issued by '" + c.getIssuerX500Principal().getName()
            + "', valid until " + c.getNotAfter().toInstant();
    }

    static List<String> subjectNames(X509Certificate c) {
        List<String> names = new ArrayList<>();
        try {
            Collection<List<?>> sans = c.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    Object type = san.get(0);
                    if (Integer.valueOf(2).equals(type) || Integer.valueOf(7).equals(type)) names.add(String.valueOf(san.get(1)));
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            names.add("(unreadable subject alternative names: " + e.getMessage() + ")");
        }
        if (names.isEmpty()) names.add("no subject alternative names; subject " + c.getSubjectX500Principal().getName());
        return names;
    }

    // ---- HTTP: clock and credentials --------------------------------------------------------------------

    /**
     * One authenticated request that changes nothing on the server (an empty report, docs/protocol.md §8), or the
     * enrolment a first start would do; its answer's {@code Date} gives the clock.
     */
    private void http() throws InterruptedException {
        if (failed != null) {
            notTried("clock");
            notTried("credentials");
            return;
        }
        HttpClient http;
        try {
            http = HttpClients.of(s);
        } catch (IllegalArgumentException e) {
            fail("clock", "not tried: " + e.getMessage(), null);
            notTried("credentials");
            return;
        }
        java.nio.file.Path file = s.dataDir.resolve(Credentials.FILE);
        boolean enrolled = Files.exists(file);
        Credentials creds = null;
        Check credentials;
        try {
            if (!enrolled && s.enrollmentToken == null) {
                credentials = new Check("credentials", false, "not enrolled (no " + file + ") and no enrollment_token set",
                    "set enrollment_token in the config to the server's enrolment token");
            } else {
                creds = Credentials.loadOrEnroll(http, s);
                credentials = null;
            }
        } catch (Credentials.Unauthorized e) {
            credentials = new Check("credentials", false, e.getMessage(), "enrollment_token must be the server's enrolment token"
                + " (bin/outpost-server writes it as enrollment.token)");
        } catch (IOException e) {
            credentials = new Check("credentials", false, "enrolment failed: " + describe(e), "see the server's log");
        }
        URI uri = creds != null ? s.serverUrl.resolve("/agent/v1/reports") : s.serverUrl.resolve("/");
        HttpRequest.Builder rq = HttpRequest.newBuilder(uri).timeout(REQUEST);
        if (creds != null) {
            String empty = "{\"agentId\": " + Codec.GSON.toJson(creds.agentId) + ", \"results\": [], \"events\": []}";
            rq.header("Authorization", "Bearer " + creds.token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(empty));
        }
        HttpResponse<Void> answer;
        Instant sent = Instant.now();
        Instant received;
        try {
            answer = http.send(rq.build(), HttpResponse.BodyHandlers.discarding());
            received = Instant.now();
        } catch (IOException e) {
            fail("clock", "no answer from " + uri + ": " + describe(e), "see the server's log");
            out.add(credentials != null ? credentials : new Check("credentials", false, "not tried: no answer from the server", null));
            return;
        }
        clock(answer.headers().firstValue("Date"), sent.plus(Duration.between(sent, received).dividedBy(2)));
        if (credentials == null) {
            int status = answer.statusCode();
            if (status == 200) {
                credentials = new Check("credentials", true, enrolled
                    ? "the server accepts the agent's credentials (agent " + creds.agentId + ", " + file + ")"
                    : "the enrolment token was accepted: enrolled as agent " + creds.agentId + " (credentials saved in " + file + ")", null);
            } else if (status == 401 || status == 403) {
                credentials = new Check("credentials", false, "the server refused the agent's credentials in " + file + " (HTTP " + status + ")",
                    "the server no longer knows this agent: move " + file + " away and set enrollment_token to enrol again");
            } else {
                credentials = new Check("credentials", false, "the server answered an empty report with HTTP " + status, "see the server's log");
            }
        }
        out.add(credentials);
        if (!credentials.ok() && failed == null) failed = "credentials";
    }

    private void clock(Optional<String> date, Instant local) {
        if (date.isEmpty()) {
            // RFC 9110 §6.6.1: an origin server with a clock sends Date; one that does not leaves nothing to compare
            ok("clock", "not measured: the server's answers carry no Date header (this host's clock says " + Instant.now() + ")");
            return;
        }
        Instant server;
        try {
            server = ZonedDateTime.parse(date.get(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            fail("clock", "the server's Date header '" + date.get() + "' is not an HTTP date", "see the server's configuration");
            return;
        }
        long skew = Duration.between(server, local).toSeconds(); // > 0: this host is ahead
        String how = skew == 0 ? "agrees with the server's (within a second)"
            : "is " + Math.abs(skew) + " s " + (skew > 0 ? "ahead of" : "behind") + " the server's";
        // the Date header has a resolution of one second
        if (Math.abs(skew) <= s.maxClockSkewSeconds + 1L) {
            ok("clock", "this host's clock " + how + " (allowed: " + s.maxClockSkewSeconds + " s)");
        } else {
            fail("clock", "this host's clock " + how + ": more than the " + s.maxClockSkewSeconds + " s allowed (max_clock_skew_seconds);"
                + " commands would be refused as issued in the future or expired",
                "synchronise the clock (timedatectl set-ntp true, chrony or systemd-timesyncd)");
        }
    }

    // ---- lines -------------------------------------------------------------------------------------------

    private void ok(String name, String detail) { out.add(new Check(name, true, detail, null)); }

    private void fail(String name, String detail, String hint) {
        out.add(new Check(name, false, detail, hint));
        if (failed == null) failed = name;
    }

    private void notTried(String name) { out.add(new Check(name, false, "not tried: the " + failed + " check failed", null)); }

    private static long ms(long startNanos) { return (System.nanoTime() - startNanos) / 1_000_000; }

    /** An exception as an operator reads it: the innermost cause's message, with its kind when the message is bare. */
    static String describe(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        String m = t.getMessage();
        if (m == null || m.isBlank()) return t.getClass().getSimpleName();
        if (t instanceof SSLException || t instanceof UnknownHostException) return t.getClass().getSimpleName() + ": " + m;
        return m;
    }

    private static String rootMessage(Throwable e) { return describe(e); }

    private static void closeQuietly(Socket socket) {
        if (socket == null) return;
        try {
            socket.close();
        } catch (IOException e) {
            // nothing was sent on it
        }
    }
}
