#!/usr/bin/env bash
# Boots systemd as PID 1 of private PID, mount, UTS, IPC, network and cgroup namespaces, on a copy-on-write view
# of this machine's root (an overlay whose writes go to a tmpfs), so a test can install and run a unit for real
# on a machine where no systemd runs, and leave the host as it was. Test infrastructure: SystemdUnitIT.
#
#   systemd-in-namespace.sh STATE_DIR [DIR...]
# STATE_DIR receives console.log (systemd's console). Each DIR is bound into the new root at its own path (the
# checkout, the test's directory). Runs until systemd powers off or its PID 1 is killed; then removes the cgroups
# it made. Enter it with: nsenter -t PID1 -m -u -i -n -p -C -r -w CMD (PID1: the grandchild of this script).
set -euo pipefail

if [ "${1:-}" != --inner ]; then
    state=$1
    mkdir -p "$state"
    # A cgroup of its own in every hierarchy, below where this process is: the namespace's systemd builds its
    # tree there (not at the top of the host's hierarchies, where another run would meet it), and it all goes at
    # the end. cpuset is left alone (a new cpuset group needs its cpus and mems set before it takes a process).
    name=outpost-systemd-test.$$
    made=()
    # read whole first: the file changes as this process moves, and a loop reading it would see lines twice
    own_cgroups=$(cat /proc/self/cgroup)
    while IFS=: read -r id controllers path; do
        [[ ",$controllers," == *,cpuset,* ]] && continue
        mnt=""
        if [ "$id" = 0 ]; then
            mnt=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
        else
            while read -r target options; do
                ok=true
                IFS=, read -ra want <<<"$controllers"
                for c in "${want[@]}"; do [[ ",$options," == *,"$c",* ]] || ok=false; done
                if $ok; then mnt=$target; break; fi
            done < <(findmnt -n -t cgroup -o TARGET,OPTIONS)
        fi
        if [ -z "$mnt" ] || [ ! -d "$mnt$path" ]; then continue; fi
        dir=${mnt}${path%/}/$name
        mkdir -p "$dir"
        echo $$ >"$dir/cgroup.procs"
        made+=("$dir")
    done <<<"$own_cgroups"
    status=0
    unshare --mount --pid --fork --uts --ipc --net --cgroup --propagation private "$0" --inner "$@" || status=$?
    # back to where this process was, then the groups go: anything left in them first
    for dir in "${made[@]}"; do
        echo $$ >"$(dirname "$dir")/cgroup.procs" 2>/dev/null || true
        while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
        find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
    exit "$status"
fi

shift
state=$1
shift
scratch=$state/ns
mkdir -p "$scratch"
mount -t tmpfs -o mode=0755 outpost-test "$scratch"
mkdir -p "$scratch/upper" "$scratch/work" "$scratch/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$scratch/root"
r=$scratch/root

mount --rbind /dev "$r/dev"
# systemd writes its console here, not to the host's console
: >"$state/console.log"
mount --bind "$state/console.log" "$r/dev/console"
mount -t proc proc "$r/proc"
# kernel settings are the host's: read-only, as in any container (systemd-sysctl and binfmt then skip themselves)
mount --bind "$r/proc/sys" "$r/proc/sys"
mount -o remount,bind,ro "$r/proc/sys"
if [ -e "$r/proc/sysrq-trigger" ]; then
    mount --bind "$r/proc/sysrq-trigger" "$r/proc/sysrq-trigger"
    mount -o remount,bind,ro "$r/proc/sysrq-trigger"
fi
mount -t sysfs -o ro sysfs "$r/sys"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
for d in "$@"; do
    mkdir -p "$r$d"
    mount --rbind "$d" "$r$d"
done

# No fstab entries, and none of the units that act on the host's kernel, clock, consoles or disks.
: >"$r/etc/fstab"
mkdir -p "$r/etc/systemd/system"
for u in systemd-timesyncd.service systemd-pstore.service systemd-modules-load.service systemd-sysctl.service \
    systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-repart.service systemd-firstboot.service \
    systemd-random-seed.service getty.target console-getty.service serial-getty@.service getty@.service \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer man-db.timer \
    systemd-tmpfiles-clean.timer e2scrub_reap.service postgresql.service; do
    ln -sfn /dev/null "$r/etc/systemd/system/$u"
done
cat >"$r/etc/systemd/system/outpost-test.target" <<'EOF'
[Unit]
Description=The basic system, for Outpost's unit tests
Requires=basic.target
After=basic.target
AllowIsolate=yes
EOF

mkdir -p "$r/.oldroot"
cd "$r"
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
cd /
export container=outpost-test
exec /lib/systemd/systemd --system --unit=outpost-test.target --log-target=console --show-status=no </dev/null
