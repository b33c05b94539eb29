package server.console;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import com.google.gson.JsonObject;

import server.gateway.AgentGateway;
import server.gateway.EventFeed;
import server.http.Exchange;
import server.store.Records.Result;

/**
 * The console's live updates: one server-sent-events stream per open page, fed by what the server already signals
 * (agents connecting and disconnecting, results stored, events committed). Nothing polls the store: events are read
 * once per commit for all streams, and only their heads (seq, agent, kind).
 *
 * <p>Each stream says which page it serves, and gets only the news that page shows. News is coalesced per stream and
 * written at most every {@link #FLUSH_MILLIS}; a stream with more than {@link #MAX_PENDING} distinct pieces of news
 * waiting gets one "refresh" instead (5,000 agents reconnecting cost a page one message, not 5,000).
 *
 * <p>A page is rendered with a version (this start's id, the news counter, the last event's seq). The stream it opens
 * sends it the news after that version, so nothing that happened between the render and the stream is missed; after a
 * server restart the start id differs and the page refreshes what it shows. The browser reopens a broken stream by
 * itself (EventSource); the page then refreshes its regions.
 */
final class LiveHub implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LiveHub.class.getName());
    static final long FLUSH_MILLIS = 250;
    static final long HEARTBEAT_MILLIS = 20_000;
    static final int MAX_PENDING = 200;
    /** News kept for streams that open after the page they serve was rendered. */
    private static final int RECENT = 10_000;
    /** A stream whose unsent bytes pass this is a client that stopped reading: it is closed. */
    private static final int MAX_BUFFERED_CHARS = 1 << 20;

    /** What a page shows, and so which news its stream gets. */
    record Topic(String page, String agentId, String commandId, Set<String> eventAgents, String eventKind, boolean eventHealth) {
        static Topic of(String page) {
            return new Topic(page, null, null, null, null, false);
        }
    }

    private record AgentNews(long n, String agentId, boolean connected, String at) {}

    private record ResultNews(long n, String id, String agentId, String status) {}

    private final String bootId = Long.toString(System.nanoTime() ^ Double.doubleToLongBits(Math.random()), 36);
    private final Queries queries;
    private final EventFeed feed;
    private final Sessions sessions;
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    private final ArrayDeque<Object> recent = new ArrayDeque<>(); // guarded by itself
    private long newsCount; // guarded by recent
    private volatile long lastEventSeq = -1;
    private volatile boolean closed;
    /** A commit of events is waiting to be read. */
    private final java.util.concurrent.atomic.AtomicBoolean eventsToRead = new java.util.concurrent.atomic.AtomicBoolean();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "console-live");
        t.setDaemon(true);
        return t;
    });

    LiveHub(Queries queries, AgentGateway gateway, Sessions sessions) {
        this.queries = queries;
        this.feed = gateway.eventFeed();
        this.sessions = sessions;
        gateway.addConnectionListener(this::agentChanged);
        gateway.waiters().addListener(this::resultStored);
        timer.scheduleWithFixedDelay(this::flush, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(this::heartbeat, HEARTBEAT_MILLIS, HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
        feed.addListener(this::eventsCommitted);
    }

    /** What a page rendered now has seen: the stream it opens starts from here. Read it before reading the page's data. */
    String version() {
        long n;
        synchronized (recent) {
            n = newsCount;
        }
        return bootId + "." + n + "." + queries.lastEventSeq();
    }

    // ---------------------------------------------------------------- news in

    private void agentChanged(String agentId, boolean connected, Instant at) {
        AgentNews news;
        synchronized (recent) {
            news = new AgentNews(++newsCount, agentId, connected, at.toString());
            remember(news);
        }
        for (Stream s : streams) route(s, news);
    }

    private void resultStored(Result r) {
        if (!r.attached()) return;
        ResultNews news;
        synchronized (recent) {
            news = new ResultNews(++newsCount, r.id(), r.agentId(), r.status());
            remember(news);
        }
        for (Stream s : streams) route(s, news);
    }

    private void remember(Object news) {
        recent.addLast(news);
        if (recent.size() > RECENT) recent.removeFirst();
    }

    /** Events were committed: read their heads once on the hub's thread, however many commits come meanwhile. */
    private void eventsCommitted() {
        if (closed || !eventsToRead.compareAndSet(false, true)) return;
        try {
            timer.execute(this::readEvents);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    private void readEvents() {
        eventsToRead.set(false); // before reading: a commit from now on is read again
        try {
            if (streams.isEmpty()) {
                lastEventSeq = -1; // nobody listens: nothing to read; start from the newest when someone does
                return;
            }
            long after = lastEventSeq;
            if (after < 0) {
                lastEventSeq = queries.lastEventSeq();
                return;
            }
            while (true) {
                List<Queries.EventHead> heads = queries.eventsAfter(after, 2000);
                for (Queries.EventHead h : heads) {
                    for (Stream s : streams) route(s, h);
                    after = h.seq();
                }
                lastEventSeq = after;
                if (heads.size() < 2000) break;
            }
        } catch (RuntimeException e) {
            if (!closed) LOG.log(Level.WARNING, "reading new events for the console failed", e);
        }
    }

    // ---------------------------------------------------------------- routing

    private static void route(Stream s, AgentNews n) {
        Topic t = s.topic;
        switch (t.page()) {
            case "fleet" -> s.offer("agent:" + n.agentId(), "agent", agentJson(n));
            case "agent", "command" -> {
                if (n.agentId().equals(t.agentId())) s.offer("agent:" + n.agentId(), "agent", agentJson(n));
            }
            case "plugins" -> s.offer("agent", "agent", "{}");
            default -> { }
        }
    }

    private static String agentJson(AgentNews n) {
        JsonObject o = new JsonObject();
        o.addProperty("id", n.agentId());
        o.addProperty("state", n.connected() ? "connected" : "disconnected");
        o.addProperty("lastSeen", n.at());
        return o.toString();
    }

    private static void route(Stream s, ResultNews n) {
        Topic t = s.topic;
        switch (t.page()) {
            case "agent" -> {
                if (n.agentId().equals(t.agentId())) s.offer("result:" + n.id(), "result", resultJson(n));
            }
            case "command" -> {
                if (n.id().equals(t.commandId())) s.offer("result:" + n.id(), "result", resultJson(n));
            }
            case "run", "commands", "plugins" -> s.offer("result", "result", "{}");
            default -> { }
        }
    }

    private static String resultJson(ResultNews n) {
        JsonObject o = new JsonObject();
        o.addProperty("id", n.id());
        o.addProperty("agentId", n.agentId());
        o.addProperty("status", n.status());
        return o.toString();
    }

    private static void route(Stream s, Queries.EventHead h) {
        Topic t = s.topic;
        String kind = h.kind() == null ? "" : h.kind();
        boolean send = switch (t.page()) {
            case "fleet" -> kind.equals("alert");
            case "agent" -> h.agentId().equals(t.agentId());
            case "events" -> (t.eventAgents() == null || t.eventAgents().contains(h.agentId()))
                && (t.eventKind() != null ? t.eventKind().equals(kind) : t.eventHealth() || !kind.equals("health"));
            default -> false;
        };
        if (!send) return;
        JsonObject o = new JsonObject();
        o.addProperty("seq", h.seq());
        o.addProperty("agentId", h.agentId());
        o.addProperty("kind", kind);
        // one piece of news per kind is enough: the page refreshes what it shows of that kind
        s.offer("event:" + kind, "event", o.toString());
    }

    // ---------------------------------------------------------------- streams

    /**
     * Opens a stream for a page rendered at {@code pageVersion} (null: a page that does not say), answering the request
     * with {@code text/event-stream} until the client goes away, the session ends or the server stops.
     */
    void open(Exchange ex, Topic topic, Sessions.Session session, String pageVersion) {
        Response rs = ex.response();
        rs.setStatus(200);
        rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        rs.getHeaders().put("X-Accel-Buffering", "no"); // a proxy in front must pass it on as it comes
        Stream s = new Stream(ex, topic, session);
        ex.onFailure(t -> s.close(null)); // the client went away
        streams.add(s);
        if (lastEventSeq < 0) lastEventSeq = queries.lastEventSeq();
        // the browser retries a broken stream after 2 s; the hello says this start's id
        s.write("retry: 2000\nevent: hello\ndata: {\"boot\":\"" + bootId + "\"}\n\n");
        catchUp(s, pageVersion);
    }

    /** Sends the stream what happened since its page was rendered (or tells it to refresh, if that is unknown). */
    private void catchUp(Stream s, String pageVersion) {
        String[] v = pageVersion == null ? new String[0] : pageVersion.split("\\.");
        if (v.length != 3 || !v[0].equals(bootId)) {
            if (pageVersion != null) s.offerRefresh(); // rendered by an earlier start of the server
            return;
        }
        long n;
        long seq;
        try {
            n = Long.parseLong(v[1]);
            seq = Long.parseLong(v[2]);
        } catch (NumberFormatException e) {
            s.offerRefresh();
            return;
        }
        synchronized (recent) {
            Object first = recent.peekFirst();
            long oldest = first == null ? newsCount + 1 : first instanceof AgentNews a ? a.n() : ((ResultNews) first).n();
            if (n + 1 < oldest && n < newsCount) {
                s.offerRefresh();
                return;
            }
            for (Object news : recent) {
                if (news instanceof AgentNews a && a.n() > n) route(s, a);
                else if (news instanceof ResultNews r && r.n() > n) route(s, r);
            }
        }
        List<Queries.EventHead> missed = queries.eventsAfter(seq, MAX_PENDING * 10);
        if (missed.size() == MAX_PENDING * 10) s.offerRefresh();
        else for (Queries.EventHead h : missed) route(s, h);
    }

    private void flush() {
        for (Stream s : streams) {
            try {
                String chunk = s.drain();
                if (chunk != null) s.write(chunk);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a console stream failed", e);
                s.close(null);
            }
        }
    }

    /** Keeps idle connections open, and ends the streams of sessions that ended (signed out elsewhere, or expired). */
    private void heartbeat() {
        for (Stream s : streams) {
            if (!sessions.alive(s.session)) s.close("event: signedout\ndata: {}\n\n");
            else s.write(": keep-alive\n\n");
        }
    }

    /** Streams open now (for tests and the bench). */
    int streams() {
        return streams.size();
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        for (Stream s : streams) s.close(null);
    }

    /** One page's stream: news waiting to be sent, and the writes to the response, one at a time. */
    final class Stream {
        final Topic topic;
        final Sessions.Session session;
        private final Exchange ex;
        private final LinkedHashMap<String, String> pending = new LinkedHashMap<>(); // guarded by this
        private boolean overflow; // guarded by this
        private final StringBuilder unsent = new StringBuilder(); // guarded by this
        private boolean writing; // guarded by this
        private boolean ended; // guarded by this: no news is taken any more
        private boolean completed; // guarded by this: the response is complete (or failed)
        private String last; // guarded by this: what to write before ending

        Stream(Exchange ex, Topic topic, Sessions.Session session) {
            this.ex = ex;
            this.topic = topic;
            this.session = session;
        }

        synchronized void offer(String key, String event, String json) {
            if (overflow || ended) return;
            pending.remove(key); // the latest word on the same thing goes last
            pending.put(key, "event: " + event + "\ndata: " + json + "\n\n");
            if (pending.size() > MAX_PENDING) {
                pending.clear();
                overflow = true;
            }
        }

        synchronized void offerRefresh() {
            pending.clear();
            overflow = true;
        }

        /** The news waiting, as one chunk, or null. */
        synchronized String drain() {
            if (overflow) {
                overflow = false;
                return "event: refresh\ndata: {}\n\n";
            }
            if (pending.isEmpty()) return null;
            StringBuilder sb = new StringBuilder();
            for (String m : pending.values()) sb.append(m);
            pending.clear();
            return sb.toString();
        }

        /** Queues text for the client; writes now unless a write is under way (its completion writes the rest). */
        void write(String text) {
            boolean stuck = false;
            boolean start;
            synchronized (this) {
                if (ended) return;
                unsent.append(text);
                if (unsent.length() > MAX_BUFFERED_CHARS) {
                    // a client that stopped reading: end it rather than hold its backlog
                    unsent.setLength(0);
                    ended = true;
                    pending.clear();
                    stuck = true;
                }
                start = !writing;
                writing = true;
            }
            if (stuck) streams.remove(this);
            if (start) writeNext();
        }

        /** Writes what is queued; once the stream has ended and nothing is queued, its last words, completing the response. */
        private void writeNext() {
            String text;
            boolean finish;
            synchronized (this) {
                if (unsent.length() > 0) {
                    text = unsent.toString();
                    unsent.setLength(0);
                    finish = false;
                } else if (ended && !completed) {
                    text = last == null ? "" : last;
                    completed = true;
                    finish = true;
                } else {
                    writing = false;
                    return;
                }
            }
            ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            if (finish) ex.response().write(true, buf, ex.callback());
            else ex.response().write(false, buf, Callback.from(this::writeNext, this::failed));
        }

        private void failed(Throwable t) {
            synchronized (this) {
                ended = true;
                completed = true;
                writing = false;
                pending.clear();
                unsent.setLength(0);
            }
            streams.remove(this);
            ex.callback().failed(t);
        }

        /** Ends the stream, after {@code lastWords} if given (an event telling the page why). */
        void close(String lastWords) {
            synchronized (this) {
                if (ended) return;
                ended = true;
                last = lastWords;
                pending.clear();
                if (writing) {
                    streams.remove(this);
                    return; // the write under way finishes the stream when it completes
                }
                writing = true;
            }
            streams.remove(this);
            writeNext();
        }
    }
}
