#!/usr/bin/env bash
# Starts PostgreSQL and Redis for b24-store on 127.0.0.1, data under target/dev-servers/
# (kept between runs; `store/dev-servers.sh stop` stops both). Installs the Debian packages when
# missing and apt-get is there. Prints the settings to use.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$PWD/target/dev-servers"
pg_port="${B24_PG_PORT:-5432}"
redis_port="${B24_REDIS_PORT:-6379}"
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
pg_bin="$(dirname "$(readlink -f "$(command -v postgres || ls -d /usr/lib/postgresql/*/bin/postgres | tail -n 1)")")"

if [ "${1:-}" = stop ]; then
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" stop -m fast || true
  redis-cli -p "$redis_port" shutdown nosave || true
  exit 0
fi

if ! command -v redis-server >/dev/null || [ ! -x "$pg_bin/initdb" ]; then
  apt-get install -y postgresql redis-server || sudo apt-get install -y postgresql redis-server
  pg_bin="$(dirname "$(readlink -f "$(ls -d /usr/lib/postgresql/*/bin/postgres | tail -n 1)")")"
fi
mkdir -p "$dir"
[ ${#as_pg[@]} -gt 0 ] && chown postgres "$dir"
if [ ! -d "$dir/pg" ]; then
  "${as_pg[@]}" "$pg_bin/initdb" -D "$dir/pg" -U b24 --auth=trust -E UTF8 >/dev/null
fi
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w \
  -o "-h 127.0.0.1 -p $pg_port -k $dir" start
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" --save '' --appendonly no --daemonize yes
echo "PostgreSQL: host=127.0.0.1 port=$pg_port user=b24 dbname=postgres"
echo "Redis:      redis://127.0.0.1:$redis_port/"
