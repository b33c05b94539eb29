#!/usr/bin/env bash
# Outpost backups kept on the server: backup.create (gzip) of one generated tree to a local destination and to the
# reference server ("destination": "server", docs/protocol.md §7.1), then backup.restore from each, alternating in one
# run (this machine's speed drifts), in the exported agent connected over TLS on loopback. What the server destination
# costs is the upload of the archive (and, for a restore, its download) on top of the local path; the figures are the
# agent's own (the result's startedAt..finishedAt), not outpostctl's.
# Usage: bash bench/backup-server-bench.sh [RUNS] [PARENT_DIR]   (defaults 3 and /var/tmp; needs ~2 GB free there)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
work=$(mktemp -d "${2:-/var/tmp}/outpost-backup-server-bench.XXXXXX")
server_pid="" agent_pid=""
cleanup() {
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
if [ ! -f bndrun/target/outpost.jar ] || [ ! -f server/target/outpost-server.jar ]; then
    mvn -B -q -DskipTests package
fi

# the tree: 100 MB of text in ~12,800 files of 1 to 32 KiB, 200 MB of random bytes, 100 MB of text (a log)
src=$work/tree
mkdir -p "$src/big"
set +o pipefail # head ends the generators early, on purpose
sizes=(1024 2048 4096 8192 16384 32768)
for d in $(seq 0 19); do
    mkdir -p "$src/small/d$d"
    base64 -w 76 /dev/urandom | head -c 5242880 | (cd "$src/small/d$d" && split -b "${sizes[$((d % 6))]}" -a 5 - f)
done
head -c 200M /dev/urandom > "$src/big/random.bin"
base64 -w 120 /dev/urandom | head -c 100M > "$src/big/app.log"
set -o pipefail
sync
files=$(find "$src" -type f | wc -l)
bytes=$(du -sb "$src" | cut -f1)

ctl() { bin/outpostctl --server-dir "$work/server" "$@"; }
bin/outpost-server --data-dir "$work/server" --port 0 --bind 127.0.0.1 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 150); do [ -s "$work/server/server.url" ] && break; sleep 0.1; done
[ -s "$work/server/server.url" ] || { cat "$work/server.log"; exit 1; }
cat > "$work/agent.json" <<JSON
{"server_url": "$(cat "$work/server/server.url")", "server_ca": "$work/server/ca.pem",
 "enrollment_token": "$(cat "$work/server/enrollment.token")", "health": {"interval_seconds": 0}}
JSON
bin/outpost run --config "$work/agent.json" --data-dir "$work/agent" > "$work/agent.log" 2>&1 &
agent_pid=$!
agent=""
for _ in $(seq 1 150); do
    agent=$(ctl agents 2>/dev/null | sed -n 's/.*"agentId": "\([^"]*\)".*/\1/p' | head -n 1)
    [ -n "$agent" ] && ctl agents | grep -q '"connected": true' && break
    sleep 0.2
done
[ -n "$agent" ] || { echo "the agent did not connect; its log:"; cat "$work/agent.log"; exit 1; }

# runs one command, prints the agent's own milliseconds (startedAt..finishedAt); the result line is kept in $work/last
run_ms() {
    ctl send "$agent" "$1" "$2" --wait 600 > "$work/last"
    grep -q '"status": *"succeeded"' "$work/last" || { echo "$1 did not succeed: $(cat "$work/last")" >&2; exit 1; }
    python3 - "$work/last" <<'PY'
import json, sys, datetime
r = json.loads(open(sys.argv[1]).read().splitlines()[0])
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
print(int((t(r["finishedAt"]) - t(r["startedAt"])).total_seconds() * 1000))
PY
}
field() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[0])['data']; print($2)" "$work/last"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }

local_c=() server_c=() local_x=() server_x=() size=0
for i in $(seq 1 "$runs"); do
    local_c+=("$(run_ms backup.create "{\"paths\": [\"$src\"], \"name\": \"bench\", \"destination\": \"$work/local\"}")")
    archive=$(field "$work/last" "d['archive']") size=$(field "$work/last" "d['sizeBytes']")
    server_c+=("$(run_ms backup.create "{\"paths\": [\"$src\"], \"name\": \"bench\", \"destination\": \"server\"}")")
    name=$(field "$work/last" "d['sent'][-1]['archive']")
    local_x+=("$(run_ms backup.restore "{\"archive\": \"$archive\", \"target\": \"$work/r-local-$i\"}")")
    server_x+=("$(run_ms backup.restore "{\"destination\": \"server\", \"archive\": \"$name\", \"target\": \"$work/r-server-$i\"}")")
    rm -rf "$work/r-local-$i" "$work/r-server-$i" "$work/local"
done

lc=$(printf '%s\n' "${local_c[@]}" | median) sc=$(printf '%s\n' "${server_c[@]}" | median)
lx=$(printf '%s\n' "${local_x[@]}" | median) sx=$(printf '%s\n' "${server_x[@]}" | median)
mb() { awk -v b="$1" -v ms="$2" 'BEGIN {printf "%.0f", (ms > 0 ? b / 1048576 / (ms / 1000) : 0)}'; }
echo "tree: $files files, $((bytes / 1048576)) MB; archive (gzip): $((size / 1048576)) MB; runs: $runs (medians, the agent's own time)"
printf '%-34s %8s %8s\n' "" "local" "server"
printf '%-34s %8d %8d\n' "backup.create, ms" "$lc" "$sc"
printf '%-34s %8d %8d\n' "backup.restore, ms" "$lx" "$sx"
printf '%-34s %8s\n' "server / local, create" "$(awk -v a="$sc" -v b="$lc" 'BEGIN {printf "%.2fx", a / b}')"
printf '%-34s %8s\n' "server / local, restore" "$(awk -v a="$sx" -v b="$lx" 'BEGIN {printf "%.2fx", a / b}')"
printf '%-34s %8s\n' "upload, MB/s of archive (extra ms)" "$(mb "$size" $((sc - lc))) ($((sc - lc)))"
printf '%-34s %8s\n' "download, MB/s of archive (extra ms)" "$(mb "$size" $((sx - lx))) ($((sx - lx)))"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
