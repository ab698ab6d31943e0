# shellcheck shell=bash
#
# Throwaway or persistent PostgreSQL 15 for scripts/test.sh and scripts/demo.sh:
# creates a cluster under a directory of ours, starts it on a free loopback
# port with its unix socket in that directory, and exports the DSN lakestreamd
# and the tests connect with. Meant to be sourced by scripts run as root on
# Debian 12 (postgresql-15); the server itself always runs as the `postgres`
# user. It never touches the system's own cluster (/var/lib/postgresql) and
# never changes authentication beyond the cluster it creates.
#
# Usage:
#   . scripts/lib/pg.sh
#   ls_pg_start DIR [--fast]   # --fast: fsync/synchronous_commit off (tests only)
#   ... use $LS_PG_DSN / $LS_PG_HOST / $LS_PG_PORT ...
#   ls_pg_stop DIR
#
# Layout: DIR/data (cluster), DIR/postgres.log, socket DIR/.s.PGSQL.<port>.
# If the postgres user cannot reach DIR (a parent directory without o+x) or
# the socket path would exceed the 107-byte unix socket limit, everything goes
# to /tmp/lakestream-pg-<cksum of DIR> instead and DIR/pg-location names it.
# Optional env: LS_PG_WANT_PORT (use that port instead of a free one),
# LS_PG_BIN (default /usr/lib/postgresql/15/bin).

LS_PG_BIN=${LS_PG_BIN:-/usr/lib/postgresql/15/bin}

# Runs a command as the postgres user from a directory it can read.
_ls_pg_as_postgres() {
    (cd / && runuser -u postgres -- "$@")
}

# Prints the directory that really holds the cluster for DIR (absolute).
_ls_pg_home() {
    local dir=$1
    if _ls_pg_as_postgres test -w "$dir" && [ ${#dir} -le 80 ]; then
        printf '%s\n' "$dir"
    else
        local sum
        sum=$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
        printf '/tmp/lakestream-pg-%s\n' "$sum"
    fi
}

_ls_pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' && return 0
    fi
    local p
    for p in $(seq 54320 54420); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

ls_pg_start() {
    local dir=${1:?usage: ls_pg_start DIR [--fast]} fast=0
    shift
    while [ $# -gt 0 ]; do
        case $1 in
        --fast) fast=1 ;;
        *)
            echo "ls_pg_start: unknown option $1" >&2
            return 2
            ;;
        esac
        shift
    done
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd) || return 1
    chown postgres: "$dir"
    chmod 0755 "$dir"
    local home
    home=$(_ls_pg_home "$dir")
    if [ "$home" != "$dir" ]; then
        mkdir -p "$home" && chown postgres: "$home" && chmod 0700 "$home" || return 1
        printf '%s\n' "$home" >"$dir/pg-location"
    fi
    local data=$home/data log=$home/postgres.log
    if [ ! -s "$data/PG_VERSION" ]; then
        local sync_opt=()
        [ $fast = 1 ] && sync_opt=(--no-sync)
        _ls_pg_as_postgres "$LS_PG_BIN/initdb" -D "$data" -U postgres -A trust -E UTF8 \
            --locale=C "${sync_opt[@]}" >"$home/initdb.log" 2>&1 || {
            echo "ls_pg_start: initdb failed, see $home/initdb.log" >&2
            return 1
        }
    fi
    local port=""
    if _ls_pg_as_postgres "$LS_PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1; then
        # Already running (idempotent start): reuse its port.
        port=$(sed -n 4p "$data/postmaster.pid")
    else
        port=${LS_PG_WANT_PORT:-$(_ls_pg_free_port)} || return 1
        local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$home"
        opts+=" -c max_connections=200"
        [ $fast = 1 ] && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _ls_pg_as_postgres "$LS_PG_BIN/pg_ctl" start -D "$data" -l "$log" -o "$opts" -s >/dev/null 2>&1 || {
            echo "ls_pg_start: pg_ctl start failed, see $log" >&2
            return 1
        }
    fi
    local deadline=$((SECONDS + 30))
    until "$LS_PG_BIN/pg_isready" -q -h "$home" -p "$port"; do
        if [ $SECONDS -ge $deadline ]; then
            echo "ls_pg_start: PostgreSQL not ready after 30 s, see $log" >&2
            return 1
        fi
        sleep 0.1
    done
    if [ "$("$LS_PG_BIN/psql" -h "$home" -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'lakestream'")" != 1 ]; then
        "$LS_PG_BIN/createdb" -h "$home" -p "$port" -U postgres lakestream || return 1
    fi
    export LS_PG_HOST=$home
    export LS_PG_PORT=$port
    export LS_PG_DSN="host=$home port=$port dbname=lakestream user=postgres"
}

ls_pg_stop() {
    local dir=${1:?usage: ls_pg_stop DIR}
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd) || return 0
    local home=$dir
    [ -f "$dir/pg-location" ] && home=$(cat "$dir/pg-location")
    [ -s "$home/data/postmaster.pid" ] || return 0
    _ls_pg_as_postgres "$LS_PG_BIN/pg_ctl" stop -D "$home/data" -m fast -s >/dev/null 2>&1 || true
}
