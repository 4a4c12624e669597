#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite's PostgreSQL leg.
#
#   eval "$(.ci/postgres.sh start)"    # prints export lines; progress on stderr
#   cargo test
#   .ci/postgres.sh stop "$KEYSMITH_TEST_POSTGRES_DIR"
#
# `start` initialises a cluster in a fresh temporary folder and serves it on
# 127.0.0.1 (a free port) and on a unix socket in that folder. The socket
# trusts local users; TCP asks for a password (scram-sha-256) and offers TLS
# with a certificate for localhost and 127.0.0.1 from a throwaway CA. It
# exports:
#   KEYSMITH_TEST_POSTGRES      postgres://keysmith_test:<password>@127.0.0.1:<port>/postgres
#                               (a superuser: the harness makes one database per test)
#   KEYSMITH_TEST_POSTGRES_CA   the CA certificate, for sslmode=verify-full
#   KEYSMITH_TEST_POSTGRES_DIR  the temporary folder, for `stop`
# Durability is off (fsync=off): the data is thrown away anyway.
#
# PostgreSQL comes from Debian's `postgresql` package, installed with apt-get
# when initdb is missing. Run as root, the server runs as the `postgres` user
# (initdb refuses root).
set -euo pipefail

say() { printf '%s\n' "postgres.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

find_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
        printf '%s\n' "$dir"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

install_packages() {
    [[ $(id -u) == 0 ]] || die "$* missing and not root: install them (apt-get install $*)"
    say "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "$@" >&2
}

free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        local port
        for _ in $(seq 50); do
            port=$((20000 + RANDOM % 40000))
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                printf '%s\n' "$port"
                return
            fi
        done
        die "no free port found"
    fi
}

start() {
    local bindir
    bindir=$(find_bindir)
    if [[ -z $bindir ]]; then
        install_packages postgresql
        bindir=$(find_bindir)
        [[ -n $bindir ]] || die "initdb not found after installing postgresql"
    fi
    command -v openssl >/dev/null || install_packages openssl

    # As root, the server's commands run as `postgres`; otherwise as the caller.
    local -a as=()
    if [[ $(id -u) == 0 ]]; then
        if ! id postgres >/dev/null 2>&1; then
            useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
        fi
        as=(runuser -u postgres --)
    fi

    local dir port password
    # As root, in /tmp: the postgres user must reach the folder (a root's
    # TMPDIR may be private).
    local tmp=${TMPDIR:-/tmp}
    [[ $(id -u) == 0 ]] && tmp=/tmp
    dir=$(mktemp -d "$tmp/keysmith-pg.XXXXXX")
    port=$(free_port)
    password=$(openssl rand -hex 16)

    # A throwaway CA and a server certificate it signed, for localhost and 127.0.0.1.
    (
        cd "$dir"
        openssl req -x509 -new -nodes -days 7 -subj "/CN=keysmith test CA" \
            -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout ca.key -out ca.crt \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req -new -nodes -subj "/CN=localhost" \
            -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout server.key -out server.csr 2>/dev/null
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -days 7 -extfile server.ext -out server.crt 2>/dev/null
        rm -f server.csr server.ext ca.srl ca.key
        chmod 600 server.key
    ) || die "making the test certificates failed"
    chmod 755 "$dir"
    [[ $(id -u) == 0 ]] && chown -R postgres: "$dir"

    "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --no-sync --no-instructions \
        -E UTF8 --no-locale --auth-local=trust --auth-host=reject >"$dir/initdb.log" 2>&1 ||
        die "initdb failed: $(cat "$dir/initdb.log")"

    cat >"$dir/data/pg_hba.conf" <<EOF
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  scram-sha-256
EOF
    cat >>"$dir/data/postgresql.conf" <<EOF

# keysmith test server (.ci/postgres.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
password_encryption = 'scram-sha-256'
logging_collector = off
EOF
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null ||
        die "the server did not start: $(tail -20 "$dir/server.log")"

    "${as[@]}" "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE keysmith_test LOGIN SUPERUSER PASSWORD '$password'" >&2 ||
        die "creating the test role failed"

    say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port and $dir"
    printf 'export KEYSMITH_TEST_POSTGRES=%q\n' \
        "postgres://keysmith_test:$password@127.0.0.1:$port/postgres"
    printf 'export KEYSMITH_TEST_POSTGRES_CA=%q\n' "$dir/ca.crt"
    printf 'export KEYSMITH_TEST_POSTGRES_DIR=%q\n' "$dir"
}

stop() {
    local dir=${1:-}
    [[ -n $dir ]] || die "usage: $0 stop DIR"
    # Only a folder this script made: it holds a cluster and our CA.
    [[ -f $dir/data/PG_VERSION && -f $dir/ca.crt ]] || die "$dir is not a server started by $0"
    local bindir
    bindir=$(find_bindir)
    local -a as=()
    [[ $(id -u) == 0 ]] && as=(runuser -u postgres --)
    if [[ -n $bindir && -f $dir/data/postmaster.pid ]]; then
        "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 ||
            say "pg_ctl stop failed; removing $dir anyway"
    fi
    rm -rf "$dir"
}

case ${1:-} in
start) start ;;
stop) stop "${2:-}" ;;
*) die "usage: $0 start | stop DIR" ;;
esac
