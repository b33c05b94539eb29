package server.console;

import static server.console.Html.html;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Logger;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Response;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import server.BackupStore;
import server.console.Html.Safe;
import server.gateway.AgentGateway;
import server.http.ApiException;
import server.http.Exchange;
import server.http.Guard;
import server.http.HealthDatasetApi;
import server.http.Json;
import server.http.Tokens;
import server.store.ServerStore;

/**
 * The web console: pages under {@code /console/} on the server's own HTTPS port, rendered here from the store, with one
 * small script (live updates, forms) and one style sheet from the server's jar. Sign-in takes the operator token or the
 * console password and gives a session cookie; the console's actions go through the operator API ({@code /api/v1/*}),
 * authorised by that session and its CSRF token ({@link #authorisesApi}), so they are checked exactly as outpostctl's.
 */
public final class Console implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Console.class.getName());
    static final String SESSION_COOKIE = "outpost_session";
    /** The sign-in form's own CSRF token (a double-submit cookie): there is no session yet to bind it to. */
    static final String SIGNIN_COOKIE = "outpost_signin";
    static final String CSRF_HEADER = "X-CSRF-Token";
    private static final long MAX_FORM = 16 * 1024;
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
        + " form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /** What the pages read from and act through. */
    record Deps(ServerStore store, AgentGateway gateway, Queries queries, HealthDatasetApi health, BackupStore backups, Assets assets,
                int checkInSeconds) {}

    private final Deps deps;
    private final Guard guard;
    private final String operatorToken;
    private final ConsolePassword password;
    private final Sessions sessions;
    private final LiveHub live;
    private final LongSupplier clock;

    public Console(ServerStore store, AgentGateway gateway, HealthDatasetApi health, BackupStore backups, Guard guard, String operatorToken,
                   ConsolePassword password, int checkInSeconds) {
        this(store, gateway, health, backups, guard, operatorToken, password, checkInSeconds, System::currentTimeMillis);
    }

    Console(ServerStore store, AgentGateway gateway, HealthDatasetApi health, BackupStore backups, Guard guard, String operatorToken,
            ConsolePassword password, int checkInSeconds, LongSupplier clock) {
        Queries queries = new Queries(store, checkInSeconds);
        this.deps = new Deps(store, gateway, queries, health, backups, new Assets(), checkInSeconds);
        this.guard = guard;
        this.operatorToken = operatorToken;
        this.password = password;
        this.clock = clock;
        this.sessions = new Sessions(store, clock);
        this.live = new LiveHub(queries, gateway, sessions);
    }

    /** @return whether the path is the console's (its pages, and {@code /}, which leads to them) */
    public static boolean serves(String path) {
        return path.equals("/") || path.equals("/console") || path.startsWith("/console/");
    }

    // ---------------------------------------------------------------- the operator API, by session

    /**
     * Whether a console session authorises this operator API request: it has no {@code Authorization} header, and a
     * live session cookie. A request that changes anything must also carry the session's CSRF token in
     * {@value #CSRF_HEADER} and come from this origin, or it is refused (403). Without a session the API asks for its
     * bearer token as ever.
     */
    public boolean authorisesApi(Exchange ex) {
        if (ex.header(HttpHeader.AUTHORIZATION) != null) return false;
        Sessions.Session s = sessions.find(cookie(ex, SESSION_COOKIE));
        if (s == null) return false;
        if (!safe(ex.method())) {
            sameOrigin(ex);
            if (!matches(ex.header(CSRF_HEADER), s.csrf)) {
                throw new ApiException(403, "missing or wrong CSRF token (" + CSRF_HEADER + "): a console request that changes anything must"
                    + " carry its page's token");
            }
        }
        return true;
    }

    private static boolean safe(String method) {
        return method.equals("GET") || method.equals("HEAD");
    }

    /** A browser says where a request comes from; one from another site is refused whatever it carries. */
    private static void sameOrigin(Exchange ex) {
        String site = ex.header("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            throw new ApiException(403, "cross-site request refused (Sec-Fetch-Site: " + site + ")");
        }
        String origin = ex.header(HttpHeader.ORIGIN);
        String host = ex.header(HttpHeader.HOST);
        if (origin != null && (host == null || !origin.equalsIgnoreCase("https://" + host))) {
            throw new ApiException(403, "cross-origin request refused (Origin: " + origin + ")");
        }
    }

    private static boolean matches(String presented, String expected) {
        return presented != null && expected != null
            && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- pages

    /** One request for a page: its session, the time, and which region alone to render (the script's refreshes). */
    final class Ctx {
        final Exchange ex;
        final Sessions.Session session;
        final long now = clock.getAsLong();
        final String only;
        Safe captured;

        Ctx(Exchange ex, Sessions.Session session) {
            this.ex = ex;
            this.session = session;
            this.only = ex.query("region");
        }

        /** A query parameter, trimmed; null when absent or blank. */
        String q(String name) {
            String v = ex.query(name);
            return v == null || v.isBlank() ? null : v.trim();
        }

        /** Every value of a repeated query parameter. */
        List<String> all(String name) {
            List<String> out = new ArrayList<>();
            for (String v : ex.request().getHttpURI().getQuery() == null ? new String[0] : ex.request().getHttpURI().getQuery().split("&")) {
                int eq = v.indexOf('=');
                if (eq > 0 && URLDecoder.decode(v.substring(0, eq), StandardCharsets.UTF_8).equals(name)) {
                    String val = URLDecoder.decode(v.substring(eq + 1), StandardCharsets.UTF_8).trim();
                    if (!val.isEmpty()) out.add(val);
                }
            }
            return out;
        }

        int page() {
            String p = q("page");
            try {
                return p == null ? 1 : Math.max(1, Math.min(1_000_000, Integer.parseInt(p)));
            } catch (NumberFormatException e) {
                return 1;
            }
        }

        /**
         * A part of the page the script can refresh alone ({@code ?region=NAME}): rendered only when it is the page's
         * whole or the region asked for. {@code refreshOn} names the live news that makes the script refresh it.
         */
        Safe region(String name, String refreshOn, Supplier<Safe> content) {
            if (only != null && !only.equals(name)) return Safe.EMPTY;
            Safe inner = content.get();
            if (only != null) captured = inner;
            return html("<div data-region=\"{}\" data-refresh-on=\"{}\">{}</div>", name, refreshOn, inner);
        }

        String csrf() {
            return session.csrf;
        }

        Deps deps() {
            return deps;
        }
    }

    /**
     * What a page renders: its title, the navigation entry it is under, its stream's topic (the query of
     * {@code /console/stream}, null for none), its content and status.
     */
    record View(String title, String nav, String stream, Safe main, int status) {
        View(String title, String nav, String stream, Safe main) {
            this(title, nav, stream, main, 200);
        }

        /** The handler answered by itself (a stream, a redirect, JSON). */
        static final View ANSWERED = new View("", "", null, Safe.EMPTY, 0);
    }

    public void handle(Exchange ex) throws IOException {
        String p = ex.path();
        if (p.equals("/") || p.equals("/console")) {
            redirect(ex, "/console/", List.of());
            return;
        }
        if (p.startsWith("/console/static/")) {
            asset(ex, p.substring("/console/static/".length()));
            return;
        }
        if (p.equals("/console/signin")) {
            signIn(ex);
            return;
        }
        Sessions.Session s = sessions.find(cookie(ex, SESSION_COOKIE));
        if (s == null) {
            if (safe(ex.method())) redirect(ex, "/console/signin?next=" + Html.enc(localPath(ex)), List.of());
            else throw ApiException.unauthorized("not signed in to the console (or the session expired): sign in again");
            return;
        }
        if (!safe(ex.method())) csrfForPost(ex, s);
        Ctx ctx = new Ctx(ex, s);
        String[] seg = p.substring("/console/".length()).split("/", -1);
        String version = live.version(); // before any data is read: the stream sends what changed after it
        View view = switch (seg[0]) {
            case "" -> get(ex, () -> FleetPage.render(ctx));
            case "agents" -> seg.length == 2 ? get(ex, () -> AgentPage.render(ctx, seg[1])) : null;
            case "commands" -> seg.length == 1 ? get(ex, () -> CommandsPage.list(ctx))
                : seg.length == 2 ? get(ex, () -> CommandsPage.command(ctx, seg[1])) : null;
            case "runs" -> seg.length == 2 ? get(ex, () -> CommandsPage.run(ctx, seg[1])) : null;
            case "plugins" -> seg.length == 1 ? get(ex, () -> PluginsPage.render(ctx)) : null;
            case "events" -> seg.length == 1 ? get(ex, () -> EventsPage.render(ctx)) : null;
            case "stream" -> {
                ex.requireMethod("GET");
                stream(ctx);
                yield View.ANSWERED;
            }
            case "targets" -> {
                ex.requireMethod("POST");
                targets(ex);
                yield View.ANSWERED;
            }
            case "signout" -> {
                ex.requireMethod("POST");
                sessions.end(s);
                LOG.info("console: signed out");
                redirect(ex, "/console/signin?signedout=1", List.of(new HttpField(HttpHeader.SET_COOKIE, expiredCookie(SESSION_COOKIE))));
                yield View.ANSWERED;
            }
            default -> null;
        };
        if (view == View.ANSWERED) return;
        if (view == null) view = notFound(p);
        if (ctx.only != null) {
            if (ctx.captured == null) throw ApiException.notFound("no region '" + ctx.only + "' on " + p);
            sendHtml(ex, 200, ctx.captured.html());
            return;
        }
        sendHtml(ex, view.status(), Layout.page(ctx, view, version).html());
    }

    private static View get(Exchange ex, Supplier<View> page) {
        ex.requireMethod("GET", "HEAD");
        return page.get();
    }

    private static View notFound(String path) {
        return new View("Not found", "", null, html("<h1>Not found</h1><p>There is no console page at <code>{}</code>.</p>"
            + "<p><a href=\"/console/\">Back to the fleet</a></p>", path), 404);
    }

    /** The path and query of the request, for coming back after signing in. */
    private static String localPath(Exchange ex) {
        String q = ex.request().getHttpURI().getQuery();
        return ex.path() + (q == null ? "" : "?" + q);
    }

    /** A page to go to after signing in: one of the console's own, nothing else (no open redirect). */
    static String safeNext(String next) {
        if (next == null || !next.startsWith("/console/") || next.contains("//") || next.contains("\\") || next.contains("\r")
            || next.contains("\n")) {
            return "/console/";
        }
        return next;
    }

    // ---------------------------------------------------------------- sign-in

    private void signIn(Exchange ex) throws IOException {
        ex.requireMethod("GET", "POST");
        if (ex.method().equals("GET")) {
            Sessions.Session s = sessions.find(cookie(ex, SESSION_COOKIE));
            String next = safeNext(ex.query("next"));
            if (s != null) {
                redirect(ex, next, List.of());
                return;
            }
            String token = Tokens.newToken();
            String notice = ex.query("signedout") != null ? "You are signed out." : ex.query("next") != null ? "Sign in to continue." : null;
            sendHtml(ex, 200, SignInPage.render(deps.assets(), token, next, notice, null).html(),
                List.of(new HttpField(HttpHeader.SET_COOKIE, cookie(SIGNIN_COOKIE, token, 600))));
            return;
        }
        Map<String, String> form = form(ex);
        String next = safeNext(form.get("next"));
        try {
            sameOrigin(ex);
        } catch (ApiException e) {
            refuseSignIn(ex, 403, next, e.getMessage(), List.of());
            return;
        }
        if (!matches(form.get("csrf"), cookie(ex, SIGNIN_COOKIE))) {
            refuseSignIn(ex, 403, next, "This sign-in form has expired (or cookies are off): try again.", List.of());
            return;
        }
        try {
            guard.mayAuthenticate(ex.remoteAddress());
        } catch (ApiException e) {
            refuseSignIn(ex, 429, next, "Too many failed sign-ins from your address. " + e.getMessage().replaceFirst("^[^:]*: ", "Try again in ") + ".",
                List.of(new HttpField(HttpHeader.RETRY_AFTER, Long.toString(e.retryAfterSeconds()))));
            return;
        }
        String secret = form.getOrDefault("secret", "").trim();
        boolean ok = !secret.isEmpty() && (Tokens.matches(secret, operatorToken) || password.matches(secret));
        if (!ok) {
            guard.refused(ex.remoteAddress(), "wrong console sign-in");
            refuseSignIn(ex, 401, next, secret.isEmpty() ? "Enter the operator token or the console password."
                : "That is neither the operator token nor the console password.", List.of());
            return;
        }
        Sessions.Issued issued = sessions.signIn();
        LOG.info("console: signed in from " + (ex.remoteAddress() == null ? "an unknown address" : ex.remoteAddress().getHostAddress()));
        redirect(ex, next, List.of(new HttpField(HttpHeader.SET_COOKIE, cookie(SESSION_COOKIE, issued.cookieValue(), Sessions.MAX_MILLIS / 1000)),
            new HttpField(HttpHeader.SET_COOKIE, expiredCookie(SIGNIN_COOKIE))));
    }

    private void refuseSignIn(Exchange ex, int status, String next, String message, List<HttpField> extra) {
        String token = Tokens.newToken();
        List<HttpField> headers = new ArrayList<>(extra);
        headers.add(new HttpField(HttpHeader.SET_COOKIE, cookie(SIGNIN_COOKIE, token, 600)));
        sendHtml(ex, status, SignInPage.render(deps.assets(), token, next, null, message).html(), headers);
    }

    /** A POST from a page: its session's CSRF token (form field or header), from this origin. */
    private static void csrfForPost(Exchange ex, Sessions.Session s) {
        sameOrigin(ex);
        String token = ex.header(CSRF_HEADER);
        if (token == null && isForm(ex)) {
            // read once here; the handlers of form posts (sign-out) need no other field
            token = form(ex).get("csrf");
        }
        if (!matches(token, s.csrf)) {
            throw new ApiException(403, "missing or wrong CSRF token: reload the page and try again");
        }
    }

    private static boolean isForm(Exchange ex) {
        String ct = ex.header(HttpHeader.CONTENT_TYPE);
        return ct != null && ct.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded");
    }

    /** A urlencoded form body (small: the console's forms hold a few fields). */
    static Map<String, String> form(Exchange ex) {
        Map<String, String> out = new HashMap<>();
        if (!isForm(ex)) return out;
        for (String pair : ex.bodyString(MAX_FORM).split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

    // ---------------------------------------------------------------- the stream and the forms' helpers

    private void stream(Ctx ctx) {
        String page = ctx.q("page");
        if (page == null) throw ApiException.badRequest("page is required (fleet, agent, command, run, commands, plugins, events)");
        LiveHub.Topic topic = switch (page) {
            case "fleet", "commands", "run", "plugins" -> LiveHub.Topic.of(page);
            case "agent" -> new LiveHub.Topic(page, required(ctx, "agent"), null, null, null, false);
            case "command" -> new LiveHub.Topic(page, required(ctx, "agent"), required(ctx, "command"), null, null, false);
            case "events" -> {
                List<String> agents = ctx.all("agent");
                yield new LiveHub.Topic(page, null, null, agents.isEmpty() ? null : Set.copyOf(agents), ctx.q("kind"), ctx.q("health") != null);
            }
            default -> throw ApiException.badRequest("page must be fleet, agent, command, run, commands, plugins or events, got '" + page + "'");
        };
        live.open(ctx.ex, topic, ctx.session, ctx.q("v"));
    }

    private static String required(Ctx ctx, String name) {
        String v = ctx.q(name);
        if (v == null) throw ApiException.badRequest(name + " is required");
        return v;
    }

    /** {@code POST /console/targets {names: [...]}}: agents by id or host name, for the forms that send to a chosen set. */
    private void targets(Exchange ex) {
        JsonObject body = ex.jsonBody(1 << 20);
        JsonElement names = body.get("names");
        if (names == null || !names.isJsonArray()) throw ApiException.badRequest("names must be a JSON array of agent ids or host names");
        Set<String> list = new LinkedHashSet<>();
        for (JsonElement e : names.getAsJsonArray()) {
            if (!e.isJsonPrimitive()) throw ApiException.badRequest("names must hold strings, got " + Json.abbreviate(e));
            if (!e.getAsString().isBlank()) list.add(e.getAsString().trim());
        }
        if (list.size() > 10_000) throw ApiException.badRequest("names holds " + list.size() + " names; at most 10000");
        Queries.Targets t = deps.queries().resolve(list);
        JsonArray agents = new JsonArray();
        t.hostnameById().forEach((id, host) -> {
            JsonObject o = new JsonObject();
            o.addProperty("agentId", id);
            o.addProperty("hostname", host);
            agents.add(o);
        });
        JsonObject out = new JsonObject();
        out.add("agents", agents);
        JsonArray unknown = new JsonArray();
        t.unknown().forEach(unknown::add);
        out.add("unknown", unknown);
        ex.json(200, out);
    }

    // ---------------------------------------------------------------- responses

    private void asset(Exchange ex, String name) {
        ex.requireMethod("GET", "HEAD");
        Assets.Asset a = deps.assets().get(name);
        if (a == null) throw ApiException.notFound("no console file '" + name + "'");
        Response rs = ex.response();
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "public, max-age=31536000, immutable");
        rs.getHeaders().put(HttpHeader.ETAG, "\"" + a.hash() + "\"");
        rs.getHeaders().put("X-Content-Type-Options", "nosniff");
        rs.getHeaders().put(HttpHeader.VARY, "Accept-Encoding");
        if (("\"" + a.hash() + "\"").equals(ex.header(HttpHeader.IF_NONE_MATCH))) {
            rs.setStatus(304);
            rs.write(true, null, ex.callback());
            return;
        }
        boolean gz = acceptsGzip(ex);
        if (gz) rs.getHeaders().put(HttpHeader.CONTENT_ENCODING, "gzip");
        ex.bytes(200, a.contentType(), gz ? a.gzipped() : a.bytes());
    }

    private static boolean acceptsGzip(Exchange ex) {
        String ae = ex.header(HttpHeader.ACCEPT_ENCODING);
        return ae != null && ae.toLowerCase(java.util.Locale.ROOT).contains("gzip");
    }

    private static void sendHtml(Exchange ex, int status, String body) {
        sendHtml(ex, status, body, List.of());
    }

    /** A page (or a region of one), gzipped when the browser takes it, with the headers that keep it to this origin. */
    static void sendHtml(Exchange ex, int status, String body, List<HttpField> extra) {
        Response rs = ex.response();
        securityHeaders(rs);
        for (HttpField f : extra) rs.getHeaders().add(f);
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        rs.getHeaders().put(HttpHeader.VARY, "Accept-Encoding");
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 1024 && acceptsGzip(ex)) {
            bytes = Assets.gzip(bytes);
            rs.getHeaders().put(HttpHeader.CONTENT_ENCODING, "gzip");
        }
        ex.bytes(status, "text/html; charset=utf-8", bytes);
    }

    private static void securityHeaders(Response rs) {
        rs.getHeaders().put("Content-Security-Policy", CSP);
        rs.getHeaders().put("X-Content-Type-Options", "nosniff");
        rs.getHeaders().put("X-Frame-Options", "DENY");
        rs.getHeaders().put("Referrer-Policy", "same-origin");
    }

    private static void redirect(Exchange ex, String location, List<HttpField> extra) {
        Response rs = ex.response();
        securityHeaders(rs);
        for (HttpField f : extra) rs.getHeaders().add(f);
        rs.getHeaders().put(HttpHeader.LOCATION, location);
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        ex.bytes(303, "text/plain; charset=utf-8", ("see " + location + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** A cookie only this origin's pages send back, over HTTPS, and no script can read. */
    static String cookie(String name, String value, long maxAgeSeconds) {
        return name + "=" + value + "; Path=/; Max-Age=" + maxAgeSeconds + "; Secure; HttpOnly; SameSite=Strict";
    }

    private static String expiredCookie(String name) {
        return name + "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict";
    }

    /** A cookie's value from the request, or null. */
    static String cookie(Exchange ex, String name) {
        for (HttpField f : ex.request().getHeaders()) {
            if (f.getHeader() != HttpHeader.COOKIE) continue;
            for (String part : f.getValue().split(";")) {
                int eq = part.indexOf('=');
                if (eq > 0 && part.substring(0, eq).trim().equals(name)) return part.substring(eq + 1).trim();
            }
        }
        return null;
    }

    /** Live streams open now (for tests and the bench). */
    public int streams() {
        return live.streams();
    }

    @Override
    public void close() {
        live.close();
    }
}
