#!/bin/sh
# make run: the daemon replicating a demo database to a local file replica
# under ./demo/, with a small writer adding a row every second.  Ctrl-C
# stops both (the daemon does its final sync first).
set -eu
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC="$ROOT/$BUILD/litestream-c"
DEMO="$ROOT/demo"
mkdir -p "$DEMO"
DB="$DEMO/app.db"
sqlite3 "$DB" "PRAGMA journal_mode=wal;
CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, at TEXT NOT NULL, note TEXT);" >/dev/null
# A free local port for the Prometheus metrics.
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 9464)
cat > "$DEMO/litestream-c.ini" <<EOC
; Demo configuration written by 'make run'.  See litestream-c.ini for every key.
[daemon]
metrics = 127.0.0.1:$PORT

[db "$DB"]
replica = file://$DEMO/replica
sync-interval = 1s
snapshot-interval = 1h
EOC
chmod 600 "$DEMO/litestream-c.ini"

# The writer stops by itself after an hour, or when the daemon exits.
(
	i=0
	while [ $i -lt 3600 ] && [ ! -e "$DEMO/.stop" ]; do
		sqlite3 -cmd ".timeout 5000" "$DB" \
		    "INSERT INTO events(at, note) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ','now'), 'demo row $i')" || true
		i=$((i + 1))
		sleep 1
	done
) &
WRITER=$!
rm -f "$DEMO/.stop"
trap 'touch "$DEMO/.stop"; wait $WRITER 2>/dev/null; rm -f "$DEMO/.stop"' EXIT

cat <<EOT

  litestream-c is replicating $DB
  to file://$DEMO/replica (a row is added every second).

  In another terminal:
    $LSC generations file://$DEMO/replica
    $LSC restore -o /tmp/restored.db file://$DEMO/replica
    sqlite3 /tmp/restored.db 'SELECT count(*), max(at) FROM events'
    curl -s http://127.0.0.1:$PORT/metrics | grep ^litestream_c_
    kill -HUP \$(pgrep -f 'litestream-c replicate -c $DEMO')   # reload the config

  Press Ctrl-C to stop (the daemon ships what is left first).

EOT
"$LSC" replicate -c "$DEMO/litestream-c.ini" || true
