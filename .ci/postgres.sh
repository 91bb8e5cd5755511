# A throwaway PostgreSQL server for the test run; .ci/run will source it once the PostgreSQL
# backend (issue 14) has tests. Tried on this machine: initdb, start, psql, stop, removed.
# start_postgres sets COMPETENCY_TEST_PG (a URL with no password) and registers stop_postgres.
# The server runs as the unprivileged `postgres` user (initdb refuses root), in a private
# temporary folder, on a Unix socket there and a free loopback port; stop_postgres stops it
# and deletes the folder whatever happened.

PG_DIR=""
PG_BIN=""

install_postgres() {
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
        echo "== installing postgresql"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
}

stop_postgres() {
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}

start_postgres() {
    install_postgres
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    PG_DIR=$(mktemp -d /tmp/competency-pg.XXXXXX)
    chown postgres "$PG_DIR"
    chmod 0700 "$PG_DIR"
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -t 60 -l "$PG_DIR/log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null
    runuser -u postgres -- "$PG_BIN/psql" -h "$PG_DIR" -p "$port" -U postgres -qc "create role competency login superuser" >/dev/null
    export COMPETENCY_TEST_PG="postgres://competency@127.0.0.1:$port/postgres"
    echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway, in $PG_DIR)"
}
