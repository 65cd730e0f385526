#!/usr/bin/env bash
# The whole story against a real server, in one command: onboarding, a
# purchase order and an invoice, the buyer's signed confirmation, a split
# with a transfer to a second-tier supplier, a pledge, a refused second
# pledge with the alert e-mail a risk officer receives, the buyer's payment
# through the waterfall, and an independent audit of the ledger.
#
# It starts its own SMTP sink (aiosmtpd) and server on a fresh temp data
# dir (the embedded SQLite default), or on PostgreSQL when DATABASE_URL is
# set. Every step checks its answer; any deviation exits non-zero.
#
#   scripts/demo.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/anchorfin_demo scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin anchorfin
BIN="$PWD/target/debug/anchorfin"
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check aiosmtpd

WORK="$(mktemp -d)"
DATA="$WORK/data"
MAIL="$WORK/mail"
RUN="$(date +%s)-$RANDOM" # keeps legal ids and numbers apart on a reused database
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
SMTP_PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
fail() { printf '\n\033[31mDEMO FAILED: %s\033[0m\n' "$*" >&2; exit 1; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); 
for k in sys.argv[1].split("."): d = d[int(k)] if k.isdigit() else d[k]
print(d if not isinstance(d,(dict,list)) else json.dumps(d))' "$1"; }

# call METHOD PATH KEY EXPECTED_STATUS [BODY] [EXTRA CURL ARGS...] -> body on stdout
call() {
  local method="$1" path="$2" key="$3" expected="$4" body="${5:-}"
  shift 5 || shift $#
  local args=(-sS -o "$WORK/body" -w '%{http_code}' -X "$method" "$BASE$path" -H "Authorization: Bearer $key")
  [ -n "$body" ] && args+=(-H 'content-type: application/json' --data "$body")
  local status
  status="$(curl "${args[@]}" "$@")"
  if [ "$status" != "$expected" ]; then
    fail "$method $path answered $status, expected $expected: $(cat "$WORK/body")"
  fi
  cat "$WORK/body"
}

sign() { printf '%s' "$2" | "$BIN" sign --key "$1"; }
db_args=(--data-dir "$DATA")
[ -n "${DATABASE_URL:-}" ] && db_args+=(--database-url "$DATABASE_URL")

bold "Start an SMTP sink and the server ($([ -n "${DATABASE_URL:-}" ] && echo PostgreSQL || echo embedded SQLite))"
python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox "$MAIL" >/dev/null 2>&1 &
pids+=($!)
RUST_LOG=warn "$BIN" serve "${db_args[@]}" --bind "127.0.0.1:$PORT" --smtp-url "smtp://127.0.0.1:$SMTP_PORT" \
  >"$WORK/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$BASE/readyz" >/dev/null || fail "the server did not become ready: $(cat "$WORK/server.log")"
note "server on $BASE, SMTP sink on 127.0.0.1:$SMTP_PORT"

bold "Onboarding: the operator (CLI), its risk officer, two suppliers, a core enterprise, two banks"
OPERATOR="$("$BIN" org add "${db_args[@]}" --name "Platform operator" --role operator --legal-id "OPS-$RUN")"
OPERATOR_KEY="$(echo "$OPERATOR" | json api_key)"
"$BIN" risk-officer add "${db_args[@]}" --org "$(echo "$OPERATOR" | json id)" --email "risk@operator.example" >/dev/null
for who in buyer bank-a bank-b; do "$BIN" key gen --out "$WORK/$who.key" >"$WORK/$who.pub"; done
org() { call POST /v1/orgs "$OPERATOR_KEY" 201 "$1"; }
SUPPLIER="$(org "{\"name\": \"Shenzhen Parts\", \"role\": \"supplier\", \"legal_id\": \"SUP1-$RUN\"}")"
SUPPLIER2="$(org "{\"name\": \"Dongguan Screws\", \"role\": \"supplier\", \"legal_id\": \"SUP2-$RUN\"}")"
BUYER="$(org "{\"name\": \"Big Buyer\", \"role\": \"core_enterprise\", \"legal_id\": \"BUY-$RUN\", \"public_keys\": [\"$(cat "$WORK/buyer.pub")\"]}")"
BANK_A="$(org "{\"name\": \"Bank A\", \"role\": \"bank\", \"legal_id\": \"BNKA-$RUN\", \"public_keys\": [\"$(cat "$WORK/bank-a.pub")\"], \"risk_emails\": [\"risk@bank-a.example\"]}")"
BANK_B="$(org "{\"name\": \"Bank B\", \"role\": \"bank\", \"legal_id\": \"BNKB-$RUN\", \"public_keys\": [\"$(cat "$WORK/bank-b.pub")\"], \"risk_emails\": [\"risk@bank-b.example\"]}")"
for name in SUPPLIER SUPPLIER2 BUYER BANK_A BANK_B; do
  eval "${name}_ID=\$(echo \"\$$name\" | json id)"
  eval "${name}_KEY=\$(echo \"\$$name\" | json api_key)"
  eval "note \"$name: \$${name}_ID\""
done

bold "A purchase order, acknowledged by the buyer's signature"
PO="$(call POST /v1/purchase-orders "$SUPPLIER_KEY" 201 "{\"buyer_id\": \"$BUYER_ID\", \"po_number\": \"PO-$RUN\", \"issue_date\": \"2026-10-01\", \"currency\": \"CNY\", \"amount\": \"200000.00\"}")"
PO_ID="$(echo "$PO" | json id)"
SIGNATURE="$(sign "$WORK/buyer.key" "anchorfin/v1/acknowledge_po
purchase_order=$PO_ID
fingerprint=$(echo "$PO" | json fingerprint)
amount=200000.00
currency=CNY
buyer=$BUYER_ID")"
call POST "/v1/purchase-orders/$PO_ID/acknowledgement" "$BUYER_KEY" 200 "{\"signature\": \"$SIGNATURE\"}" >/dev/null
note "PO $PO_ID acknowledged"

bold "An invoice against it; the same invoice written differently is refused"
INVOICE="$(call POST /v1/receivables "$SUPPLIER_KEY" 201 "{\"buyer_id\": \"$BUYER_ID\", \"invoice_number\": \"INV-$RUN/0001\", \"issue_date\": \"2026-11-01\", \"due_date\": \"2027-03-31\", \"currency\": \"CNY\", \"amount\": \"120000.00\", \"purchase_order_id\": \"$PO_ID\"}")"
RECEIVABLE_ID="$(echo "$INVOICE" | json id)"
FINGERPRINT="$(echo "$INVOICE" | json fingerprint)"
note "receivable $RECEIVABLE_ID, fingerprint $FINGERPRINT"
call POST /v1/receivables "$SUPPLIER_KEY" 409 "{\"buyer_id\": \"$BUYER_ID\", \"invoice_number\": \"inv $RUN 0001\", \"issue_date\": \"2026-11-01\", \"due_date\": \"2027-03-31\", \"currency\": \"CNY\", \"amount\": \"120000.00\"}" >/dev/null
note "\"inv $RUN 0001\" refused: duplicate_registration"

bold "The buyer confirms with its ed25519 key: the receivable becomes an asset"
SIGNATURE="$(sign "$WORK/buyer.key" "anchorfin/v1/confirm
receivable=$RECEIVABLE_ID
fingerprint=$FINGERPRINT
amount=120000.00
currency=CNY
due_date=2027-03-31
supplier=$SUPPLIER_ID
buyer=$BUYER_ID")"
CONFIRMED="$(call POST "/v1/receivables/$RECEIVABLE_ID/confirmation" "$BUYER_KEY" 200 "{\"signature\": \"$SIGNATURE\"}")"
ASSET_ID="$(echo "$CONFIRMED" | json asset_id)"
note "asset $ASSET_ID, held by the supplier"

bold "Split: 80,000 kept, 40,000 transferred to the second-tier supplier"
SPLIT="$(call POST "/v1/assets/$ASSET_ID/split" "$SUPPLIER_KEY" 201 "{\"parts\": [{\"amount\": \"80000.00\"}, {\"amount\": \"40000.00\", \"transfer_to\": \"$SUPPLIER2_ID\"}]}")"
CHILD_ID="$(echo "$SPLIT" | json children.0.id)"
[ "$(echo "$SPLIT" | json children.1.holder_id)" = "$SUPPLIER2_ID" ] || fail "the transferred part is not held by the second supplier"
note "child $CHILD_ID (80,000.00) stays with the supplier"

bold "Bank A checks the invoice it was shown, then takes a pledge"
call GET "/v1/encumbrance/$FINGERPRINT" "$BANK_A_KEY" 200 | python3 -c 'import json,sys; d=json.load(sys.stdin); print("   registered=%s confirmed=%s encumbered=%s" % tuple(json.dumps(d[k]) for k in ("registered", "confirmed", "encumbered")))'
pledge() { # BANK_KEYFILE BANK_ID API_KEY NONCE EXPECTED
  local signature
  signature="$(sign "$1" "anchorfin/v1/pledge
asset=$CHILD_ID
amount=60000.00
currency=CNY
bank=$2
nonce=$4")"
  call POST /v1/pledges "$3" "$5" "{\"asset_id\": \"$CHILD_ID\", \"amount\": \"60000.00\", \"signature\": \"$signature\"}" -H "Idempotency-Key: $4"
}
PLEDGE="$(pledge "$WORK/bank-a.key" "$BANK_A_ID" "$BANK_A_KEY" "demo-a-$RUN" 201)"
note "pledge $(echo "$PLEDGE" | json id): 60,000.00 to Bank A"
AGAIN="$(pledge "$WORK/bank-a.key" "$BANK_A_ID" "$BANK_A_KEY" "demo-a-$RUN" 201)"
[ "$(echo "$AGAIN" | json id)" = "$(echo "$PLEDGE" | json id)" ] || fail "a retry created a second pledge"
note "a retry with the same Idempotency-Key returns the same pledge"

bold "Bank B tries to pledge the same asset: refused, and risk officers are e-mailed"
REFUSED="$(pledge "$WORK/bank-b.key" "$BANK_B_ID" "$BANK_B_KEY" "demo-b-$RUN" 409)"
note "$(echo "$REFUSED" | json code): $(echo "$REFUSED" | json detail)"
pledge_mail() { grep -l '^Subject: .*duplicate_pledge' "$MAIL"/new/* 2>/dev/null || true; }
for _ in $(seq 1 100); do
  [ "$(pledge_mail | wc -l)" -ge 3 ] && break
  sleep 0.2
done
sleep 1
count="$(pledge_mail | wc -l)"
[ "$count" -eq 3 ] || fail "expected 3 duplicate_pledge e-mails (operator, Bank A, Bank B), got $count"
for file in $(pledge_mail); do
  note "$(grep -m1 '^To: ' "$file") | $(grep -m1 '^Subject: ' "$file")"
done
note "(the refused duplicate registration above was e-mailed to the operator's officer too)"
note "the operator's copy:"
python3 - "$MAIL" <<'PY'
import email, glob, sys
for path in glob.glob(sys.argv[1] + "/new/*"):
    message = email.message_from_bytes(open(path, "rb").read())
    if message["To"] == "risk@operator.example" and "duplicate_pledge" in message["Subject"]:
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                for line in part.get_payload(decode=True).decode().splitlines():
                    print("     " + line)
PY

bold "The buyer pays at maturity: the waterfall"
PAYMENT="$(call POST "/v1/assets/$ASSET_ID/payments" "$BUYER_KEY" 201 '{"amount": "120000.00", "paid_on": "2027-03-31"}')"
echo "$PAYMENT" | python3 -c '
import json, sys
names = dict(zip(sys.argv[1:6], ["Shenzhen Parts", "Dongguan Screws", "Big Buyer", "Bank A", "Bank B"]))
for d in json.load(sys.stdin)["distributions"]:
    print("   %-16s %12s CNY  (%s of asset %s)" % (names.get(d["org_id"], d["org_id"]), d["amount"], d["role"], d["asset_id"][:8]))
' "$SUPPLIER_ID" "$SUPPLIER2_ID" "$BUYER_ID" "$BANK_A_ID" "$BANK_B_ID"
[ "$(echo "$PAYMENT" | json distributions.0.amount)" = "60000.00" ] || fail "Bank A was not paid its 60,000.00 first"
[ "$(call GET "/v1/receivables/$RECEIVABLE_ID" "$SUPPLIER_KEY" 200 | json status)" = settled ] || fail "the receivable did not settle"
note "receivable settled"

bold "Audit: anchorfin verify replays the whole ledger from outside"
PUBLIC_KEY="$(curl -fsS "$BASE/v1/ledger/public-key" | json public_key)"
for _ in $(seq 1 50); do
  [ "$(curl -fsS "$BASE/v1/ledger/head" | json tree_size)" -gt 0 ] && break
  sleep 0.1
done
sleep 1 # let the sequencer sign the last entries
"$BIN" verify --server "$BASE" --public-key "$PUBLIC_KEY" | sed 's/^/   /' || fail "the ledger does not verify"

bold "Demo complete: every step answered as expected"
