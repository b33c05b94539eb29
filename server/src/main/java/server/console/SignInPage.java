package server.console;

import static server.console.Html.html;

import server.console.Html.Safe;

/** The sign-in page: one field, the operator token or the console password; a plain form that needs no script. */
final class SignInPage {
    private SignInPage() {}

    static Safe render(Assets assets, String csrf, String next, String notice, String error) {
        return html("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>Sign in · Outpost console</title><link rel="icon" href="{}" type="image/svg+xml"><link rel="stylesheet" href="{}"></head>
            <body class="signin"><main id="main">
            <h1><span class="brand">Outpost</span> console</h1>
            {}{}
            <form method="post" action="/console/signin" class="card">
            <input type="hidden" name="csrf" value="{}"><input type="hidden" name="next" value="{}">
            <label for="secret">Operator token or console password</label>
            <input id="secret" name="secret" type="password" autocomplete="current-password" required autofocus{} aria-describedby="secret-help">
            <p id="secret-help" class="help">The token is in <code>operator.token</code> in the server's data dir. The password was printed
            when the server first started; delete <code>console-password</code> there to have a new one made at the next start.</p>
            <button type="submit">Sign in</button>
            </form></main></body></html>
            """,
            assets.url("icon.svg"), assets.url("console.css"),
            notice == null ? Safe.EMPTY : html("<p class=\"notice\" role=\"status\">{}</p>", notice),
            error == null ? Safe.EMPTY : html("<p class=\"error\" role=\"alert\" id=\"signin-error\">{}</p>", error),
            csrf, next, error == null ? Safe.EMPTY : html(" aria-invalid=\"true\" aria-errormessage=\"signin-error\""));
    }
}
