#!/usr/bin/env bash
# The servers the tests use, as RECOVEROPS_TEST_SERVERS asks (tests/store/server_fixtures.py):
#   running   PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, started here if they
#             are installed but stopped (CI and the project's machines); an error without them
#   embedded  nothing to do: the tests start their own from the installed wheels
#   auto      (the default) as running where a server is installed; where none is, the tests
#             start an embedded one, so a machine with only Python and make runs them all
# A server named by RECOVEROPS_TEST_POSTGRES_URL or RECOVEROPS_TEST_REDIS_URL is left alone.
set -euo pipefail

mode="${RECOVEROPS_TEST_SERVERS:-auto}"
case "$mode" in
  running | auto) ;;
  embedded) echo "the tests start embedded PostgreSQL and Valkey servers" >&2; exit 0 ;;
  *) echo "RECOVEROPS_TEST_SERVERS=$mode: expected running, embedded or auto" >&2; exit 2 ;;
esac

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=()

if [ -z "${RECOVEROPS_TEST_POSTGRES_URL:-}" ] && ! listening 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    started+=(5432)
  elif [ "$mode" = running ]; then
    echo "PostgreSQL is neither running on 127.0.0.1:5432 nor installed" >&2
    exit 1
  else
    echo "no PostgreSQL server here: the tests start an embedded one" >&2
  fi
fi
if [ -z "${RECOVEROPS_TEST_REDIS_URL:-}" ] && ! listening 6379; then
  if command -v redis-server >/dev/null; then
    echo "starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    started+=(6379)
  elif [ "$mode" = running ]; then
    echo "Redis is neither running on 127.0.0.1:6379 nor installed" >&2
    exit 1
  else
    echo "no Redis server here: the tests start an embedded Valkey" >&2
  fi
fi

for port in "${started[@]}"; do
  for _ in $(seq 1 30); do
    listening "$port" && continue 2
    sleep 1
  done
  echo "the server started for 127.0.0.1:$port did not come up" >&2
  exit 1
done
