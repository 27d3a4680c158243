#!/usr/bin/env bash
# Instructions per ask and per tell of redis-actors, counted by valgrind's callgrind:
# unlike CPU time, the same from run to run on this shared machine. For each of the
# sender and the receiver it runs two workloads (N and 4N messages) with that process
# under callgrind and the other one normal, and takes the difference per message,
# so start-up cancels out.
#
#   bash bench/instructions/main.sh <dist/src/index.js of a checkout> [N]
#
# Compare two checkouts by running it for each. Needs valgrind and redis-server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dist=$(realpath "$1"); n=${2:-10000}
dir=$(mktemp -d); trap 'kill $(cat "$dir/r.pid") 2>/dev/null; rm -rf "$dir"' EXIT
redis-server --port 0 --unixsocket "$dir/r.sock" --save '' --appendonly no --daemonize yes \
  --pidfile "$dir/r.pid" --dir "$dir" >/dev/null
for _ in $(seq 1 50); do [ -S "$dir/r.sock" ] && break; sleep 0.1; done
url="unix://$dir/r.sock"

wait_ready() { for _ in $(seq 1 600); do grep -q READY "$1" && return; sleep 0.1; done; }
collected() { grep -o 'Collected : [0-9]*' "$1" | awk '{print $3}'; }

# $1 side (sender|receiver), $2 sender script, $3 messages: instructions of that side
count() {
  local log="$dir/$1-$3.log" resp="$dir/resp-$1-$3.log"
  if [ "$1" = sender ]; then
    node "$here/responder.mjs" "$dist" "$url" >"$resp" 2>&1 & local rpid=$!
    wait_ready "$resp"
    valgrind --tool=callgrind --callgrind-out-file=/dev/null node "$here/$2" "$dist" "$url" "$3" >"$log" 2>&1
    kill -TERM "$rpid"; wait "$rpid" 2>/dev/null || true
  else
    valgrind --tool=callgrind --callgrind-out-file=/dev/null node "$here/responder.mjs" "$dist" "$url" >"$log" 2>&1 & local rpid=$!
    wait_ready "$log"
    node "$here/$2" "$dist" "$url" "$3" >/dev/null 2>&1
    kill -TERM "$rpid"; wait "$rpid" 2>/dev/null || true
  fi
  collected "$log"
}

for shape in ask tell; do
  script=$([ $shape = ask ] && echo requester-fixed.mjs || echo teller-fixed.mjs)
  total=0
  for side in sender receiver; do
    small=$(count $side $script "$n"); large=$(count $side $script $((4 * n)))
    per=$(( (large - small) / (3 * n) ))
    total=$((total + per))
    echo "$shape $side: $per instructions per $shape"
  done
  echo "$shape total: $total instructions per $shape (sender + receiver)"
done
