#!/usr/bin/env bash
# The disaster-recovery drill of docs/backup.md, timed: SQLite hub -> lost -> PostgreSQL hub.
# Needs a local PostgreSQL (createdb/dropdb as postgres on 127.0.0.1) and thereyet installed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd /tmp && rm -rf /tmp/drill && mkdir -p /tmp/drill/secrets
export THEREYET_ADMIN_TOKEN=ty_drill_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
export OPS_CHAT_URL=mmost://127.0.0.1:9/hooks ALICE_SMS_URL=json://127.0.0.1:9/sms GITHUB_WEBHOOK_SECRET=whsec-drill-0123456789
cp -r "$HERE/config" /tmp/drill/conf
echo "Bearer drill" > /tmp/drill/secrets/backup-token
sed -i 's|file:/run/secrets/backup-token|file:/tmp/drill/secrets/backup-token|' /tmp/drill/conf/jobs/backup.toml
PORT=$(python -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
H="Authorization: Bearer $THEREYET_ADMIN_TOKEN"
wait_up() { for _ in $(seq 300); do curl -sf "$1/api/v1/health" >/dev/null && return 0; sleep 0.1; done; return 1; }

python -m thereyet.cli.main server --data-dir /tmp/drill/old --port "$PORT" --log-level warning 2>/dev/null & OLD=$!
wait_up "$URL"
python -m thereyet.cli.main apply /tmp/drill/conf --url "$URL" --secrets-out /tmp/drill/secrets/generated.jsonl >/dev/null
for n in $(seq 50); do
  run=$(curl -sf -H "$H" -H 'Content-Type: application/json' "$URL/api/v1/runs" -d '{"job":"customer-export","room":"ops"}' | python -c 'import json,sys;print(json.load(sys.stdin)["id"])')
  curl -sf -H "$H" -H 'Content-Type: application/json' "$URL/api/v1/runs/$run/events" -d '{"events":[{"id":"p1","type":"progress","done":5,"total":10}]}' >/dev/null
  curl -sf -H "$H" -H 'Content-Type: application/json' "$URL/api/v1/runs/$run/finish" -d '{"status":"succeeded"}' >/dev/null
  curl -sf -H "$H" -H 'Content-Type: application/json' "$URL/api/v1/rooms/ops/messages" -d "{\"text\":\"note $n\"}" >/dev/null
done
head -c 2000000 /dev/urandom > /tmp/drill/shot.png
curl -sf -H "$H" -H 'Content-Type: image/png' --data-binary @/tmp/drill/shot.png "$URL/api/v1/rooms/ops/attachments?name=shot.png" >/dev/null
curl -sf -H "$H" "$URL/api/v1/rooms/ops/messages?limit=500" > /tmp/drill/messages-before.json

t0=$(date +%s.%N)
python -m thereyet.cli.main backup /tmp/drill/hub.tgz --data-dir /tmp/drill/old
t1=$(date +%s.%N)
kill "$OLD"; wait "$OLD" || true
rm -rf /tmp/drill/old                                   # the disk is lost
t2=$(date +%s.%N)
createdb -h 127.0.0.1 -U postgres thereyet_drill
DB=postgresql+psycopg://postgres@127.0.0.1:5432/thereyet_drill
python -m thereyet.cli.main restore /tmp/drill/hub.tgz --db "$DB"
python -m thereyet.cli.main server --db "$DB" --data-dir /tmp/drill/new --port "$PORT" --log-level warning 2>/dev/null & NEW=$!
wait_up "$URL"
python -m thereyet.cli.main plan /tmp/drill/conf --url "$URL" >/dev/null   # exit 0: the config still describes it
t3=$(date +%s.%N)
curl -sf -H "$H" "$URL/api/v1/rooms/ops/messages?limit=500" > /tmp/drill/messages-after.json
# Equal as JSON (PostgreSQL keeps an object's keys in its own order).
python -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); sys.exit(a!=b)' \
  /tmp/drill/messages-before.json /tmp/drill/messages-after.json && echo "messages: the same"
url=$(python -c 'import json;m=json.load(open("/tmp/drill/messages-after.json"))["messages"];print([x for x in m if x["kind"]=="attachment"][0]["data"]["attachment"]["url"])')
curl -sf -H "$H" "$URL$url" | cmp - /tmp/drill/shot.png && echo "attachment: byte for byte"
kill "$NEW"; wait "$NEW" || true
dropdb -h 127.0.0.1 -U postgres --force thereyet_drill
python - "$t0" "$t1" "$t2" "$t3" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:])
print(f"backup {t1-t0:.1f} s; from the lost disk to a restored hub on PostgreSQL with a clean plan: {t3-t2:.1f} s")
PY
