# Sourced by .ci/run: make sure a PostgreSQL server answers, export RUNXIN_TEST_POSTGRES_URL.
# Order: the server on 127.0.0.1:$PG_PORT (default 5432); else start the machine's cluster;
# else a private throwaway cluster (initdb -A trust, pg_ctl on a free port, stopped on exit).
# Fails loudly when none of these works: CI never skips PostgreSQL.

PG_HOST=127.0.0.1
PG_PORT=${RUNXIN_CI_PG_PORT:-5432}
PG_DB=test
private_dir=""

pg_answers() {
  if command -v pg_isready >/dev/null 2>&1; then pg_isready -h "$PG_HOST" -p "$1" -q 2>/dev/null
  else python3 -c "import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 2)" "$PG_HOST" "$1" 2>/dev/null; fi
}

stop_private() {
  if [ -n "$private_dir" ]; then
    su postgres -s /bin/sh -c "PATH=$bindir:\$PATH pg_ctl -D '$private_dir/data' -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$private_dir"
  fi
}
trap stop_private EXIT

if ! pg_answers "$PG_PORT"; then
  echo "ci: PostgreSQL on $PG_HOST:$PG_PORT does not answer; trying to start the machine's cluster"
  if [ "$PG_PORT" = 5432 ] && ls /etc/postgresql >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do pg_answers "$PG_PORT" && break; sleep 1; done
  fi
fi

if ! pg_answers "$PG_PORT"; then
  echo "ci: starting a private throwaway PostgreSQL cluster"
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ] || ! id postgres >/dev/null 2>&1; then
    echo "ci: FAILED — no PostgreSQL server answers and none can be started here" >&2
    exit 1
  fi
  private_dir=$(mktemp -d)
  chown postgres "$private_dir"
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  su postgres -s /bin/sh -c "PATH=$bindir:\$PATH initdb -A trust -U postgres -D '$private_dir/data'" >/dev/null
  su postgres -s /bin/sh -c "PATH=$bindir:\$PATH pg_ctl -D '$private_dir/data' -l '$private_dir/log' -w \
    -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -k $private_dir\" start" >/dev/null
  su postgres -s /bin/sh -c "PATH=$bindir:\$PATH createdb -h 127.0.0.1 -p $PG_PORT -U postgres $PG_DB"
  if ! pg_answers "$PG_PORT"; then
    echo "ci: FAILED — the private PostgreSQL cluster did not start" >&2
    cat "$private_dir/log" >&2 || true
    exit 1
  fi
fi

export RUNXIN_TEST_POSTGRES_URL="postgresql://postgres@$PG_HOST:$PG_PORT/$PG_DB"
echo "ci: PostgreSQL answers at $RUNXIN_TEST_POSTGRES_URL"
