package agent.core.internal;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

import agent.api.Command;
import agent.api.Result;
import agent.store.Admission;
import agent.transport.AgentLink;
import agent.transport.Transport;
import agent.transport.TransportFactory;
import agent.transport.TransportSettings;

/**
 * The agent's side of the server connection: commands from the transport go through the dispatcher (durably
 * recorded before {@code accepted}), results and progress of server commands go back, acks empty the outbox.
 */
final class ServerConnection implements AgentLink, Dispatcher.Listener, AutoCloseable {
    private static final Logger LOG = Logger.getLogger("agent.core.server");
    static final String SOURCE = "server";

    private final AgentRuntime rt;
    private final BundleContext context;
    private final Transport transport;

    ServerConnection(AgentRuntime rt, BundleContext context, TransportFactory factory, boolean forcePoll) {
        this.rt = rt;
        this.context = context;
        this.transport = factory.open(settings(rt, forcePoll), this);
        rt.dispatcher.addListener(this);
        rt.registry.onChange(transport::capabilities);
    }

    private static TransportSettings settings(AgentRuntime rt, boolean forcePoll) {
        AgentConfig c = rt.config;
        TransportSettings s = new TransportSettings();
        s.kind = forcePoll ? "poll" : c.transport;
        s.serverUrl = URI.create(c.serverUrl);
        s.serverCa = c.serverCa;
        s.clientCert = c.clientCert;
        s.clientKey = c.clientKey;
        s.enrollmentToken = c.enrollmentToken;
        s.dataDir = c.dataDir;
        s.machineId = rt.agentId;
        s.hostname = MachineIdentity.hostname();
        s.heartbeatSeconds = c.heartbeatSeconds;
        s.maxBackoffSeconds = c.maxBackoffSeconds;
        s.checkInInterval = c.checkInInterval;
        s.maxFrameBytes = c.maxFrameBytes;
        String proxy = c.httpsProxy != null ? c.httpsProxy : System.getenv("https_proxy");
        if (proxy == null) proxy = System.getenv("HTTPS_PROXY");
        s.httpsProxy = proxy == null || proxy.isBlank() ? null : URI.create(proxy);
        s.insecureHttp = c.insecureHttp;
        return s;
    }

    Transport transport() { return transport; }

    void start() { transport.start(); }

    // ---- AgentLink ---------------------------------------------------------------------------------------

    @Override
    public Map<String, Object> hello() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("protocol", 1);
        m.put("agentId", rt.agentId);
        m.put("agentVersion", rt.version);
        m.put("hostname", MachineIdentity.hostname());
        Map<String, Object> os = new LinkedHashMap<>();
        os.put("name", System.getProperty("os.name"));
        os.put("version", OsRelease.prettyName());
        os.put("kernel", System.getProperty("os.version"));
        os.put("arch", System.getProperty("os.arch"));
        m.put("os", os);
        m.put("mode", rt.mode.wireName());
        m.put("plugins", plugins());
        return m;
    }

    /** Every bundle but the framework, with the actions it serves now. */
    private List<Map<String, Object>> plugins() {
        Map<String, List<String>> actionsByBundle = new LinkedHashMap<>();
        rt.registry.actions().forEach((action, reg) -> actionsByBundle.computeIfAbsent(reg.bundle, b -> new ArrayList<>()).add(action));
        List<Map<String, Object>> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getBundleId() == 0) continue;
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("bsn", b.getSymbolicName());
            p.put("version", b.getVersion().toString());
            p.put("state", BundleStates.name(b.getState()));
            p.put("actions", actionsByBundle.getOrDefault(b.getSymbolicName() + " " + b.getVersion(), List.of()));
            out.add(p);
        }
        return out;
    }

    @Override
    public void command(Command command) {
        Dispatcher.Submission s = rt.dispatcher.submit(command, SOURCE);
        if (s.kind == Admission.Kind.FINISHED) transport.result(s.result.join()); // a duplicate: the stored result
    }

    @Override
    public void commands(List<Command> commands) {
        for (Dispatcher.Submission s : rt.dispatcher.submitAll(commands, SOURCE)) {
            if (s.kind == Admission.Kind.FINISHED) transport.result(s.result.join());
        }
    }

    @Override
    public void invalidCommand(String id, String error) {
        if (id == null) {
            transport.event("protocol", Map.of("error", error));
            return;
        }
        Dispatcher.Submission s = rt.dispatcher.reject(id, error, SOURCE);
        if (s.kind == Admission.Kind.FINISHED) transport.result(s.result.join());
    }

    @Override
    public void cancel(String id) {
        if (!rt.dispatcher.cancel(id)) LOG.info("cancel of " + id + " ignored: not queued or running");
    }

    @Override
    public void acked(Collection<String> ids) {
        rt.store.ack(ids);
    }

    @Override
    public List<Result> outbox() {
        return rt.store.outbox(1000);
    }

    @Override
    public boolean busy() {
        return !rt.dispatcher.active().isEmpty();
    }

    // ---- Dispatcher.Listener ------------------------------------------------------------------------------

    @Override
    public void accepted(String id) {
        transport.accepted(id);
    }

    @Override
    public void result(Result result, String source) {
        if (SOURCE.equals(source)) transport.result(result);
    }

    @Override
    public void progress(String id, Integer percent, String message) {
        transport.progress(id, percent, message);
    }

    @Override
    public void close() {
        rt.dispatcher.removeListener(this);
        transport.close();
    }
}
