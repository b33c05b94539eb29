#!/usr/bin/env bash
# Installs the Outpost agent on this host (or into a directory tree with --root), or upgrades it in place.
#
#   install.sh                                   asks for the server URL and enrolment token, shows the plan, asks to go on
#   install.sh --server URL --token-file F -y    no questions (also --token T, or the environment:
#                                                OUTPOST_SERVER_URL, OUTPOST_ENROLLMENT_TOKEN, OUTPOST_SERVER_CA)
#   options: --ca FILE  --skip-deps  --no-start  --root DIR  -y|--yes  -h|--help
#
# It installs from a checkout after `mvn package` (dist/install.sh, bin/outpost, bndrun/target/outpost.jar) or
# from an unpacked distribution (install.sh beside bin/outpost, lib/outpost.jar and, optionally, jre/). Layout:
#   /opt/outpost/{bin/outpost,lib/outpost.jar,lib/outpost.classlist,lib/outpost-*.jsa,jre/,uninstall.sh,install-manifest}
#   /etc/outpost/config.json (0600), /etc/outpost/scripts.d (0700), /etc/outpost/server-ca.pem
#   /var/lib/outpost (0700), /var/log/outpost (0750), /etc/systemd/system/outpost.service
# A re-run upgrades the programs and keeps the config, the data dir (store, credentials, plugins installed at
# runtime) and the logs. install-manifest lists what this script made; uninstall.sh removes exactly that.
set -euo pipefail
umask 022

prog=install.sh
die() {
    echo "$prog: $1" >&2
    exit "${2:-2}"
}
say() { echo "$prog: $*"; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

server=${OUTPOST_SERVER_URL:-}
token=${OUTPOST_ENROLLMENT_TOKEN:-}
ca=${OUTPOST_SERVER_CA:-}
yes=false skip_deps=false no_start=false root=""
need_value() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
while [ $# -gt 0 ]; do
    case "$1" in
        --server) need_value "$@"; server=$2; shift 2 ;;
        --server=*) server=${1#*=}; need_value --server "$server"; shift ;;
        --token) need_value "$@"; token=$2; shift 2 ;;
        --token=*) token=${1#*=}; need_value --token "$token"; shift ;;
        --token-file) need_value "$@"; [ -r "$2" ] || die "--token-file: cannot read '$2'"; token=$(head -n 1 "$2"); shift 2 ;;
        --ca) need_value "$@"; ca=$2; shift 2 ;;
        --ca=*) ca=${1#*=}; need_value --ca "$ca"; shift ;;
        --root) need_value "$@"; root=$2; shift 2 ;;
        --root=*) root=${1#*=}; need_value --root "$root"; shift ;;
        -y | --yes) yes=true; shift ;;
        --skip-deps) skip_deps=true; shift ;;
        --no-start) no_start=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown option '$1' (see $prog --help)" ;;
    esac
done

# --- where from -------------------------------------------------------------------------------------------
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
if [ -f "$here/lib/outpost.jar" ] && [ -f "$here/bin/outpost" ]; then
    src_jar=$here/lib/outpost.jar src_bin=$here/bin/outpost src_unit=$here/outpost.service
    src_classlist=$here/lib/outpost.classlist
    src_uninstall=$here/uninstall.sh src_readme=$here/README.md src_jre=$here/jre
    src_config=$here/config.json src_ca=$here/server-ca.pem
elif [ -f "$here/../bndrun/target/outpost.jar" ]; then
    src_jar=$here/../bndrun/target/outpost.jar src_bin=$here/../bin/outpost src_unit=$here/outpost.service
    src_classlist=$here/outpost.classlist
    src_uninstall=$here/uninstall.sh src_readme=$here/../README.md src_jre=""
    src_config="" src_ca=""
elif [ -f "$here/../bndrun/pom.xml" ]; then
    die "no agent jar at $here/../bndrun/target/outpost.jar: build it first (mvn -B -DskipTests package)"
else
    die "cannot find the agent beside $0 (lib/outpost.jar of a distribution, or a built checkout)"
fi
for f in "$src_bin" "$src_unit" "$src_uninstall" "$src_classlist"; do [ -f "$f" ] || die "missing $f"; done
# A distribution made by outpost-packager brings its default config (config.json: server_url on its second line, then
# server_ca, then the rest) and the server's CA: they stand unless --server or --ca say otherwise.
if [ -n "$src_config" ] && [ -f "$src_config" ]; then
    [ -n "$server" ] || server=$(sed -n 's/^  "server_url": "\(.*\)",$/\1/p' "$src_config")
    if [ -z "$ca" ] && [ -f "$src_ca" ]; then ca=$src_ca; fi
else
    src_config=""
fi

# --- where to ---------------------------------------------------------------------------------------------
if [ -n "$root" ]; then
    case "$root" in /*) ;; *) root=$PWD/$root ;; esac
    [ -d "$root" ] || die "--root: '$root' is not a directory"
    root=$(cd "$root" && pwd)
    [ "$root" != / ] || root=""
fi
[ "$(id -u)" -eq 0 ] || die "must run as root (files are owned by root; the agent runs as root)"
if [ -n "$root" ] && ! $skip_deps; then
    die "--root installs into a directory tree: packages cannot be installed there; add --skip-deps"
fi
opt=/opt/outpost etc=/etc/outpost var=/var/lib/outpost log=/var/log/outpost
unit=/etc/systemd/system/outpost.service
manifest=$opt/install-manifest
config=$etc/config.json
upgrade=false
[ -f "$root$manifest" ] && upgrade=true
have_config=false
[ -f "$root$config" ] && have_config=true

# --- questions ----------------------------------------------------------------------------------------------
ask() { # ask VAR "question" [hidden]
    local answer
    printf '%s' "$2" >&2
    if [ "${3:-}" = hidden ] && [ -t 0 ]; then
        IFS= read -r -s answer || die "no answer to '$2' (standard input closed); for no questions use -y with --server and --token-file"
        echo >&2
    else
        IFS= read -r answer || die "no answer to '$2' (standard input closed); for no questions use -y with --server and --token-file"
        [ -t 0 ] || echo >&2
    fi
    printf -v "$1" '%s' "$answer"
}
if ! $yes && ! $have_config; then
    [ -n "$server" ] || ask server "Server URL (https://host:port): "
    [ -n "$token" ] || ask token "Enrolment token (not shown): " hidden
    [ -n "$ca" ] || ask ca "CA file of the server's certificate (empty: the system's trusted CAs): "
fi

# Values written into JSON: refused rather than escaped when they hold what no URL, token or path needs.
check_text() { # check_text NAME VALUE
    case "$2" in
        *[[:cntrl:]]* | *'"'* | *\\*) die "$1 must not contain quotes, backslashes or control characters" ;;
    esac
}
if ! $have_config; then
    [ -n "$server" ] || die "a server URL is needed for a new install: --server URL (or OUTPOST_SERVER_URL)"
    [ -n "$token" ] || die "an enrolment token is needed for a new install: --token-file F, --token T (or OUTPOST_ENROLLMENT_TOKEN)"
    url_re='^https://[][A-Za-z0-9.:-]+(/[^[:space:]]*)?$'
    [[ "$server" =~ $url_re ]] || die "--server must be a URL like https://host:port, got '$server'"
    check_text --server "$server"
    check_text "the enrolment token" "$token"
fi
if [ -n "$ca" ]; then
    if [ ! -f "$ca" ] || [ ! -r "$ca" ]; then die "--ca: cannot read '$ca'"; fi
    grep -q -- '-----BEGIN CERTIFICATE-----' "$ca" || die "--ca: '$ca' holds no PEM certificate"
fi

# --- the plan -------------------------------------------------------------------------------------------------
where=${root:-/}
systemd_running=false
[ -z "$root" ] && [ -d /run/systemd/system ] && systemd_running=true
{
    echo "Outpost will be $($upgrade && echo upgraded || echo installed) in $where:"
    echo "  programs   $opt (bin/outpost, lib/outpost.jar$([ -n "$src_jre" ] && [ -d "$src_jre" ] && echo ", jre/"))"
    if $have_config; then
        echo "  config     $config is kept as it is"
        [ -z "$server$token" ] || echo "             (the server URL and token given are not applied: edit the file to change them)"
    else
        echo "  config     $config (0600): server $server, enrolment token given ($(printf %s "$token" | wc -c) characters)"
        [ -z "$ca" ] || echo "             server CA $etc/server-ca.pem (from $ca)"
    fi
    echo "  data       $var (0700) and logs $log$($upgrade && echo ": kept")"
    start_plan=" and (re)started"
    $systemd_running || start_plan=""
    ! $no_start || start_plan=", not started"
    echo "  unit       $unit, enabled$start_plan"
    $skip_deps || echo "  packages   a Java 17+ runtime and the disk tools, with the host's package manager"
} >&2
if ! $yes; then
    go=""
    ask go "Go on? [y/N] "
    case "$go" in y | Y | yes | YES) ;; *) die "nothing was changed" 1 ;; esac
fi

# --- packages -------------------------------------------------------------------------------------------------
java_ok() { # java_ok JAVA: a runtime of version 17 or later
    local v
    v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    [ -n "$v" ] && [ "${v%%.*}" -ge 17 ] 2>/dev/null
}
if ! $skip_deps; then
    if command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        pkgs=(util-linux parted gdisk cloud-guest-utils e2fsprogs xfsprogs)
        if ! command -v java >/dev/null || ! java_ok java; then
            for j in openjdk-17-jre-headless openjdk-21-jre-headless default-jre-headless; do
                if apt-cache policy "$j" 2>/dev/null | grep -q 'Candidate: [0-9]'; then pkgs+=("$j"); break; fi
            done
        fi
        apt-get install -y -qq "${pkgs[@]}" >/dev/null
    elif command -v dnf >/dev/null || command -v yum >/dev/null; then
        pm=$(command -v dnf || command -v yum)
        "$pm" install -y -q java-17-openjdk-headless util-linux parted gdisk cloud-utils-growpart e2fsprogs xfsprogs
    elif command -v zypper >/dev/null; then
        zypper --non-interactive --quiet install java-17-openjdk-headless util-linux parted gptfdisk growpart e2fsprogs xfsprogs
    else
        die "no apt-get, dnf, yum or zypper: install Java 17+ and the disk tools yourself, then run again with --skip-deps"
    fi
fi

# --- files ----------------------------------------------------------------------------------------------------
# Every path this run makes is appended to the new manifest as "CLASS KIND PATH" (paths as on the target host).
# Classes: prog (removed by uninstall), conf and data (kept by --keep-data), logs (kept by --keep-logs).
new_manifest=$(mktemp)
trap 'rm -f "$new_manifest"' EXIT
record() { printf '%s %s %s\n' "$1" "$2" "$3" >>"$new_manifest"; }
old_entry() { [ -f "$root$manifest" ] && grep -qxF -- "$1 $2 $3" "$root$manifest"; }

make_parent() { # make_parent CLASS PATH: a system directory, made 0755 if missing, never changed if it exists
    if [ ! -d "$root$2" ]; then
        mkdir -m 0755 "$root$2"
        record "$1" dir "$2"
    elif old_entry "$1" dir "$2"; then
        record "$1" dir "$2"
    fi
}
make_dir() { # make_dir CLASS PATH MODE: one of Outpost's own directories, with its mode and owner set
    make_parent "$1" "$2"
    chmod "$3" "$root$2"
    chown root:root "$root$2"
}
put_file() { # put_file CLASS SRC PATH MODE: replaced by rename, so a running agent keeps the file it opened
    local tmp
    tmp=$(mktemp "$root$3.XXXXXX")
    cat "$2" >"$tmp"
    chmod "$4" "$tmp"
    chown root:root "$tmp"
    mv -f "$tmp" "$root$3"
    record "$1" file "$3"
}

make_parent prog /opt
make_dir prog "$opt" 0755
make_dir prog "$opt/bin" 0755
make_dir prog "$opt/lib" 0755
put_file prog "$src_bin" "$opt/bin/outpost" 0755
put_file prog "$src_jar" "$opt/lib/outpost.jar" 0644
put_file prog "$src_classlist" "$opt/lib/outpost.classlist" 0644
put_file prog "$src_uninstall" "$opt/uninstall.sh" 0755
[ ! -f "$src_readme" ] || put_file prog "$src_readme" "$opt/README.md" 0644
if [ -n "$src_jre" ] && [ -d "$src_jre" ]; then
    rm -rf "$root$opt/jre.new"
    cp -a "$src_jre" "$root$opt/jre.new"
    chown -R root:root "$root$opt/jre.new"
    rm -rf "$root$opt/jre"
    mv "$root$opt/jre.new" "$root$opt/jre"
    record prog tree "$opt/jre"
fi

make_parent conf /etc
make_dir conf "$etc" 0700
make_dir conf "$etc/scripts.d" 0700
if [ -n "$ca" ] && ! $have_config; then
    put_file conf "$ca" "$etc/server-ca.pem" 0644
elif old_entry conf file "$etc/server-ca.pem"; then
    record conf file "$etc/server-ca.pem"
fi
if ! $have_config; then
    body=$(mktemp)
    {
        printf '{\n  "server_url": "%s",\n' "$server"
        [ -z "$ca" ] || printf '  "server_ca": "%s",\n' "$etc/server-ca.pem"
        if [ -n "$src_config" ]; then
            # then the rest of the distribution's default config, which always holds more keys (transport, ...)
            printf '  "enrollment_token": "%s",\n' "$token"
            sed -e '1d' -e '/^  "server_url": /d' -e '/^  "server_ca": /d' -e '/^  "enrollment_token": /d' "$src_config"
        else
            printf '  "enrollment_token": "%s"\n}\n' "$token"
        fi
    } >"$body"
    put_file conf "$body" "$config" 0600
    rm -f "$body"
elif old_entry conf file "$config"; then
    record conf file "$config"
fi

make_parent data /var
make_parent data /var/lib
make_dir data "$var" 0700
make_parent logs /var/log
make_dir logs "$log" 0750

make_parent prog /etc/systemd
make_parent prog /etc/systemd/system
put_file prog "$src_unit" "$unit" 0644
wants=/etc/systemd/system/multi-user.target.wants
if ! $systemd_running; then
    # what `systemctl enable` makes, made by hand: there is no systemd to ask in a tree or a container
    make_parent prog "$wants"
    ln -sfn "$unit" "$root$wants/outpost.service"
    record prog link "$wants/outpost.service"
fi

# programs of an earlier version that this one no longer ships
if [ -f "$root$manifest" ]; then
    while read -r class kind path; do
        if [ "$class" != prog ] || [ "$kind" = dir ]; then continue; fi
        case "$path" in "$opt"/* | /etc/systemd/system/*) ;; *) continue ;; esac
        grep -qxF -- "$class $kind $path" "$new_manifest" && continue
        rm -rf -- "$root$path"
    done <"$root$manifest"
fi

# The class-data archives (a static one from lib/outpost.classlist, a dynamic one on top) and the launcher's answer
# about native heap trimming, written now so the first start maps them instead of writing them and asks the JVM
# nothing. The JVM takes an archive only for the jar path it was made with, so in a tree (--root) they are made with
# the tree's /opt/outpost mounted at /opt/outpost in a private mount namespace; they serve on the target if the
# target runs the same Java.
cds_log=$(mktemp)
cds_ok=true
# A private runtime from outpost-packager comes without the JDK's base class-data archive (JDK 17 does not write one
# reproducibly): the JVM cannot write or map the agent's archive without it, so it is written first.
if [ -x "$root$opt/jre/bin/java" ] && [ ! -s "$root$opt/jre/lib/server/classes.jsa" ]; then
    "$root$opt/jre/bin/java" -Xshare:dump >"$cds_log" 2>&1 \
        || die "cannot write the private runtime's class-data archive: $(tail -n 3 "$cds_log")" 1
fi
if [ -z "$root" ]; then
    "$opt/bin/outpost" cds >"$cds_log" 2>&1 || cds_ok=false
else
    # shellcheck disable=SC2016 # $1 is the inner shell's argument, not this script's
    unshare --mount --propagation private sh -c \
        'mount -t tmpfs -o mode=0755 outpost-cds /opt && mkdir /opt/outpost && mount --bind "$1" /opt/outpost && exec /opt/outpost/bin/outpost cds' \
        sh "$root$opt" >"$cds_log" 2>&1 || cds_ok=false
fi
if $cds_ok; then
    for a in "$root$opt"/lib/outpost-*.jsa "$root$opt"/lib/outpost-jvm-*.trim; do
        [ -e "$a" ] || continue
        chmod 0644 "$a"
        record prog file "$opt/lib/${a##*/}"
    done
else
    echo "$prog: warning: no class-data archive (the first start writes one): $(tail -n 3 "$cds_log")" >&2
fi
rm -f "$cds_log"

record prog file "$manifest"
sort -u -o "$new_manifest" "$new_manifest"
put_file prog "$new_manifest" "$manifest" 0644

# --- the service ----------------------------------------------------------------------------------------------
if $systemd_running; then
    systemctl daemon-reload
    systemctl enable --quiet outpost.service
    if ! $no_start; then
        # Type=notify: this returns once the agent is ready, or fails with its reason in the journal
        if ! systemctl restart outpost.service; then
            journalctl -u outpost.service -n 20 --no-pager >&2 || true
            die "the agent did not start: systemctl status outpost" 1
        fi
        say "outpost.service is $(systemctl is-active outpost.service)"
    fi
elif [ -z "$root" ] && ! $no_start; then
    say "systemd is not running here: start the agent with $opt/bin/outpost run"
fi
say "Outpost $($upgrade && echo upgraded || echo installed) in $where"
