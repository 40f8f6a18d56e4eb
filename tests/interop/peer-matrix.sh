#!/usr/bin/env bash
# Proves the peer scripts against each other before (and independently of) ThrillSuite.Grpc:
# every server script (python, node) x every client script x every case. Exits non-zero on any failure.
# usage: tests/interop/peer-matrix.sh        (needs the peers build/test installs)
set -uo pipefail
cd "$(dirname "$0")"
PY=${INTEROP_PYTHON:-/usr/bin/python3}
NODE=${INTEROP_NODE:-node}
CASES="unary streaming deadline error large unimplemented"
fails=0 passes=0

cmd() { # cmd KIND ROLE -> the interpreter and script
  case $1 in python) echo "$PY python/$2.py" ;; node) echo "$NODE node/$2.js" ;; esac
}

for server in python node; do
  exec {out}< <(exec $(cmd $server server) --port 0)
  spid=$!
  if ! read -r -t 30 -u "$out" ready port || [ "$ready" != READY ]; then
    echo "FAIL: $server server printed no READY line"; kill -TERM "$spid" 2>/dev/null; exit 1
  fi
  for client in python node; do
    for c in $CASES; do
      if line=$(timeout 60 $(cmd $client client) --target "127.0.0.1:$port" --case "$c"); then
        passes=$((passes + 1)); echo "ok   $client client -> $server server: $c"
      else
        fails=$((fails + 1)); echo "FAIL $client client -> $server server: $c: $line"
      fi
    done
  done
  kill -TERM "$spid"; wait "$spid"; rc=$?
  exec {out}<&-
  if [ $rc -ne 0 ]; then fails=$((fails + 1)); echo "FAIL: $server server exited $rc on SIGTERM"; fi
done
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
