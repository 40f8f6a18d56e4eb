# shellcheck shell=bash
# ThrillSuite: the servers around the services on one machine (PostgreSQL 15, RabbitMQ 3.10,
# nginx), each in a private state directory on loopback ports, never the distribution's own
# system services. Sourced by build/up, build/down, build/test and build/lib/rabbitmq-node.
#
# Every function takes the state directory first; everything a function creates lives in it:
#   STATE/secrets.env            PG_PASSWORD, ADMIN_PASSWORD (mode 600, generated once)
#   STATE/pg/data, STATE/pg/run  PostgreSQL cluster and socket directory
#   STATE/rabbitmq/...           node config, mnesia, pid files; STATE/rabbitmq-home (cookie)
#   STATE/nginx/                 rendered nginx.conf, pid, logs, temp directories
#   STATE/logs/                  postgresql.log, rabbitmq/, <service>.log
#   STATE/pids/<service>.pid     processes started with ts_spawn
#
# Functions (public):
#   ensure_packages [EXTRA...]
#   ts_secrets_ensure STATE               ts_secret STATE KEY
#   pg_start STATE PORT                   pg_stop STATE          pg_is_running STATE
#   pg_connection_string STATE PORT [DATABASE]
#   rabbitmq_start STATE PORT DIST_PORT NAME [EPMD_PORT]
#   rabbitmq_stop STATE                   rabbitmq_is_running STATE
#   rabbitmq_ctl STATE ARGS...            (rabbitmqctl against the node of STATE)
#   nginx_render STATE KEY=VALUE...       nginx_start STATE      nginx_reload STATE
#   nginx_stop STATE                      nginx_is_running STATE
#   ts_spawn PIDFILE LOGFILE CMD...       ts_pid_alive PIDFILE [MATCH]
#   ts_stop_pid PIDFILE TIMEOUT_SECONDS [MATCH]  ts_stop_proc PID TIMEOUT_SECONDS [MATCH]
#   ts_stop_services STATE GRACE_SECONDS  ts_stop_all STATE
#   ts_wait_http URL TIMEOUT_SECONDS [PIDFILE]
#
# Functions print progress to stderr and return non-zero on failure (after printing why and,
# for a server that did not start, the tail of its log).

THRILLSUITE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN=/usr/lib/postgresql/15/bin
RABBITMQ_BIN=/usr/lib/rabbitmq/bin

# Profiles: the local run (build/up) and the test run (build/test) can coexist.
# shellcheck disable=SC2034 # used by the scripts that source this file
{
    RUN_STATE="$THRILLSUITE_ROOT/.local/run"
    RUN_PG_PORT=55432
    RUN_RABBITMQ_PORT=55672
    RUN_RABBITMQ_DIST_PORT=55682
    RUN_RABBITMQ_NAME="run"
    TEST_STATE="$THRILLSUITE_ROOT/.local/test"
    TEST_PG_PORT=56432
    TEST_RABBITMQ_PORT=56672
    TEST_RABBITMQ_DIST_PORT=56682
    TEST_RABBITMQ_NAME="test"
}

: "${THRILLSUITE_PG_START_TIMEOUT:=60}"
: "${THRILLSUITE_RABBITMQ_START_TIMEOUT:=120}"

# ------------------------------------------------------------------------------------ helpers

ts_note() { printf '==> %s\n' "$*" >&2; }
ts_fail() { printf 'error: %s\n' "$*" >&2; }

# ts_abs PATH: absolute path (the directory need not exist).
ts_abs() {
    case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

# ts_tail FILE [LINES]: the end of a log, indented, for error reports.
ts_tail() {
    local file=$1 lines=${2:-40}
    if [[ -r $file ]]; then
        printf -- '--- last %s lines of %s ---\n' "$lines" "$file" >&2
        tail -n "$lines" -- "$file" | sed 's/^/    /' >&2
    else
        printf -- '--- (no log at %s) ---\n' "$file" >&2
    fi
}

# ts_port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
ts_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ts_reserve_ports PORT...: keeps the kernel from giving these ports to outgoing connections. They lie in Linux's
# ephemeral range (32768-60999), and a client socket parked on one makes a server's start fail (RabbitMQ's
# dist_port_already_used). Needs root; best effort.
ts_reserve_ports() {
    local file=/proc/sys/net/ipv4/ip_local_reserved_ports current
    [[ -w $file ]] || return 0
    current=$(<"$file")
    (IFS=, && printf '%s\n' "${current:+$current,}$*" >"$file") 2>/dev/null || true
}

# ts_random LENGTH: letters and digits only (safe in connection strings, URLs and env files).
ts_random() {
    local length=$1 raw=""
    while ((${#raw} < length)); do
        if command -v openssl >/dev/null 2>&1; then
            raw+=$(openssl rand -base64 64 | tr -dc 'A-Za-z0-9')
        else
            raw+=$(head -c 64 /dev/urandom | base64 -w 0 | tr -dc 'A-Za-z0-9')
        fi
    done
    printf '%s\n' "${raw:0:length}"
}

# ts_secrets_ensure STATE: STATE/secrets.env holds PG_PASSWORD, ADMIN_PASSWORD, WALLET_SECRET
# (the reference wallet's HMAC key), WALLET_ADMIN_TOKEN (its /sim controls) and
# SIGNING_KEY_ENCRYPTION_KEY (Thrill-ID's key encryption key), WEBHOOK_ENCRYPTION_KEY (ThrillPots'
# webhook secrets), WALLETS_ENCRYPTION_KEY (ThrillGate's wallet secrets), DISPATCHERS_ENCRYPTION_KEY
# (BitBridge's dispatcher secrets), generated once and kept for the life of the state directory.
ts_secrets_ensure() {
    local state file
    state=$(ts_abs "$1")
    file="$state/secrets.env"
    mkdir -p "$state"
    (umask 077 && touch "$file")
    chmod 600 "$file"
    if ! grep -q '^PG_PASSWORD=' "$file"; then
        printf 'PG_PASSWORD=%s\n' "$(ts_random 32)" >>"$file"
    fi
    if ! grep -q '^ADMIN_PASSWORD=' "$file"; then
        # Upper, lower, digit and symbol present whatever the random part holds, so any
        # password policy of Thrill-ID accepts it.
        printf 'ADMIN_PASSWORD=Ts-%s-9\n' "$(ts_random 20)" >>"$file"
    fi
    local key
    for key in WALLET_SECRET WALLET_ADMIN_TOKEN; do
        grep -q "^$key=" "$file" || printf '%s=%s\n' "$key" "$(ts_random 40)" >>"$file"
    done
    # Thrill-ID encrypts its signing keys at rest with this, ThrillPots its operators' webhook secrets,
    # ThrillGate its wallets' HMAC secrets, BitBridge its dispatchers' secrets (base64 of 32 random bytes each).
    for key in SIGNING_KEY_ENCRYPTION_KEY WEBHOOK_ENCRYPTION_KEY WALLETS_ENCRYPTION_KEY DISPATCHERS_ENCRYPTION_KEY; do
        grep -q "^$key=" "$file" || printf '%s=%s\n' "$key" "$(head -c 32 /dev/urandom | base64 -w 0)" >>"$file"
    done
}

# ts_secret STATE KEY: the value of KEY in STATE/secrets.env (read, never sourced).
ts_secret() {
    local file value
    file="$(ts_abs "$1")/secrets.env"
    value=$(sed -n "s/^$2=//p" "$file" 2>/dev/null | tail -n 1)
    if [[ -z $value ]]; then
        ts_fail "no $2 in $file"
        return 1
    fi
    printf '%s\n' "$value"
}

# ------------------------------------------------------------------------------------ processes

# ts_pid_read PIDFILE: the pid in the file, if it holds one.
ts_pid_read() {
    local pid
    [[ -r $1 ]] || return 1
    pid=$(head -n 1 -- "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    printf '%s\n' "$pid"
}

# ts_proc_alive PID [MATCH]: the process exists, is not a zombie and, when MATCH is given, its
# command line contains MATCH (case-insensitive), so a stale pid file never names a stranger.
ts_proc_alive() {
    local pid=$1 match=${2:-} stat cmdline
    kill -0 "$pid" 2>/dev/null || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]] || return 1
    if [[ -n $match ]]; then
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
        [[ ${cmdline,,} == *"${match,,}"* ]] || return 1
    fi
}

# ts_pid_alive PIDFILE [MATCH]
ts_pid_alive() {
    local pid
    pid=$(ts_pid_read "$1") || return 1
    ts_proc_alive "$pid" "${2:-}"
}

# ts_spawn PIDFILE LOGFILE CMD...: start CMD in its own session (a Ctrl-C in the terminal does
# not reach it; build/down stops it), stdin from /dev/null, output appended to LOGFILE, and its
# pid written to PIDFILE by the process itself before it execs CMD.
ts_spawn() {
    local pidfile=$1 logfile=$2 i
    shift 2
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
    rm -f -- "$pidfile"
    # shellcheck disable=SC2016 # expanded by the inner shell
    setsid bash -c 'printf "%s\n" "$$" >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' \
        "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
    # Not a job of the calling shell: no "Killed"/"Aborted" notices when it ends.
    disown "$!" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.05
    done
    ts_fail "process did not start: $*"
    return 1
}

# ts_stop_proc PID TIMEOUT_SECONDS [MATCH]: SIGTERM, wait up to TIMEOUT, then SIGKILL; nothing
# when PID is gone or no longer matches MATCH.
ts_stop_proc() {
    local pid=$1 timeout=$2 match=${3:-} deadline
    ts_proc_alive "$pid" "$match" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + timeout))
    while ts_proc_alive "$pid" "$match" && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if ts_proc_alive "$pid" "$match"; then
        ts_note "pid $pid ignored SIGTERM for ${timeout}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
}

# ts_stop_pid PIDFILE TIMEOUT_SECONDS [MATCH]: ts_stop_proc on the pid in PIDFILE, which is then
# removed. Only that pid is signalled, and only if it still matches MATCH.
ts_stop_pid() {
    local pidfile=$1 timeout=$2 match=${3:-} pid
    if pid=$(ts_pid_read "$pidfile"); then
        ts_stop_proc "$pid" "$timeout" "$match"
    fi
    rm -f -- "$pidfile"
}

# ts_wait_http URL TIMEOUT_SECONDS [PIDFILE]: wait for a 2xx answer; give up early when the
# process of PIDFILE has exited.
ts_wait_http() {
    local url=$1 timeout=$2 pidfile=${3:-} deadline
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
            return 0
        fi
        if [[ -n $pidfile ]] && ! ts_pid_alive "$pidfile"; then
            ts_fail "process of $pidfile exited while waiting for $url"
            return 1
        fi
        sleep 0.5
    done
    ts_fail "no answer from $url within ${timeout}s"
    return 1
}

# ts_stop_services STATE GRACE_SECONDS: every process with a pid file in STATE/pids: SIGTERM to
# all at once, wait up to GRACE+5 s for them to finish their graceful shutdown, then SIGKILL.
ts_stop_services() {
    local state=$1 grace=$2 pidfile name pid deadline any
    local -a live=()
    state=$(ts_abs "$state")
    shopt -s nullglob
    for pidfile in "$state"/pids/*.pid; do
        name=$(basename "$pidfile" .pid)
        if pid=$(ts_pid_read "$pidfile") && ts_proc_alive "$pid" "$name"; then
            ts_note "stopping $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            live+=("$pidfile")
        else
            rm -f -- "$pidfile"
        fi
    done
    shopt -u nullglob
    ((${#live[@]} > 0)) || return 0
    deadline=$((SECONDS + grace + 5))
    while ((SECONDS < deadline)); do
        any=0
        for pidfile in "${live[@]}"; do
            ts_pid_alive "$pidfile" "$(basename "$pidfile" .pid)" && any=1
        done
        ((any)) || break
        sleep 0.2
    done
    for pidfile in "${live[@]}"; do
        ts_stop_pid "$pidfile" 0 "$(basename "$pidfile" .pid)"
    done
}

# ts_stop_all STATE: services, nginx, RabbitMQ, PostgreSQL of STATE; safe when nothing runs.
ts_stop_all() {
    local state rc=0
    state=$(ts_abs "$1")
    [[ -d $state ]] || return 0
    ts_stop_services "$state" "${THRILLSUITE_SHUTDOWN_GRACE_SECONDS:-20}" || rc=1
    nginx_stop "$state" || rc=1
    rabbitmq_stop "$state" || rc=1
    pg_stop "$state" || rc=1
    return "$rc"
}

# ------------------------------------------------------------------------------------ packages

_apt_install() {
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q \
        -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
        -o Dpkg::Options::=--force-confold "$@"
}

# ensure_packages [EXTRA...]: install the Debian packages the servers and the interop tests need (and
# EXTRA ones), without letting the packages start their own system services. apt-get update runs only
# when a missing package has no install candidate in the current lists.
ensure_packages() {
    local -a wanted=(postgresql-15 rabbitmq-server nginx python3-grpcio python3-protobuf protobuf-compiler "$@")
    local -a missing=() present=()
    local pkg version candidate need_update=0 made_policy=0 log rc=0
    for pkg in "${wanted[@]}"; do
        version=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)
        if [[ $version == "install ok installed "* ]]; then
            present+=("$pkg ${version##* }")
        else
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} == 0)); then
        ts_note "packages present: $(printf '%s, ' "${present[@]}" | sed 's/, $//')"
        return 0
    fi
    if [[ $(id -u) != 0 ]]; then
        ts_fail "missing packages (${missing[*]}); run as root or install them: apt-get install ${missing[*]}"
        return 1
    fi
    log=$(mktemp -t thrillsuite-apt.XXXXXX)
    for pkg in "${missing[@]}"; do
        candidate=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
        [[ -n $candidate && $candidate != "(none)" ]] || need_update=1
    done
    if ((need_update)); then
        apt-get update -qq >>"$log" 2>&1 || rc=$?
    fi
    # Maintainer scripts start services through invoke-rc.d, which obeys policy-rc.d (exit 101 =
    # "not allowed"). With no systemd (/run/systemd/system absent) this is the only switch.
    if ((rc == 0)) && [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\n# thrillsuite ensure_packages: no service starts during install\nexit 101\n' \
            >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    if ((rc == 0)); then
        _apt_install "${missing[@]}" >>"$log" 2>&1 || rc=$?
        # Stale package lists name versions the mirror no longer has: refresh once and retry.
        if ((rc != 0 && need_update == 0)); then
            rc=0
            apt-get update -qq >>"$log" 2>&1 || rc=$?
            ((rc != 0)) || _apt_install "${missing[@]}" >>"$log" 2>&1 || rc=$?
        fi
    fi
    if ((made_policy)); then
        rm -f /usr/sbin/policy-rc.d
    fi
    if ((rc != 0)); then
        ts_fail "apt-get failed installing ${missing[*]}"
        ts_tail "$log" 30
        rm -f -- "$log"
        return 1
    fi
    rm -f -- "$log"
    # Belt and braces: if a package's own service got started anyway (a systemd machine, say),
    # stop it through its init script; the suite runs its own instances on other ports.
    for pkg in "${missing[@]}"; do
        case $pkg in
            nginx | rabbitmq-server)
                if [[ -x /etc/init.d/$pkg ]] && /etc/init.d/"$pkg" status >/dev/null 2>&1; then
                    /etc/init.d/"$pkg" stop >/dev/null 2>&1 || true
                fi
                ;;
        esac
    done
    ts_note "packages installed: ${missing[*]} (the others were present)"
}

# ------------------------------------------------------------------------------------ PostgreSQL

# _pg_root STATE: the directory holding the cluster (data/ and the socket directory run/).
# Normally STATE/pg. The server runs as the postgres OS user, who must be able to reach it; when
# STATE is below a directory that user cannot enter (a checkout under /root, say), the cluster
# lives in /var/tmp instead and STATE/pg is a symlink to it.
_pg_root() {
    local state=$1 want alt
    want="$state/pg"
    if [[ -L $want ]]; then
        readlink -f -- "$want"
        return 0
    fi
    mkdir -p "$want"
    chown postgres:postgres "$want"
    chmod 700 "$want"
    if runuser -u postgres -- test -w "$want" 2>/dev/null; then
        printf '%s\n' "$want"
        return 0
    fi
    alt="/var/tmp/thrillsuite-pg-$(printf '%s' "$state" | sha256sum | cut -c1-16)"
    ts_note "postgres cannot reach $want; keeping the cluster in $alt (symlinked)"
    rmdir -- "$want"
    # A fresh state directory means a fresh cluster (its password is new too).
    rm -rf -- "$alt"
    mkdir -p "$alt"
    chown postgres:postgres "$alt"
    chmod 700 "$alt"
    ln -s "$alt" "$want"
    printf '%s\n' "$alt"
}

# _pg_as_postgres DIR CMD...: run CMD as the postgres user from DIR (a cwd it can enter).
_pg_as_postgres() {
    local dir=$1
    shift
    (cd "$dir" && runuser -u postgres -- "$@")
}

# pg_is_running STATE
pg_is_running() {
    local state root
    state=$(ts_abs "$1")
    [[ -e $state/pg ]] || return 1
    root=$(readlink -f -- "$state/pg")
    [[ -s $root/data/PG_VERSION ]] || return 1
    _pg_as_postgres "$root" "$PG_BIN/pg_ctl" status -D "$root/data" >/dev/null 2>&1
}

# pg_start STATE PORT: initialise the cluster on first use (superuser postgres, password from
# secrets.env, scram-sha-256 for every connection), then start it on 127.0.0.1:PORT. Returns at
# once when it already runs.
pg_start() {
    local state port root data log pwfile
    state=$(ts_abs "$1")
    port=$2
    if [[ $(id -u) != 0 ]]; then
        ts_fail "pg_start runs the server as the postgres user and needs root"
        return 1
    fi
    ts_reserve_ports "$port"
    mkdir -p "$state/logs"
    ts_secrets_ensure "$state"
    log="$state/logs/postgresql.log"
    root=$(_pg_root "$state") || return 1
    data="$root/data"
    if pg_is_running "$state"; then
        ts_note "PostgreSQL already running ($data)"
        return 0
    fi
    if [[ ! -s $data/PG_VERSION ]]; then
        ts_note "initialising PostgreSQL cluster in $data"
        rm -rf -- "$data"
        pwfile="$root/.pwfile"
        (umask 077 && ts_secret "$state" PG_PASSWORD >"$pwfile") || return 1
        chown postgres:postgres "$pwfile"
        if ! _pg_as_postgres "$root" "$PG_BIN/initdb" -D "$data" -U postgres \
            --auth=scram-sha-256 --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
            --data-checksums --no-instructions >>"$log" 2>&1; then
            rm -f -- "$pwfile"
            ts_fail "initdb failed"
            ts_tail "$log"
            return 1
        fi
        rm -f -- "$pwfile"
        printf '\n# ThrillSuite (build/lib/servers.sh)\ninclude '\''thrillsuite.conf'\''\ninclude '\''thrillsuite-instance.conf'\''\n' \
            >>"$data/postgresql.conf"
    fi
    # Shared settings from deploy/, instance settings here; rewritten at every start.
    install -o postgres -g postgres -m 600 "$THRILLSUITE_ROOT/deploy/postgres/postgresql.conf" \
        "$data/thrillsuite.conf"
    install -d -o postgres -g postgres -m 700 "$root/run"
    cat >"$data/thrillsuite-instance.conf" <<EOF
# Written by build/lib/servers.sh at every start.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$root/run'
EOF
    chown postgres:postgres "$data/thrillsuite-instance.conf"
    if ts_port_open "$port"; then
        ts_fail "port $port is already in use; cannot start PostgreSQL there"
        return 1
    fi
    ts_note "starting PostgreSQL on 127.0.0.1:$port"
    # The log is opened here (by root) and inherited, so the postgres user needs no access to
    # STATE/logs.
    if ! _pg_as_postgres "$root" "$PG_BIN/pg_ctl" start -D "$data" -w \
        -t "$THRILLSUITE_PG_START_TIMEOUT" -s >>"$log" 2>&1; then
        ts_fail "PostgreSQL did not start"
        ts_tail "$log"
        return 1
    fi
}

# pg_stop STATE: fast shutdown (rolls back open transactions), immediate if that hangs.
pg_stop() {
    local state root
    state=$(ts_abs "$1")
    pg_is_running "$state" || return 0
    root=$(readlink -f -- "$state/pg")
    ts_note "stopping PostgreSQL ($root/data)"
    if ! _pg_as_postgres "$root" "$PG_BIN/pg_ctl" stop -D "$root/data" -m fast -w -t 60 -s \
        >>"$state/logs/postgresql.log" 2>&1; then
        _pg_as_postgres "$root" "$PG_BIN/pg_ctl" stop -D "$root/data" -m immediate -w -t 30 -s \
            >>"$state/logs/postgresql.log" 2>&1 || {
            ts_fail "PostgreSQL did not stop"
            return 1
        }
    fi
}

# pg_connection_string STATE PORT [DATABASE]: an Npgsql connection string for the superuser.
pg_connection_string() {
    local password
    password=$(ts_secret "$1" PG_PASSWORD) || return 1
    printf 'Host=127.0.0.1;Port=%s;%sUsername=postgres;Password=%s\n' \
        "$2" "${3:+Database=$3;}" "$password"
}

# ------------------------------------------------------------------------------------ RabbitMQ

# _rabbitmq_node_name NAME: "run" -> thrillsuite-run@localhost; a full name is kept.
_rabbitmq_node_name() {
    if [[ $1 == *@* ]]; then
        printf '%s\n' "$1"
    else
        printf 'thrillsuite-%s@localhost\n' "$1"
    fi
}

# _rabbitmq_load STATE: read STATE/rabbitmq/node.env (written by rabbitmq_start) into
# RMQ_NODE, RMQ_PORT, RMQ_DIST_PORT, RMQ_EPMD_PORT.
_rabbitmq_load() {
    local file key value
    file="$1/rabbitmq/node.env"
    [[ -r $file ]] || return 1
    RMQ_NODE="" RMQ_PORT="" RMQ_DIST_PORT="" RMQ_EPMD_PORT=""
    while IFS='=' read -r key value; do
        case $key in
            NODE) RMQ_NODE=$value ;;
            PORT) RMQ_PORT=$value ;;
            DIST_PORT) RMQ_DIST_PORT=$value ;;
            EPMD_PORT) RMQ_EPMD_PORT=$value ;;
        esac
    done <"$file"
    [[ -n $RMQ_NODE && -n $RMQ_PORT && -n $RMQ_DIST_PORT && -n $RMQ_EPMD_PORT ]]
}

# _rabbitmq_env STATE: the environment (as NAME=VALUE words for env) for the server and the CLI
# tools of the node in STATE. The node has its own epmd on RMQ_EPMD_PORT, so nodes of different
# state directories never share anything and each can be stopped completely.
_rabbitmq_env() {
    local state=$1 rmq="$1/rabbitmq"
    printf '%s\n' \
        "HOME=$state/rabbitmq-home" \
        "RABBITMQ_NODENAME=$RMQ_NODE" \
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
        "RABBITMQ_NODE_PORT=$RMQ_PORT" \
        "RABBITMQ_DIST_PORT=$RMQ_DIST_PORT" \
        "RABBITMQ_MNESIA_BASE=$rmq/mnesia" \
        "RABBITMQ_LOG_BASE=$state/logs/rabbitmq" \
        "RABBITMQ_CONFIG_FILE=$rmq/rabbitmq.conf" \
        "RABBITMQ_ADVANCED_CONFIG_FILE=$rmq/advanced.config" \
        "RABBITMQ_CONF_ENV_FILE=$rmq/rabbitmq-env.conf" \
        "RABBITMQ_ENABLED_PLUGINS_FILE=$rmq/enabled_plugins" \
        "RABBITMQ_PID_FILE=$rmq/rabbitmq-server.pid" \
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}" \
        "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}" \
        "ERL_EPMD_PORT=$RMQ_EPMD_PORT" \
        "ERL_EPMD_ADDRESS=127.0.0.1"
}

# rabbitmq_ctl STATE ARGS...: rabbitmqctl against the node of STATE.
rabbitmq_ctl() {
    local state
    state=$(ts_abs "$1")
    shift
    _rabbitmq_load "$state" || {
        ts_fail "no RabbitMQ node in $state"
        return 1
    }
    local -a envs
    mapfile -t envs < <(_rabbitmq_env "$state")
    env "${envs[@]}" "$RABBITMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" "$@"
}

# rabbitmq_is_running STATE: the node's OS process is alive (not that the broker has booted).
rabbitmq_is_running() {
    local state
    state=$(ts_abs "$1")
    # The spawned wrapper ("rabbit" matches it at every stage of its exec chain: env, sh,
    # rabbitmq-server), or the VM it started, should the wrapper be gone.
    ts_pid_alive "$state/rabbitmq/rabbitmq.pid" rabbit ||
        ts_pid_alive "$state/rabbitmq/rabbitmq-server.pid" beam
}

# rabbitmq_start STATE PORT DIST_PORT NAME [EPMD_PORT]: start a node (AMQP on 127.0.0.1:PORT,
# Erlang distribution on DIST_PORT, its own epmd on EPMD_PORT, default DIST_PORT+1) and wait
# until it accepts AMQP and has fully booted. Returns at once when the node already runs.
rabbitmq_start() {
    local state port dist name epmd rmq log deadline remaining
    state=$(ts_abs "$1")
    port=$2
    dist=$3
    name=$(_rabbitmq_node_name "$4")
    epmd=${5:-$((dist + 1))}
    rmq="$state/rabbitmq"
    log="$state/logs/rabbitmq/stdout.log"
    ts_reserve_ports "$port" "$dist" "$epmd"

    if rabbitmq_is_running "$state"; then
        ts_note "RabbitMQ $(_rabbitmq_load "$state" && printf '%s' "$RMQ_NODE") already running"
        return 0
    fi
    mkdir -p "$rmq/mnesia" "$state/logs/rabbitmq" "$state/rabbitmq-home"
    RMQ_NODE=$name RMQ_PORT=$port RMQ_DIST_PORT=$dist RMQ_EPMD_PORT=$epmd
    printf 'NODE=%s\nPORT=%s\nDIST_PORT=%s\nEPMD_PORT=%s\n' "$name" "$port" "$dist" "$epmd" \
        >"$rmq/node.env"

    # The Erlang cookie authenticates the CLI tools to the node; private to this state dir.
    if [[ ! -s $state/rabbitmq-home/.erlang.cookie ]]; then
        (umask 277 && ts_random 32 | tr -d '\n' >"$state/rabbitmq-home/.erlang.cookie")
    fi
    chmod 400 "$state/rabbitmq-home/.erlang.cookie"
    sed -E "s/^(listeners\.tcp\.default[[:space:]]*=[[:space:]]*127\.0\.0\.1:)[0-9]+/\1$port/" \
        "$THRILLSUITE_ROOT/deploy/rabbitmq/rabbitmq.conf" >"$rmq/rabbitmq.conf"
    : >"$rmq/rabbitmq-env.conf"
    [[ -s $rmq/enabled_plugins ]] || printf '[].\n' >"$rmq/enabled_plugins"

    local p
    for p in "$port" "$dist"; do
        if ts_port_open "$p"; then
            ts_fail "port $p is already in use; cannot start RabbitMQ node $name there"
            return 1
        fi
    done

    local -a envs
    mapfile -t envs < <(_rabbitmq_env "$state")

    # The node's own epmd (name server of the Erlang distribution), on loopback.
    if ! ts_pid_alive "$rmq/epmd.pid" epmd; then
        if ts_port_open "$epmd"; then
            ts_fail "epmd port $epmd is already in use (pass another EPMD_PORT)"
            return 1
        fi
        ts_spawn "$rmq/epmd.pid" "$state/logs/rabbitmq/epmd.log" \
            env "${envs[@]}" epmd -port "$epmd" -address 127.0.0.1 || return 1
    fi

    ts_note "starting RabbitMQ $name on 127.0.0.1:$port (dist $dist, epmd $epmd)"
    # rabbitmq-server execs erl, which execs beam.smp: the spawned pid is the node itself.
    ts_spawn "$rmq/rabbitmq.pid" "$log" env "${envs[@]}" "$RABBITMQ_BIN/rabbitmq-server" || return 1

    deadline=$((SECONDS + THRILLSUITE_RABBITMQ_START_TIMEOUT))
    while ! ts_port_open "$port"; do
        if ! rabbitmq_is_running "$state"; then
            ts_fail "RabbitMQ $name exited during start"
            _rabbitmq_report_logs "$state"
            return 1
        fi
        if ((SECONDS >= deadline)); then
            ts_fail "RabbitMQ $name did not open 127.0.0.1:$port within ${THRILLSUITE_RABBITMQ_START_TIMEOUT}s"
            _rabbitmq_report_logs "$state"
            return 1
        fi
        sleep 0.5
    done
    remaining=$((deadline - SECONDS))
    ((remaining > 5)) || remaining=5
    if ! rabbitmq_ctl "$state" await_startup --timeout "$remaining" >>"$log" 2>&1; then
        ts_fail "RabbitMQ $name did not finish booting"
        _rabbitmq_report_logs "$state"
        return 1
    fi
}

_rabbitmq_report_logs() {
    local state=$1
    ts_tail "$state/logs/rabbitmq/stdout.log" 20
    _rabbitmq_load "$state" && ts_tail "$state/logs/rabbitmq/$RMQ_NODE.log" 40
}

# rabbitmq_stop STATE: rabbitmqctl stop (waits for the VM to exit), SIGTERM/SIGKILL by pid file
# if the node does not answer, then the node's epmd.
rabbitmq_stop() {
    local state rmq deadline vm_pid=""
    state=$(ts_abs "$1")
    rmq="$state/rabbitmq"
    # The VM's pid (RabbitMQ writes it to RABBITMQ_PID_FILE and deletes the file while it stops,
    # before the VM has exited), to wait for the VM itself.
    vm_pid=$(ts_pid_read "$rmq/rabbitmq-server.pid") || vm_pid=""
    if rabbitmq_is_running "$state"; then
        ts_note "stopping RabbitMQ $(_rabbitmq_load "$state" && printf '%s' "$RMQ_NODE")"
        rabbitmq_ctl "$state" stop --timeout 60 >>"$state/logs/rabbitmq/stdout.log" 2>&1 || true
        deadline=$((SECONDS + 60))
        while ((SECONDS < deadline)); do
            if ! rabbitmq_is_running "$state" &&
                { [[ -z $vm_pid ]] || ! ts_proc_alive "$vm_pid" beam; }; then
                break
            fi
            sleep 0.2
        done
        ts_stop_pid "$rmq/rabbitmq.pid" 15 rabbit
    fi
    rm -f -- "$rmq/rabbitmq.pid"
    # Should the wrapper shell have been killed before it could stop the VM.
    [[ -z $vm_pid ]] || ts_stop_proc "$vm_pid" 10 beam
    rm -f -- "$rmq/rabbitmq-server.pid"
    ts_stop_pid "$rmq/epmd.pid" 5 epmd
}

# ------------------------------------------------------------------------------------ nginx

# nginx_render STATE KEY=VALUE...: deploy/nginx/edge.conf.template -> STATE/nginx/nginx.conf,
# replacing each {{KEY}}. Fails if a placeholder is left without a value.
nginx_render() {
    local state out kv key value
    state=$(ts_abs "$1")
    shift
    mkdir -p "$state/nginx"
    out="$state/nginx/nginx.conf"
    local -a expr=()
    for kv in "$@"; do
        key=${kv%%=*}
        value=${kv#*=}
        if [[ ! $key =~ ^[A-Z][A-Z0-9_]*$ || ! $value =~ ^[A-Za-z0-9._:/-]+$ ]]; then
            ts_fail "nginx_render: bad substitution '$kv'"
            return 1
        fi
        expr+=(-e "s|{{$key}}|$value|g")
    done
    sed "${expr[@]}" "$THRILLSUITE_ROOT/deploy/nginx/edge.conf.template" >"$out.tmp"
    if grep -q '{{[A-Z0-9_]*}}' "$out.tmp"; then
        ts_fail "nginx_render: no value for $(grep -o '{{[A-Z0-9_]*}}' "$out.tmp" | sort -u | tr '\n' ' ')"
        rm -f -- "$out.tmp"
        return 1
    fi
    mv -f -- "$out.tmp" "$out"
}

_nginx() {
    local prefix=$1
    shift
    nginx -c "$prefix/nginx.conf" -p "$prefix/" -e "$prefix/error.log" "$@"
}

# nginx_is_running STATE
nginx_is_running() {
    local state
    state=$(ts_abs "$1")
    ts_pid_alive "$state/nginx/nginx.pid" nginx
}

# nginx_start STATE: test the rendered config and start nginx (reload if it already runs).
nginx_start() {
    local state prefix i
    state=$(ts_abs "$1")
    prefix="$state/nginx"
    if [[ ! -s $prefix/nginx.conf ]]; then
        ts_fail "no $prefix/nginx.conf (nginx_render first)"
        return 1
    fi
    if nginx_is_running "$state"; then
        nginx_reload "$state"
        return
    fi
    if ! _nginx "$prefix" -t -q 2>>"$prefix/error.log"; then
        ts_fail "nginx configuration test failed"
        ts_tail "$prefix/error.log" 20
        return 1
    fi
    ts_note "starting nginx ($prefix/nginx.conf)"
    if ! _nginx "$prefix" 2>>"$prefix/error.log"; then
        ts_fail "nginx did not start"
        ts_tail "$prefix/error.log" 20
        return 1
    fi
    for ((i = 0; i < 50; i++)); do
        nginx_is_running "$state" && return 0
        sleep 0.1
    done
    ts_fail "nginx did not write its pid file"
    ts_tail "$prefix/error.log" 20
    return 1
}

# nginx_reload STATE: test the config, then SIGHUP (new workers, open connections finish).
nginx_reload() {
    local state prefix pid
    state=$(ts_abs "$1")
    prefix="$state/nginx"
    if ! pid=$(ts_pid_read "$prefix/nginx.pid") || ! ts_proc_alive "$pid" nginx; then
        ts_fail "nginx of $state is not running"
        return 1
    fi
    if ! _nginx "$prefix" -t -q 2>>"$prefix/error.log"; then
        ts_fail "nginx configuration test failed; still running the old one"
        ts_tail "$prefix/error.log" 20
        return 1
    fi
    ts_note "reloading nginx"
    kill -HUP "$pid"
}

# nginx_stop STATE: graceful stop (SIGQUIT lets requests in flight finish); after 15 s a fast
# stop (SIGTERM, the master ends its workers), SIGKILL as the last resort.
nginx_stop() {
    local state pidfile pid deadline
    state=$(ts_abs "$1")
    pidfile="$state/nginx/nginx.pid"
    if ! pid=$(ts_pid_read "$pidfile") || ! ts_proc_alive "$pid" nginx; then
        return 0
    fi
    ts_note "stopping nginx (pid $pid)"
    kill -QUIT "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while ts_proc_alive "$pid" nginx && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if ts_proc_alive "$pid" nginx; then
        ts_stop_pid "$pidfile" 5 nginx
    fi
    rm -f -- "$pidfile"
}
