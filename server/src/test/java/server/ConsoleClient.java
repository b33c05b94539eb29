package server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A browser's side of the console, by plain HTTP: cookies kept by hand so that tests can look at them. */
final class ConsoleClient {
    final TestServer s;
    String session;
    String csrf;

    ConsoleClient(TestServer s) {
        this.s = s;
    }

    record Page(int status, String body, HttpResponse<String> response) {
        List<String> cookies() {
            return response.headers().allValues("set-cookie");
        }

        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }
    }

    Page get(String path) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.base.resolve(path)).timeout(Duration.ofSeconds(10)).GET();
        if (session != null) b.header("Cookie", Console.SESSION + "=" + session);
        HttpResponse<String> rs = s.http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Page(rs.statusCode(), rs.body(), rs);
    }

    /** A POST with the session cookie; {@code headers} as name, value, name, value... */
    Page post(String path, String contentType, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.base.resolve(path)).timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", contentType);
        if (session != null) b.header("Cookie", Console.SESSION + "=" + session);
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        HttpResponse<String> rs = s.http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        return new Page(rs.statusCode(), rs.body(), rs);
    }

    /** A POST to the operator API as the console's script sends it: JSON, the session, its CSRF token. */
    Page api(String path, String json) throws Exception {
        return post(path, "application/json", json, "X-CSRF-Token", csrf);
    }

    /** The sign-in form: its own CSRF token and the cookie that must come back with it. */
    record Form(String token, String cookie) {}

    Form signInForm() throws Exception {
        Page p = get("/console/signin");
        assertThat(p.status()).as(p.body()).isEqualTo(200);
        String cookie = cookie(p, Console.SIGNIN);
        assertThat(cookie).as("the sign-in form's cookie").isNotNull();
        return new Form(field(p.body(), "csrf"), cookie);
    }

    /** Posts the sign-in form with {@code secret}; on success keeps the session and reads the page's CSRF token. */
    Page signIn(String secret) throws Exception {
        Form f = signInForm();
        Page p = post("/console/signin", "application/x-www-form-urlencoded",
            form(Map.of("csrf", f.token(), "secret", secret, "next", "/console/")), "Cookie", Console.SIGNIN + "=" + f.cookie());
        String s = cookie(p, Console.SESSION);
        if (p.status() == 303 && s != null && !s.isEmpty()) {
            session = s;
            Page fleet = get("/console/");
            Matcher m = Pattern.compile("name=\"csrf-token\" content=\"([^\"]+)\"").matcher(fleet.body());
            assertThat(m.find()).as("the page's CSRF token").isTrue();
            csrf = m.group(1);
        }
        return p;
    }

    static String cookie(Page p, String name) {
        for (String c : p.cookies()) if (c.startsWith(name + "=")) return c.substring(name.length() + 1, c.indexOf(';'));
        return null;
    }

    static String setCookie(Page p, String name) {
        for (String c : p.cookies()) if (c.startsWith(name + "=")) return c;
        return null;
    }

    static String field(String html, String name) {
        Matcher m = Pattern.compile("name=\"" + Pattern.quote(name) + "\" value=\"([^\"]*)\"").matcher(html);
        assertThat(m.find()).as("form field " + name).isTrue();
        return m.group(1);
    }

    static String form(Map<String, String> fields) {
        StringBuilder sb = new StringBuilder();
        fields.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "&").append(URLEncoder.encode(k, StandardCharsets.UTF_8)).append('=')
            .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return sb.toString();
    }

    /** Names the console's cookies as the server does (kept here so the tests read plainly). */
    static final class Console {
        static final String SESSION = "outpost_session";
        static final String SIGNIN = "outpost_signin";
    }
}
