#!/usr/bin/env bash
# Set up and run the demo: a fresh SQLite file, demo data, the server, the worker and a local
# webhook inbox that prints (and verifies) every notification. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DB=demo.db
HOST=${RUNXIN_DEMO_HOST:-127.0.0.1}
PORT=${RUNXIN_DEMO_PORT:-8000}
INBOX_PORT=${RUNXIN_DEMO_INBOX_PORT:-8099}
export RUNXIN_DATABASE_URL="sqlite:///$PWD/$DB"
export RUNXIN_SECRET_KEY=${RUNXIN_SECRET_KEY:-demo-only-secret-key-not-for-production}
export RUNXIN_BASE_URL="http://$HOST:$PORT"
WEBHOOK_SECRET=demo-webhook-secret
PASSWORD=runxin-demo

rm -f "$DB" "$DB-wal" "$DB-shm" demo-codes.txt
"$BIN/runxin" db upgrade
"$BIN/runxin" demo --students 60 --codes-file demo-codes.txt --staff-password "$PASSWORD" \
  --webhook-url "http://127.0.0.1:$INBOX_PORT/runxin" --webhook-secret "$WEBHOOK_SECRET"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$BIN/runxin" inbox --port "$INBOX_PORT" --secret "$WEBHOOK_SECRET" & pids+=($!)
"$BIN/runxin" worker & pids+=($!)
"$BIN/runxin" serve --host "$HOST" --port "$PORT" & pids+=($!)

for _ in $(seq 1 100); do
  if "$BIN/python" -c "import httpx,sys; httpx.get('http://$HOST:$PORT/healthz').raise_for_status()" 2>/dev/null; then break; fi
  sleep 0.2
done
CODE=$(head -n 1 demo-codes.txt)
cat <<MSG

==============================================================================
 Runxin 润心 demo is running on http://$HOST:$PORT   (Ctrl-C stops it)

 Student access code:  $CODE      (all 60 codes: demo-codes.txt)
 Student link:         http://$HOST:$PORT/s/$CODE
 Start the screening through the API:
   curl -s -X POST http://$HOST:$PORT/api/v1/student/sessions \\
        -H 'Content-Type: application/json' -d '{"access_code": "$CODE"}'

 Staff pages:          http://$HOST:$PORT/staff/login
 Counsellor login:     counsellor1 / $PASSWORD   (also counsellor2, lead1, lead2, district1,
                       headteacher1 … headteacher6, auditor1 for the audit log)
   curl -s -X POST http://$HOST:$PORT/api/v1/auth/login \\
        -H 'Content-Type: application/json' \\
        -d '{"username": "counsellor1", "password": "$PASSWORD"}'

 API reference:        http://$HOST:$PORT/schema   (OpenAPI: /schema/openapi.json)
 Notifications arrive at the local inbox on port $INBOX_PORT and are printed here.
==============================================================================
MSG
wait
