#!/usr/bin/env bash
# The agent as dist/install.sh installs it (its class-data archives and the launcher's JVM answer written at install
# time), before and after a change, compared interleaved (this machine's speed and memory state drift): each start is
# the first start after install (a new data dir), connected over TLS (WebSocket) to a reference server on loopback;
# reported are the time from the launcher's start to "ready" (wall, the launcher's own work included), whether the
# launcher asked the JVM about its options first (`java -version` probes: it then keeps the answer in the data dir's
# cds/), and the idle RSS 25 s after connecting.
# Usage: bash bench/installed-agent-bench.sh [ROUNDS] [BEFORE_REF] [NAME=ROOT ...]
#   ROUNDS      default 3
#   BEFORE_REF  the git commit whose bin/outpost and dist/ make the "before" install (default: main); "after" is this
#               working tree. Both install the jar of this checkout (bndrun/target/outpost.jar) on the Java of PATH.
#   NAME=ROOT   more variants: trees installed elsewhere with install.sh --root (e.g. from a packaged tarball)
# Needs root (install.sh; the installed tree is bound at /opt/outpost in a private mount namespace), util-linux's
# unshare and a built agent and server (mvn -B -DskipTests package).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
before_ref=${2:-main}
shift 2 || shift $# || true
[ "$(id -u)" -eq 0 ] || { echo "installed-agent-bench.sh: must run as root (install.sh, mount namespaces)" >&2; exit 2; }
if [ ! -f bndrun/target/outpost.jar ] || [ ! -f server/target/outpost-server.jar ]; then
    echo "build first: mvn -B -DskipTests package" >&2; exit 2
fi
# the Java of PATH, or a tree's private runtime (jre/): what the launcher takes when JAVA_HOME is not set
unset JAVA_HOME
git rev-parse --verify -q "$before_ref^{commit}" >/dev/null || { echo "installed-agent-bench.sh: no commit '$before_ref'" >&2; exit 2; }
work=$(mktemp -d /tmp/outpost-installed-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 --log-level WARNING >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do [ -s "$work/server/server.url" ] && break; sleep 0.1; done
[ -s "$work/server/server.url" ] || { echo "the reference server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
ctl() { bin/outpostctl --server-dir "$work/server" "$@"; }
connected() { ctl agents 2>/dev/null | grep -q '"connected": true'; }

# "before": that commit's launcher and install scripts beside this checkout's jar, laid out as a checkout
mkdir -p "$work/before/bin" "$work/before/dist" "$work/before/bndrun/target"
for f in bin/outpost dist/install.sh dist/uninstall.sh dist/outpost.service; do
    git show "$before_ref:$f" >"$work/before/$f"
done
if git cat-file -e "$before_ref:dist/outpost.classlist" 2>/dev/null; then
    git show "$before_ref:dist/outpost.classlist" >"$work/before/dist/outpost.classlist"
fi
chmod 755 "$work/before/bin/outpost" "$work/before/dist/install.sh" "$work/before/dist/uninstall.sh"
cp bndrun/target/outpost.jar "$work/before/bndrun/target/"
variants=()
for v in before after; do
    src=$work/before
    [ "$v" = after ] && src=$PWD
    mkdir -p "$work/root-$v"
    start=$(date +%s%N)
    "$src/dist/install.sh" --root "$work/root-$v" --skip-deps --no-start -y --server https://127.0.0.1:9 --token t \
        >"$work/install-$v.log" 2>&1 || { cat "$work/install-$v.log" >&2; exit 1; }
    echo "$v: installed in $(( ($(date +%s%N) - start) / 1000000 )) ms: $(du -k "$work/root-$v/opt/outpost/lib"/outpost-* | awk '{printf "%s %.1f MB  ", substr($2, match($2, /[^\/]*$/)), $1 / 1024}')"
    variants+=("$v=$work/root-$v")
done
variants+=("$@")

cat >"$work/agent.json" <<JSON
{"server_url": "$(cat "$work/server/server.url")", "server_ca": "$work/server/ca.pem",
 "enrollment_token": "$(cat "$work/server/enrollment.token")"}
JSON
chmod 600 "$work/agent.json"
n=0
run_variant() { # $1 NAME=ROOT; prints NAME READY_MS PROBED(0/1) RSS_MB
    local name=${1%%=*} root=${1#*=} pid start ready_line ready_ms rss probed
    n=$((n + 1))
    start=$(date +%s%3N)
    # the tree's /opt/outpost at its real path (the archives map only for the jar path they were made with)
    # shellcheck disable=SC2016 # $1..$3 are the inner shell's arguments
    unshare --mount --propagation private sh -c \
        'mount -t tmpfs -o mode=0755 bench /opt && mkdir /opt/outpost && mount --bind "$1" /opt/outpost && exec /opt/outpost/bin/outpost run --config "$2" --data-dir "$3"' \
        sh "$root/opt/outpost" "$work/agent.json" "$work/data-$n" >"$work/agent-$n.log" 2>&1 &
    pid=$!
    # connected: the server says so and this agent logged it (every start enrols under the host's one machine id)
    for _ in $(seq 1 300); do grep -q ' connected to ' "$work/agent-$n.log" && connected && break; sleep 0.2; done
    grep -q ' connected to ' "$work/agent-$n.log" || { echo "variant $name: the agent did not connect:" >&2; cat "$work/agent-$n.log" >&2; exit 1; }
    ready_line=$(grep -m 1 ' ready: ' "$work/agent-$n.log")
    ready_ms=$(($(date -d "${ready_line%% *}" +%s%3N) - start))
    probed=0
    if compgen -G "$work/data-$n/cds/outpost-jvm-*.trim" >/dev/null; then probed=1; fi
    sleep 25
    kill -0 "$pid" 2>/dev/null || { echo "variant $name: the agent stopped:" >&2; tail -n 40 "$work/agent-$n.log" >&2; exit 1; }
    rss=$(awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do connected || break; sleep 0.2; done
    rm -rf "$work/data-$n"
    echo "$name $ready_ms $probed $rss"
}
echo "Installed agent, first start after install, $rounds interleaved rounds ($(nproc) cores): ready (wall from the launcher's start), starts that probed the JVM first, idle RSS connected over TLS"
for _ in $(seq 1 "$rounds"); do
    for v in "${variants[@]}"; do run_variant "$v"; done
done | awk '{n[$1]++; t[$1] += $2; p[$1] += $3; r[$1] += $4; if (!($1 in seen)) {seen[$1] = 1; order[++k] = $1}
        runs[$1] = runs[$1] " " $4; ready[$1] = ready[$1] " " $2}
    END {for (i = 1; i <= k; i++) {v = order[i]; printf "  %-10s ready %5.0f ms [%s ]  probed %d/%d  RSS %5.1f MB [%s ]\n", v, t[v] / n[v], ready[v], p[v], n[v], r[v] / n[v], runs[v]}}'
