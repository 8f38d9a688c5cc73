#!/usr/bin/env bash
# Run the test suite: a throw-away PostgreSQL server is started so the API tests run
# against PostgreSQL as well as SQLite.  Extra arguments go to pytest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.venv/bin"
WORK=$(mktemp -d /tmp/euca-test.XXXXXX)
chmod 755 "$WORK"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

cleanup() {
  if [ -n "${PGBIN}" ] && [ -f "$WORK/pg/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate -s stop || true
  fi
  "$ROOT/scripts/libvirtd.sh" stop "$WORK/libvirtd" || true  # only what it started
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${PGBIN}" ] && [ -z "${CI_PG_DSN:-}" ] && [ "$(id -u)" -eq 0 ]; then
  PORT=$("$BIN/python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  mkdir -p "$WORK/pg"; chown postgres: "$WORK/pg"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -s \
    -o "-p $PORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start
  export CI_PG_DSN="host=127.0.0.1 port=$PORT user=postgres dbname=postgres"
  echo "test: PostgreSQL on 127.0.0.1:$PORT" >&2
elif [ -z "${CI_PG_DSN:-}" ]; then
  echo "test: no PostgreSQL server (need root and postgresql); running on SQLite only" >&2
fi

# Real guests (tests/real, marked libvirtd): a libvirtd with QEMU, and the tiny guest
# built once into a cache dir.  Without them those tests skip and say why.
if [ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/libvirtd ] && [ -z "${EUCA_NO_LIBVIRTD:-}" ]; then
  "$ROOT/scripts/libvirtd.sh" start "$WORK/libvirtd" || echo "test: libvirtd did not start" >&2
fi
export EUCA_TEST_IMAGE_DIR=${EUCA_TEST_IMAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/euca-test-image}
"$ROOT/scripts/build-test-image.sh" "$EUCA_TEST_IMAGE_DIR" ||
  echo "test: could not build the test guest; real-instance tests will skip" >&2

cd "$ROOT"
# Every cloud and CLI the tests start is a new Python process: compile the sources once
# (with PYTHONDONTWRITEBYTECODE set, each process would compile them again).
"$BIN/python" -m compileall -q -j 0 server euca2ools simulator tui >/dev/null
if [ $# -gt 0 ]; then  # a chosen part of the suite: as asked, in one process
  "$BIN/pytest" -q -p no:cacheprovider "$@"
  exit
fi

# The whole suite: what only shares the machine through free ports, temp dirs and its
# own databases runs on TEST_WORKERS pytest-xdist workers, a test file per worker; what
# uses host-wide things (real QEMU guests, network namespaces, fixed ports, HAProxy,
# slapd, Chromium, tmux) or measures wall-clock behaviour under load runs serially after.
SERIAL=(tests/real tests/multiproc tests/elb tests/elbv2 tests/console/test_browser.py tests/ldap
        tests/tui/test_tui_tmux.py tests/tui/test_tui_behaviour.py
        tests/euca2ools/test_eulb_commands.py tests/tui/test_tui_live_elb.py tests/tui/test_tui_live_elbv2.py
        tests/tui/test_tui_load_balancers.py)  # balancers: HAProxy on the loopback's 127.x
WORKERS=${TEST_WORKERS:-2}
rc=0
if [ "$WORKERS" -gt 1 ]; then
  ignore=()
  for path in "${SERIAL[@]}"; do ignore+=(--ignore "$path"); done
  "$BIN/pytest" -q -p no:cacheprovider -n "$WORKERS" --dist loadfile "${ignore[@]}" tests || rc=$?
  serial_rc=0
  "$BIN/pytest" -q -p no:cacheprovider "${SERIAL[@]}" || serial_rc=$?
  [ "$rc" -ne 0 ] || rc=$serial_rc
else
  "$BIN/pytest" -q -p no:cacheprovider || rc=$?
fi
exit "$rc"
