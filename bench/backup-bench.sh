#!/usr/bin/env bash
# Outpost backup benchmark: backup.create (gzip) of a generated tree of about 1 GB (many small files and a few large
# ones) against `tar -czf` of the same tree in the same run, then backup.restore against `tar -xzf`.
# Targets (issue 16): backup.create wall time <= 1.2x tar -czf's; the agent's peak RSS growth <= 32 MB.
# The agent's side runs the plugin's handlers on the agent's own CommandContext (agent.testkit) in a JVM with the
# launcher's flags (bin/outpost), so the figures are the handlers' own, without the rest of the agent's heap
# (runtime.test ScriptAndBackupIT runs the same actions in the exported agent).
# Usage: bash bench/backup-bench.sh [RUNS] [PARENT_DIR]   (defaults 3 and /var/tmp; needs ~4 GB free there)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
work=$(mktemp -d "${2:-/var/tmp}/outpost-backup-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

mvn -B -o -q -pl plugin.backup -am test-compile dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" \
    -Dmdep.includeScope=test > "$work/mvn.log" 2>&1 || { cat "$work/mvn.log" >&2; exit 2; }
cp="plugin.backup/target/test-classes:plugin.backup/target/classes:$(cat "$work/cp.txt")"
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
flags=(-Xms8m -Xmx64m -Xss256k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=16m
    -XX:MaxMetaspaceSize=64m -XX:-UsePerfData)

# the tree: 300 MB of text in ~38,000 files of 1 to 32 KiB in 40 directories, 2 x 200 MB of random bytes (media,
# compressed data: gzip cannot shrink them), 1 x 300 MB of text (a log)
src=$work/tree
mkdir -p "$src/big"
set +o pipefail # head ends the generators early, on purpose
sizes=(1024 2048 4096 8192 16384 32768)
for d in $(seq 0 39); do
    mkdir -p "$src/small/d$d"
    base64 -w 76 /dev/urandom | head -c 7864320 | (cd "$src/small/d$d" && split -b "${sizes[$((d % 6))]}" -a 5 - f)
done
head -c 200M /dev/urandom > "$src/big/random-1.bin"
head -c 200M /dev/urandom > "$src/big/random-2.bin"
base64 -w 120 /dev/urandom | head -c 300M > "$src/big/app.log"
set -o pipefail
sync
files=$(find "$src" -type f | wc -l)
bytes=$(du -sb "$src" | cut -f1)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
field() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<< "$2"; }

tar_c=() tar_x=() agent_c=() agent_x=() growth_c=() growth_x=() tar_size=() agent_size=()
tar_c_cpu=() tar_x_cpu=() agent_c_cpu=() agent_x_cpu=()
# wall and CPU (user + sys of tar and its gzip) of a command, in ms, into $wall and $cpu
timed() {
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@"
    read -r e u s < "$work/time"
    wall=$(awk -v e="$e" 'BEGIN {printf "%d", e * 1000}') cpu=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%d", (u + s) * 1000}')
}
for i in $(seq 1 "$runs"); do
    timed tar -czf "$work/tar.tar.gz" -C / "${src#/}"
    tar_c+=("$wall"); tar_c_cpu+=("$cpu"); tar_size+=("$(stat -c %s "$work/tar.tar.gz")")
    mkdir "$work/tar-restored"
    timed tar -xzpf "$work/tar.tar.gz" -C "$work/tar-restored"
    tar_x+=("$wall"); tar_x_cpu+=("$cpu")
    rm -rf "$work/tar.tar.gz" "$work/tar-restored"

    out=$("$java" "${flags[@]}" -cp "$cp" plugin.backup.internal.BackupBench "$work/agent" "$src" "$work/agent-restored")
    c=$(grep '^create_ms=' <<< "$out") x=$(grep '^restore_ms=' <<< "$out")
    agent_c+=("$(field create_ms "$c")"); growth_c+=("$(field growth_kb "$c")"); agent_size+=("$(field archive_bytes "$c")")
    agent_x+=("$(field restore_ms "$x")"); growth_x+=("$(field growth_kb "$x")")
    agent_c_cpu+=("$(field cpu_ms "$c")"); agent_x_cpu+=("$(field cpu_ms "$x")")
    if [ "$i" = 1 ]; then
        diff -r --no-dereference "$src" "$work/agent-restored/${src#/}" > /dev/null \
            || { echo "the tree backup.restore wrote differs from the source" >&2; exit 1; }
    fi
    rm -rf "$work/agent" "$work/agent-restored"
done

med() { printf '%s\n' "$@" | median; }
ratio() { awk -v a="$1" -v t="$2" 'BEGIN {printf "%.2f", a / t}'; }
tc=$(med "${tar_c[@]}") ac=$(med "${agent_c[@]}") tx=$(med "${tar_x[@]}") ax=$(med "${agent_x[@]}")
tcc=$(med "${tar_c_cpu[@]}") acc=$(med "${agent_c_cpu[@]}") txc=$(med "${tar_x_cpu[@]}") axc=$(med "${agent_x_cpu[@]}")
echo "Outpost backup benchmark ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(tar --version | head -1), $("$java" -version 2>&1 | head -1))"
printf '  tree: %d files, %d MB; medians of %d runs, wall ms [each] / CPU ms (user + sys, with tar and gzip)\n' "$files" "$((bytes / 1000000))" "$runs"
printf '  tar -czf            %7d [%s] / %d   archive %d MB\n' "$tc" "${tar_c[*]}" "$tcc" "$((tar_size[0] / 1000000))"
printf '  backup.create gzip  %7d [%s] / %d   archive %d MB   wall %s x tar (target <= 1.2), CPU %s x\n' "$ac" "${agent_c[*]}" \
    "$acc" "$((agent_size[0] / 1000000))" "$(ratio "$ac" "$tc")" "$(ratio "$acc" "$tcc")"
printf '  agent peak RSS growth during backup.create: %s MB (max of %d; target <= 32)   [KB: %s]\n' \
    "$(printf '%s\n' "${growth_c[@]}" | sort -n | tail -1 | awk '{printf "%.1f", $1 / 1024}')" "$runs" "${growth_c[*]}"
printf '  tar -xzpf           %7d [%s] / %d\n' "$tx" "${tar_x[*]}" "$txc"
printf '  backup.restore      %7d [%s] / %d   wall %s x tar, CPU %s x; peak RSS growth %s MB\n' "$ax" "${agent_x[*]}" "$axc" \
    "$(ratio "$ax" "$tx")" "$(ratio "$axc" "$txc")" \
    "$(printf '%s\n' "${growth_x[@]}" | sort -n | tail -1 | awk '{printf "%.1f", $1 / 1024}')"
