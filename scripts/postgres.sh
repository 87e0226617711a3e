#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests of the PostgreSQL metadata
# store driver (internal/store/postgres): trust authentication, on loopback
# only, durability off.
#
#   scripts/postgres.sh start DIR   create a cluster in DIR (unless it has one)
#                                   and start it on a free port of 127.0.0.1;
#                                   prints the one line the tests read:
#                                   COFFER_TEST_POSTGRES=postgres://...
#   scripts/postgres.sh stop DIR    stop it
#
# The server binaries come from Debian's postgresql package, which leaves
# them off PATH: pg_config --bindir or /usr/lib/postgresql/*/bin. PostgreSQL
# refuses to run as root, so as root the cluster belongs to the system user
# coffer-pg (created if missing) and DIR must be reachable by it (under /tmp,
# not /root). Everything but the COFFER_TEST_POSTGRES line goes to stderr;
# the server log is DIR/postgres.log.
set -euo pipefail

pg_user=coffer-pg

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

# bindir prints the directory of initdb, pg_ctl and pg_isready.
bindir() {
  local d
  if d=$(pg_config --bindir 2> /dev/null) && [[ -x $d/initdb && -x $d/pg_ctl ]]; then
    echo "$d"
    return
  fi
  for d in $(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V -r); do
    if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
      echo "$d"
      return
    fi
  done
  echo "postgres.sh: no PostgreSQL server binaries (initdb, pg_ctl) found; apt-get install postgresql" >&2
  exit 1
}

# as_pg runs a command as the cluster's owner: coffer-pg when we are root,
# else ourselves.
as_pg() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u "$pg_user" -- "$@"
  else
    "$@"
  fi
}

ensure_user() {
  [[ $(id -u) == 0 ]] || return 0
  if ! id "$pg_user" > /dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user"
  fi
}

# free_port prints a TCP port of 127.0.0.1 that nothing listens on now.
free_port() {
  if command -v python3 > /dev/null &&
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2> /dev/null; then
    return
  fi
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      echo "$port"
      return
    fi
  done
  echo "postgres.sh: found no free port" >&2
  exit 1
}

start() {
  local dir=$1 bin port
  bin=$(bindir)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  ensure_user
  if [[ $(id -u) == 0 ]]; then
    chown "$pg_user:" "$dir"
    if ! runuser -u "$pg_user" -- test -w "$dir"; then
      echo "postgres.sh: $dir is not reachable by the user $pg_user (choose a directory under /tmp)" >&2
      exit 1
    fi
  fi
  if as_pg "$bin/pg_ctl" -D "$dir/data" status > /dev/null 2>&1; then
    echo "postgres.sh: a server already runs in $dir/data; stop it first" >&2
    exit 1
  fi
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    # The default collation is ICU's en-US, not byte order, so that a query
    # of the driver that forgets COLLATE "C" shows in the tests; a server
    # without ICU gets C.
    if ! as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
      --locale-provider=icu --icu-locale=en-US --no-sync > "$dir/initdb.log" 2>&1; then
      rm -rf "$dir/data"
      as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync \
        >> "$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
      }
    fi
    # Loopback only, whatever initdb wrote.
    as_pg tee "$dir/data/pg_hba.conf" > /dev/null << 'EOF'
local all all trust
host  all all 127.0.0.1/32 trust
host  all all ::1/128 trust
EOF
  fi
  # The port of the last run in DIR first (a restart keeps the address the
  # clients were given), else a free one. Another process may take the port
  # between our check and the server's bind: then the start fails and the
  # next candidate is tried.
  local last=""
  [[ -f $dir/data/postgresql.auto.conf ]] && last=$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$dir/data/postgresql.auto.conf")
  for _ in $(seq 1 5); do
    port=${last:-$(free_port)}
    last=""
    as_pg tee "$dir/data/postgresql.auto.conf" > /dev/null << EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start > /dev/null 2>&1; then
      for _ in $(seq 1 120); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
          echo "COFFER_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
          return
        fi
        sleep 0.5
      done
      echo "postgres.sh: the server on port $port never became ready; see $dir/postgres.log" >&2
      as_pg "$bin/pg_ctl" -D "$dir/data" stop -m immediate > /dev/null 2>&1 || true
      exit 1
    fi
  done
  echo "postgres.sh: the server did not start; see $dir/postgres.log" >&2
  tail -n 20 "$dir/postgres.log" >&2 || true
  exit 1
}

stop() {
  local dir=$1 bin
  bin=$(bindir)
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    echo "postgres.sh: no cluster in $dir" >&2
    exit 1
  fi
  as_pg "$bin/pg_ctl" -D "$dir/data" stop -m fast > /dev/null
}

[[ $# == 2 ]] || usage
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
