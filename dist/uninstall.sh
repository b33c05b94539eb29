#!/usr/bin/env bash
# Removes the Outpost agent that install.sh installed: stops and disables the unit first, then removes exactly
# what /opt/outpost/install-manifest lists, and nothing else.
#
#   uninstall.sh [--keep-data] [--keep-logs] [--force] [--root DIR]
#     --keep-data   keep /var/lib/outpost (store, credentials, plugins) and /etc/outpost (config, scripts)
#     --keep-logs   keep /var/log/outpost
#     --force       no question
#     --root DIR    the tree install.sh --root DIR installed into
set -euo pipefail

prog=uninstall.sh
die() {
    echo "$prog: $1" >&2
    exit "${2:-2}"
}

keep_data=false keep_logs=false force=false root=""
while [ $# -gt 0 ]; do
    case "$1" in
        --keep-data) keep_data=true; shift ;;
        --keep-logs) keep_logs=true; shift ;;
        --force) force=true; shift ;;
        --root)
            if [ $# -lt 2 ] || [ -z "$2" ]; then die "--root needs a value"; fi
            root=$2
            shift 2
            ;;
        --root=*) root=${1#*=}; [ -n "$root" ] || die "--root needs a value"; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (see $prog --help)" ;;
    esac
done
if [ -n "$root" ]; then
    case "$root" in /*) ;; *) root=$PWD/$root ;; esac
    [ -d "$root" ] || die "--root: '$root' is not a directory"
    root=$(cd "$root" && pwd)
    [ "$root" != / ] || root=""
fi
[ "$(id -u)" -eq 0 ] || die "must run as root"

manifest=/opt/outpost/install-manifest
[ -f "$root$manifest" ] || die "Outpost is not installed in ${root:-/}: no $manifest" 1
# every path the manifest names must be one of the places install.sh writes: a damaged or foreign manifest
# must not make this script remove anything else
while read -r class kind path; do
    case "$class:$kind" in prog:* | conf:* | data:* | logs:*) ;; *) die "$manifest: bad entry '$class $kind $path'" ;; esac
    case "$path" in
        /opt | /opt/outpost | /opt/outpost/* | /etc | /etc/outpost | /etc/outpost/* | /var | /var/lib | /var/lib/outpost \
        | /var/log | /var/log/outpost | /etc/systemd | /etc/systemd/system | /etc/systemd/system/outpost.service \
        | /etc/systemd/system/multi-user.target.wants | /etc/systemd/system/multi-user.target.wants/outpost.service) ;;
        *) die "$manifest: '$path' is not a path install.sh makes" ;;
    esac
    case "$path" in *..*) die "$manifest: bad path '$path'" ;; esac
done <"$root$manifest"

if ! $force; then
    {
        echo "Outpost will be removed from ${root:-/}: /opt/outpost and the unit"
        $keep_data && echo "  kept: /var/lib/outpost (data, credentials, plugins) and /etc/outpost (config)" \
            || echo "  also removed: /var/lib/outpost (data, credentials, plugins) and what install.sh put in /etc/outpost"
        $keep_logs && echo "  kept: /var/log/outpost" || echo "  also removed: /var/log/outpost"
        printf 'Go on? [y/N] '
    } >&2
    IFS= read -r answer || answer=""
    [ -t 0 ] || echo >&2
    case "$answer" in y | Y | yes | YES) ;; *) die "nothing was changed" 1 ;; esac
fi

# the manifest is itself among the files removed
list=$(mktemp)
trap 'rm -f "$list"' EXIT
cp "$root$manifest" "$list"

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
    # stopped before anything it runs from is removed
    systemctl disable --now --quiet outpost.service 2>/dev/null || true
fi

kept() {
    case "$1" in
        conf | data) $keep_data ;;
        logs) $keep_logs ;;
        *) false ;;
    esac
}
# files, links and trees first; then directories, deepest first, and only when empty (the operator's own files,
# such as scripts in /etc/outpost/scripts.d, stay, and so do the directories that hold them)
while read -r class kind path; do
    kept "$class" && continue
    case "$kind" in
        file | link) rm -f -- "$root$path" ;;
        tree) rm -rf -- "$root$path" ;;
    esac
done <"$list"
for d in /var/lib/outpost /var/log/outpost; do
    class=data
    [ "$d" = /var/log/outpost ] && class=logs
    kept "$class" && continue
    # the agent's own files (store, framework storage, credentials, rotated logs): made by what install.sh made
    grep -qxF -- "$class dir $d" "$list" && rm -rf -- "${root}${d:?}"
done
leftovers=()
while read -r class kind path; do
    [ "$kind" = dir ] || continue
    kept "$class" && continue
    [ -d "$root$path" ] || continue
    rmdir -- "$root$path" 2>/dev/null || leftovers+=("$path")
done < <(sort -r -k3 "$list")

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
for d in "${leftovers[@]}"; do
    case "$d" in /opt | /etc | /var | /var/lib | /var/log | /etc/systemd | /etc/systemd/system) continue ;; esac
    echo "$prog: kept $d: it holds files install.sh did not make" >&2
done
echo "$prog: Outpost removed from ${root:-/}$($keep_data && echo ", data and config kept")$($keep_logs && echo ", logs kept")"
