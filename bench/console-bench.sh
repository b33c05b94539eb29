#!/usr/bin/env bash
# console-bench: the web console with N simulated agents (issue 22's figures). For the server with its console and
# without it (--no-console): N agents connect (server.bench.SimulatedAgents); then, with the console, the fleet page
# is fetched signed in (time to the last byte and bytes over the wire, gzip as a browser asks) and, in both runs, the
# server's RSS is read after the same minute (with the console: pages and their stream kept in use meanwhile).
#   bench/console-bench.sh [N]        (needs server/target/outpost-server.jar: mvn -B -DskipTests package)
#   MODES=console bench/console-bench.sh 5000     one of the two runs only
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-5000}
jar=server/target/outpost-server.jar
[ -f "$jar" ] || { echo "console-bench: $jar is missing: mvn -B -DskipTests package" >&2; exit 2; }
ulimit -n 20000
work=$(mktemp -d /tmp/console-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# waits (bounded) for a line in a file
wait_for() { # file pattern seconds
    local deadline=$((SECONDS + $3))
    until grep -q "$2" "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "console-bench: no '$2' in $1 within $3 s" >&2; exit 1; }
        sleep 0.5
    done
}

# first contentful paint of the fleet page in headless Chromium (Debian's chromium and chromedriver, spoken to over
# the W3C WebDriver protocol with Python's standard library), signed in by the session cookie curl got
first_paint() { # url session dir
    local port=$((20000 + RANDOM % 20000))
    chromedriver --port="$port" >"$3/chromedriver.log" 2>&1 &
    local cd=$!; pids+=("$cd")
    python3 - "$port" "$1" "$2" "$3" <<'PY' || echo "first paint: not measured (see the error above)"
import json, sys, time, urllib.request
port, base, session, d = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def call(method, path, body=None):
    rq = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
                                headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(rq, timeout=60))["value"]
for _ in range(100):
    try:
        call("GET", "/status"); break
    except OSError:
        time.sleep(0.1)
caps = {"browserName": "chrome", "acceptInsecureCerts": True, "goog:chromeOptions": {"binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--ignore-certificate-errors",
                 f"--user-data-dir={d}/chromium"]}}
sid = call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
try:
    call("POST", f"/session/{sid}/url", {"url": base + "/console/signin"})
    call("POST", f"/session/{sid}/cookie", {"cookie": {"name": "outpost_session", "value": session, "path": "/", "secure": True, "httpOnly": True}})
    for i in range(5):
        call("POST", f"/session/{sid}/url", {"url": base + "/console/"})
        # the paint entry may come after the load the driver waited for: observe it (buffered), bounded by the script timeout
        m = call("POST", f"/session/{sid}/execute/async", {"script": """
            const done = arguments[arguments.length - 1];
            const report = p => {
              const n = performance.getEntriesByType('navigation')[0];
              done({fcp: p ? p.startTime : -1, responseEnd: n.responseEnd, transfer: n.transferSize, body: n.encodedBodySize,
                    rows: document.querySelectorAll('tr[data-agent]').length, title: document.title});
            };
            new PerformanceObserver(l => { const p = l.getEntriesByName('first-contentful-paint')[0]; if (p) report(p); })
              .observe({type: 'paint', buffered: true});
            setTimeout(() => report(null), 10000);""", "args": []})
        print(f"fleet page in Chromium: first contentful paint {m['fcp']:.0f} ms, response end {m['responseEnd']:.0f} ms, "
              f"{m['transfer']} bytes transferred ({m['body']} body), {m['rows']} rows, title '{m['title']}'")
finally:
    call("DELETE", f"/session/{sid}")
PY
    kill "$cd" 2>/dev/null || true
}

run() { # console|noconsole
    local d=$work/$1 extra=()
    mkdir -p "$d"
    [ "$1" = noconsole ] && extra=(--no-console)
    bin/outpost-server --data-dir "$d/srv" --port 0 --bind 127.0.0.1 --enroll-per-minute 0 "${extra[@]}" >"$d/server.out" 2>"$d/server.err" &
    local spid=$!; pids+=("$spid")
    wait_for "$d/server.out" "listening on" 60
    local url; url=$(cat "$d/srv/server.url")
    java -Xmx2g -cp "$jar" server.bench.SimulatedAgents --server-dir "$d/srv" --agents "$n" --hold 90 >"$d/sim.out" 2>"$d/sim.err" &
    local sim=$!; pids+=("$sim")
    wait_for "$d/sim.err" "holding" 900
    local curl=(curl -s --cacert "$d/srv/ca.pem" -b "$d/cookies" -c "$d/cookies")
    if [ "$1" = console ]; then
        local form csrf
        form=$("${curl[@]}" "$url/console/signin")
        csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$form" | head -1)
        "${curl[@]}" -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "secret=$(cat "$d/srv/operator.token")" \
            --data-urlencode "next=/console/" "$url/console/signin"
        for i in 1 2 3 4 5; do
            "${curl[@]}" --compressed -o "$d/fleet.html" -w "fleet page: %{http_code} in %{time_total} s (first byte %{time_starttransfer} s), %{size_download} bytes over the wire\n" "$url/console/"
        done
        echo "fleet page: $(wc -c <"$d/fleet.html") bytes of HTML, $(grep -o '<tr data-agent=' "$d/fleet.html" | wc -l) agent rows"
        first_paint "$url" "$(awk '$6 == "outpost_session" {print $7}' "$d/cookies")" "$d"
        # a minute of use: a stream open, the pages fetched now and then
        timeout 60 "${curl[@]}" -N -o /dev/null "$url/console/stream?page=fleet" || true &
        for i in $(seq 1 12); do
            for p in / "/?state=connected" /events /plugins /commands "/agents/sim-$i"; do "${curl[@]}" --compressed -o /dev/null "$url/console$p"; done
            sleep 5
        done
    else
        sleep 60
    fi
    echo "$1: server RSS with $n agents connected: $(( $(rss_kib "$spid") / 1024 )) MiB"
    # RSS follows how far the heap grew (enrolling N agents grows it a lot): the heap in use after a full GC compares
    # what each keeps
    local jpid; jpid=$(pgrep -P "$spid" java || echo "$spid")
    jcmd "$jpid" GC.run >/dev/null
    echo "$1: after a full GC: RSS $(( $(rss_kib "$spid") / 1024 )) MiB, $(jcmd "$jpid" GC.heap_info | grep -o 'total [0-9]*K, used [0-9]*K' | head -1)"
    kill "$sim" "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
}

for mode in ${MODES:-console noconsole}; do run "$mode"; done
rm -rf "$work"
