package server.http;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

import server.BackupStore;
import server.BundleRepository;
import server.DatasetRepository;
import server.console.Console;
import server.gateway.AgentGateway;
import server.store.ServerStore;

/**
 * Routes the HTTPS requests that are not WebSocket upgrades: {@code /agent/v1/*}, {@code /api/v1/*} (by bearer token, or
 * by a console session with its CSRF token) and the console's pages.
 */
public final class Router extends Handler.Abstract {
    private static final Logger LOG = Logger.getLogger(Router.class.getName());
    private static final List<HttpField> BEARER_CHALLENGE = List.of(new HttpField(HttpHeader.WWW_AUTHENTICATE, "Bearer"));

    private final AgentHttpApi agents;
    private final OperatorApi operator;
    private final DatasetRepository datasets;
    private final HealthDatasetApi healthAndDatasets;
    private final BackupApi backups;
    /** The web console; null when it is off. */
    private final Console console;

    /** @param console the web console, or null for none */
    public Router(ServerStore store, AgentGateway gateway, BundleRepository bundles, DatasetRepository datasets, BackupStore backups,
                  Guard guard, String enrollmentToken, String operatorToken, int checkInSeconds, Console console) {
        this.agents = new AgentHttpApi(store, gateway, bundles, guard, enrollmentToken, checkInSeconds);
        this.operator = new OperatorApi(store, gateway, bundles, guard, operatorToken);
        this.datasets = datasets;
        this.healthAndDatasets = new HealthDatasetApi(store, datasets, operatorToken);
        this.backups = new BackupApi(backups, store, operatorToken);
        this.console = console;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        Exchange ex = new Exchange(request, response, callback);
        try {
            String p = ex.path();
            if (p.startsWith("/api/v1/") && console != null && console.authorisesApi(ex)) ex.authorisedBySession();
            String raw = request.getHttpURI().getPath();
            if (raw != null && raw.startsWith(BackupApi.PREFIX + "/") && !BackupApi.servesAgent(p)) {
                // a backup name with dot segments ("../x"), which Jetty resolved away: refused by name, never followed
                BackupStore.checkName(raw.substring(BackupApi.PREFIX.length() + 1));
            }
            if (console != null && Console.serves(p)) console.handle(ex);
            // an agent's token, or a signed capability URL for fetchers without one (DatasetRepository)
            else if (p.startsWith("/agent/v1/datasets/")) datasets.serve(ex, ex.header(HttpHeader.AUTHORIZATION) != null && agents.authenticate(ex) != null);
            else if (BackupApi.servesAgent(p)) backups.agent(ex, agents.authenticate(ex));
            else if (BackupApi.servesOperator(p)) backups.operator(ex);
            else if (HealthDatasetApi.serves(p)) healthAndDatasets.handle(ex);
            else if (p.startsWith("/agent/v1/")) agents.handle(ex);
            else if (p.startsWith("/api/v1/")) operator.handle(ex);
            else throw ApiException.notFound("no such endpoint: " + p + " (the APIs are under /agent/v1/ and /api/v1/"
                + (console == null ? "" : ", the console under /console/") + ")");
        } catch (ApiException e) {
            List<HttpField> headers = e.status() == 401 ? BEARER_CHALLENGE
                : e.retryAfterSeconds() > 0 ? List.of(new HttpField(HttpHeader.RETRY_AFTER, Long.toString(e.retryAfterSeconds())))
                : List.of();
            ex.error(e.status(), e.getMessage(), headers);
        } catch (Exception e) {
            LOG.log(Level.SEVERE, request.getMethod() + " " + ex.path() + " failed", e);
            ex.error(500, "internal server error (" + e.getClass().getSimpleName() + "); see the server log", List.of());
        }
        return true;
    }
}
