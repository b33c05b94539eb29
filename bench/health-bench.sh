#!/usr/bin/env bash
# plugin.health benchmark:
#  1. the CPU time of one health.report snapshot, as the agent measures it (data.cost.cpuMs: the reading's own CPU
#     time, without the CPU-sampling wait), cold (the first in a fresh JVM) and warm (the median of the rest, what
#     a long-running agent pays every interval); target < 20 ms;
#  2. a one-shot offline health.report (and health.inventory) beside fusioninventory-inventory on this host,
#     alternating, RUNS runs each: median wall time and peak RSS of the whole process, and the ratios
#     (targets: <= 0.8x its wall time, <= 0.9x its peak RSS);
#  3. with --idle SECONDS: the idle agent's CPU with health events every second against none, giving the CPU of
#     one periodic tick and so the cost of ticking every 60 s (target < 0.1 % of one core).
# Usage: bash bench/health-bench.sh [RUNS] [--idle SECONDS]   (RUNS default 5; build first: mvn -B -DskipTests package)
# Needs /usr/bin/time (package time) and fusioninventory-inventory (package fusioninventory-agent).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
idle=0
while [ $# -gt 0 ]; do
    case "$1" in
        --idle) idle=$2; shift 2 ;;
        *) runs=$1; shift ;;
    esac
done
[ -f bndrun/target/outpost.jar ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
command -v fusioninventory-inventory > /dev/null || { echo "needs fusioninventory-inventory (apt-get install fusioninventory-agent)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d /tmp/outpost-health-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
[ -n "${HEALTH_BENCH_KEEP:-}" ] && trap - EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
task() { # $1 file, $2 count, $3 action, $4 params, $5 a number making the ids unique across runs (default 0)
    local n
    { echo '{"commands": ['
      for n in $(seq 1 "$2"); do
          printf '{"id": "hb%06d-%04d-4000-8000-000000000000", "action": "%s", "params": %s}' "$n" "${5:-0}" "$3" "$4"
          [ "$n" -lt "$2" ] && echo ','
      done
      echo ']}'; } > "$1"
}

# 1. CPU of one snapshot, in the real runtime
task "$work/cost.json" 51 health.report '{"sampleMs": 0}'
bin/outpost offline --tasks "$work/cost.json" --report "$work/cost-report.json" --data-dir "$work/cost-data" 2> "$work/cost.log" \
    || { echo "the offline run failed:" >&2; tail -5 "$work/cost.log" >&2; exit 1; }
grep -o '"cpuMs": *[0-9.]*' "$work/cost-report.json" | awk -F: '{print $2}' > "$work/cpu.txt"
cold=$(head -1 "$work/cpu.txt" | tr -d ' ')
warm=$(tail -n +2 "$work/cpu.txt" | median)
maxwarm=$(tail -n +2 "$work/cpu.txt" | sort -n | tail -1)

# 2. one-shot runs, alternating. Like a cron job on a host, every run uses the same data dir: the launcher's
# class-data-sharing archive is written by the first run (not counted) and mapped by the others; each run's command
# has an id of its own, or the store would answer it without running it.
for i in $(seq 0 "$runs"); do
    task "$work/report-$i.json" 1 health.report '{}' "$i"
    task "$work/inventory-$i.json" 1 health.inventory '{}' "$((i + 1000))"
done
bin/outpost offline --tasks "$work/report-0.json" --report "$work/r-0.json" --data-dir "$work/oneshot" 2>> "$work/oneshot.log"
bin/outpost offline --tasks "$work/inventory-0.json" --report "$work/i-0.json" --data-dir "$work/oneshot" 2>> "$work/oneshot.log"
fi_wall=() fi_rss=() hr_wall=() hr_rss=() inv_wall=() inv_rss=()
one() { # $1 name of the arrays' prefix, then the command
    local out=$work/time.txt prefix=$1
    shift
    /usr/bin/time -o "$out" -f "%e %M" "$@" > /dev/null 2>> "$work/oneshot.log" || { echo "failed: $*" >&2; tail -5 "$work/oneshot.log" >&2; exit 1; }
    read -r w r < "$out"
    eval "${prefix}_wall+=($w)"
    eval "${prefix}_rss+=($r)"
}
for i in $(seq 1 "$runs"); do
    one fi fusioninventory-inventory
    one hr bin/outpost offline --tasks "$work/report-$i.json" --report "$work/r-$i.json" --data-dir "$work/oneshot"
    one inv bin/outpost offline --tasks "$work/inventory-$i.json" --report "$work/i-$i.json" --data-dir "$work/oneshot"
done
m() { printf '%s\n' "$@" | median; }
fiw=$(m "${fi_wall[@]}") fir=$(m "${fi_rss[@]}")
hrw=$(m "${hr_wall[@]}") hrr=$(m "${hr_rss[@]}")
invw=$(m "${inv_wall[@]}") invr=$(m "${inv_rss[@]}")

echo "plugin.health benchmark ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(java -version 2>&1 | head -1), launcher flags of bin/outpost)"
printf '  CPU of one health.report snapshot: %s ms cold (first in the JVM), %s ms warm (median of 50, max %s)   [target < 20 ms]\n' \
    "$cold" "$warm" "$maxwarm"
printf '  one-shot, median of %d, alternating:  wall s  peak RSS MB\n' "$runs"
printf '    fusioninventory-inventory           %6.2f  %6.1f   [%s] [%s]\n' "$fiw" "$(echo "$fir/1024" | bc -l)" "${fi_wall[*]}" "${fi_rss[*]}"
printf '    outpost offline health.report       %6.2f  %6.1f   [%s] [%s]\n' "$hrw" "$(echo "$hrr/1024" | bc -l)" "${hr_wall[*]}" "${hr_rss[*]}"
printf '    outpost offline health.inventory    %6.2f  %6.1f   [%s] [%s]\n' "$invw" "$(echo "$invr/1024" | bc -l)" "${inv_wall[*]}" "${inv_rss[*]}"
printf '  ratios to fusioninventory-inventory: health.report wall %.2fx, peak RSS %.2fx; health.inventory wall %.2fx, peak RSS %.2fx   [targets <= 0.8x, <= 0.9x]\n' \
    "$(echo "$hrw/$fiw" | bc -l)" "$(echo "$hrr/$fir" | bc -l)" "$(echo "$invw/$fiw" | bc -l)" "$(echo "$invr/$fir" | bc -l)"

# 3. the idle cost of periodic health events
if [ "$idle" -gt 0 ]; then
    ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
    hz=$(getconf CLK_TCK)
    idle_run() { # $1 interval_seconds; prints CPU ticks over $idle seconds after a settling pause
        local d=$work/idle-$1
        mkdir -p "$d"
        printf '{"server_url": "https://127.0.0.1:9", "health": {"interval_seconds": %d}}\n' "$1" > "$d/config.json"
        bin/outpost run --config "$d/config.json" --data-dir "$d/data" > /dev/null 2> "$d/log" &
        local pid=$!
        pids+=("$pid")
        for _ in $(seq 1 300); do grep -q " ready: " "$d/log" 2>/dev/null && break; sleep 0.1; done
        sleep 10
        local t0 t1
        t0=$(ticks "$pid")
        sleep "$idle"
        t1=$(ticks "$pid")
        kill "$pid"; wait "$pid" 2>/dev/null || true
        if [ "$1" -gt 0 ] && ! grep -q "health events every" "$d/log"; then
            echo "  idle: the health monitor did not start (the runtime offers no Events/AgentPaths/PluginSettings service yet):" \
                "no periodic cost to measure" >&2
        fi
        echo $((t1 - t0))
    }
    off=$(idle_run 0)
    on=$(idle_run 1)
    per_tick_ms=$(echo "($on - $off) * 1000 / $hz / $idle" | bc -l)
    printf '  idle over %d s: %d ticks without health events, %d with one every second: %.2f ms of CPU per tick,\n' "$idle" "$off" "$on" "$per_tick_ms"
    printf '    so every 60 s: %.4f %% of one core   [target < 0.1 %%]\n' "$(echo "$per_tick_ms / 60000 * 100" | bc -l)"
fi
