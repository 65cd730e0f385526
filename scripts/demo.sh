#!/usr/bin/env bash
# The whole story against a real server, in one command: onboarding, a
# purchase order and an invoice, the buyer's signed confirmation, a split
# with a transfer to a second-tier supplier, the supplier's signed offer to
# a bank and the bank's pledge accepting it, the bank's loan, the supplier's
# attempt to offer the same asset to a second bank (refused, with the alert
# e-mails the risk officers receive), the buyer's signed payment through the
# waterfall, the bank's signed receipt, and an independent audit of the ledger.
# Each bank runs its own witness (`anchorfin witness`): a verified copy of
# the ledger that cosigns its heads; the pledge waits for their quorum, an
# auditor checks a certificate of the invoice's encumbrance offline, and a
# fork of the platform's database is refused by the witnesses and e-mailed
# to the banks' risk officers, whose copies still answer with the platform
# down.
#
# It starts its own SMTP sink (aiosmtpd) and server on a fresh temp data
# dir (the embedded SQLite default), or on PostgreSQL when DATABASE_URL is
# set. Every step checks its answer; any deviation exits non-zero.
#
#   scripts/demo.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/anchorfin_demo scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --locked --bin anchorfin
BIN="$PWD/target/debug/anchorfin"
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check aiosmtpd

WORK="$(mktemp -d)"
DATA="$WORK/data"
MAIL="$WORK/mail"
RUN="$(date +%s)-$RANDOM" # keeps legal ids and numbers apart on a reused database
# risk officers' addresses of this run (a reused database has earlier operators, whose officers get copies too)
RISK_OPERATOR="risk-$RUN@operator.example" RISK_BANK_A="risk-$RUN@bank-a.example" RISK_BANK_B="risk-$RUN@bank-b.example"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
SMTP_PORT="$(free_port)"
WITNESS_A_PORT="$(free_port)" WITNESS_B_PORT="$(free_port)" FORK_PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
pids=()
FORK_DATABASE_URL=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$FORK_DATABASE_URL" ]; then
    psql "$(database_named postgres)" -qc "DROP DATABASE IF EXISTS $(basename "${FORK_DATABASE_URL%%\?*}") WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# database_named NAME: DATABASE_URL with another database name
database_named() { python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$1"; }
bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
fail() { printf '\n\033[31mDEMO FAILED: %s\033[0m\n' "$*" >&2; exit 1; }
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); 
for k in sys.argv[1].split("."): d = d[int(k)] if k.isdigit() else d[k]
print(d if not isinstance(d,(dict,list)) else json.dumps(d))' "$1"; }
# expect VALUE EXPECTED WHAT: fails unless the answer's field is what the contract says
expect() { [ "$1" = "$2" ] || fail "$3 is \"$1\", expected \"$2\""; }

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
# Each bank's witness has its own key; the platform is told their verifier
# keys and where they listen, and waits for both (a quorum of 2) when asked.
for bank in a b; do "$BIN" key gen --out "$WORK/witness-$bank.key" >/dev/null; done
VKEY_A="$("$BIN" witness vkey --name bank-a.example/witness --key "$WORK/witness-a.key")"
VKEY_B="$("$BIN" witness vkey --name bank-b.example/witness --key "$WORK/witness-b.key")"
witness_args=(--witness "$VKEY_A=http://127.0.0.1:$WITNESS_A_PORT" --witness "$VKEY_B=http://127.0.0.1:$WITNESS_B_PORT" --witness-quorum 2)
serve() { # DATA_ARGS... -- PORT LOG: starts a server, records its pid in SERVER_PID
  local args=() port log
  while [ "$1" != -- ]; do args+=("$1"); shift; done
  port="$2" log="$3"
  RUST_LOG=warn "$BIN" serve "${args[@]}" --bind "127.0.0.1:$port" --smtp-url "smtp://127.0.0.1:$SMTP_PORT" \
    "${witness_args[@]}" >>"$log" 2>&1 &
  SERVER_PID=$!
  pids+=("$SERVER_PID")
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || fail "the server on port $port did not become ready: $(cat "$log")"
}
serve "${db_args[@]}" -- "$PORT" "$WORK/server.log"
note "server on $BASE, SMTP sink on 127.0.0.1:$SMTP_PORT"

bold "Onboarding: the operator (CLI), its risk officer, two suppliers, a core enterprise, two banks"
note "every party that signs (the suppliers, the buyer, the banks) registers an ed25519 public key"
OPERATOR="$("$BIN" org add "${db_args[@]}" --name "Platform operator" --role operator --legal-id "OPS-$RUN")"
OPERATOR_KEY="$(echo "$OPERATOR" | json api_key)"
"$BIN" risk-officer add "${db_args[@]}" --org "$(echo "$OPERATOR" | json id)" --email "$RISK_OPERATOR" >/dev/null
for who in supplier supplier2 buyer bank-a bank-b; do "$BIN" key gen --out "$WORK/$who.key" >"$WORK/$who.pub"; done
org() { call POST /v1/orgs "$OPERATOR_KEY" 201 "$1"; }
SUPPLIER="$(org "{\"name\": \"Shenzhen Parts\", \"role\": \"supplier\", \"legal_id\": \"SUP1-$RUN\", \"public_keys\": [\"$(cat "$WORK/supplier.pub")\"]}")"
SUPPLIER2="$(org "{\"name\": \"Dongguan Screws\", \"role\": \"supplier\", \"legal_id\": \"SUP2-$RUN\", \"public_keys\": [\"$(cat "$WORK/supplier2.pub")\"]}")"
BUYER="$(org "{\"name\": \"Big Buyer\", \"role\": \"core_enterprise\", \"legal_id\": \"BUY-$RUN\", \"public_keys\": [\"$(cat "$WORK/buyer.pub")\"]}")"
BANK_A="$(org "{\"name\": \"Bank A\", \"role\": \"bank\", \"legal_id\": \"BNKA-$RUN\", \"public_keys\": [\"$(cat "$WORK/bank-a.pub")\"], \"risk_emails\": [\"$RISK_BANK_A\"]}")"
BANK_B="$(org "{\"name\": \"Bank B\", \"role\": \"bank\", \"legal_id\": \"BNKB-$RUN\", \"public_keys\": [\"$(cat "$WORK/bank-b.pub")\"], \"risk_emails\": [\"$RISK_BANK_B\"]}")"
for name in SUPPLIER SUPPLIER2 BUYER BANK_A BANK_B; do
  eval "${name}_ID=\$(echo \"\$$name\" | json id)"
  eval "${name}_KEY=\$(echo \"\$$name\" | json api_key)"
  eval "note \"$name: \$${name}_ID\""
done

bold "Each bank runs one command: its witness keeps a verified copy of the ledger and cosigns its heads"
LOG_VKEY="$(curl -fsS "$BASE/v1/ledger/vkey")"
note "the log's verifier key (GET /v1/ledger/vkey): $LOG_VKEY"
witness() { # a|b PORT API_KEY RISK_EMAIL
  "$BIN" witness --name "bank-$1.example/witness" --key "$WORK/witness-$1.key" --data-dir "$WORK/witness-$1" \
    --bind "127.0.0.1:$2" --log-vkey "$LOG_VKEY" --server "$BASE" --api-key "$3" \
    --smtp-url "smtp://127.0.0.1:$SMTP_PORT" --alert-to "$4" >"$WORK/witness-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "http://127.0.0.1:$2/healthz" >/dev/null || fail "Bank ${1^^}'s witness did not start: $(cat "$WORK/witness-$1.log")"
  note "Bank ${1^^}'s witness on 127.0.0.1:$2, $(grep -m 1 '^witness vkey:' "$WORK/witness-$1.log")"
}
witness a "$WITNESS_A_PORT" "$BANK_A_KEY" "$RISK_BANK_A"
witness b "$WITNESS_B_PORT" "$BANK_B_KEY" "$RISK_BANK_B"

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

bold "The supplier offers its asset to Bank A: a signed offer to pledge up to 60,000.00"
EXPIRES_AT="$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone.utc) + d.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"))')"
offer() { # BANK_ID NONCE EXPECTED -> the answer
  local signature
  signature="$(sign "$WORK/supplier.key" "anchorfin/v1/offer_pledge
subject=asset:$CHILD_ID
bank=$1
amount=60000.00
currency=CNY
expires_at=$EXPIRES_AT
holder=$SUPPLIER_ID
nonce=$2")"
  call POST /v1/offers "$SUPPLIER_KEY" "$3" "{\"asset_id\": \"$CHILD_ID\", \"bank_id\": \"$1\", \"kind\": \"pledge\", \"amount\": \"60000.00\", \"currency\": \"CNY\", \"expires_at\": \"$EXPIRES_AT\", \"signature\": \"$signature\"}" -H "Idempotency-Key: $2"
}
OFFER="$(offer "$BANK_A_ID" "offer-a-$RUN" 201)"
OFFER_ID="$(echo "$OFFER" | json id)"
expect "$(echo "$OFFER" | json status)" open "the new offer's status"
note "offer $OFFER_ID to Bank A: open until $EXPIRES_AT"

bold "Bank A reads the offer and checks the invoice, then accepts with a signed pledge"
SEEN="$(call GET "/v1/offers/$OFFER_ID" "$BANK_A_KEY" 200)"
note "Bank A sees: $(echo "$SEEN" | json kind) of asset $(echo "$SEEN" | json asset_id) up to $(echo "$SEEN" | json amount) $(echo "$SEEN" | json currency), from $(echo "$SEEN" | json holder_id)"
call GET "/v1/encumbrance/$FINGERPRINT" "$BANK_A_KEY" 200 | python3 -c 'import json,sys; d=json.load(sys.stdin); print("   registered=%s confirmed=%s encumbered=%s" % tuple(json.dumps(d[k]) for k in ("registered", "confirmed", "encumbered")))'
pledge() { # BANK_KEYFILE BANK_ID API_KEY OFFER_ID ASSET_ID NONCE EXPECTED -> the answer
  local signature
  signature="$(sign "$1" "anchorfin/v1/pledge
offer=$4
subject=asset:$5
amount=60000.00
currency=CNY
bank=$2
nonce=$6")"
  call POST "/v1/pledges${PLEDGE_QUERY:-}" "$3" "$7" "{\"offer_id\": \"$4\", \"asset_id\": \"$5\", \"amount\": \"60000.00\", \"signature\": \"$signature\"}" -H "Idempotency-Key: $6"
}
PLEDGE_QUERY="?wait=cosigned" # answer once both banks' witnesses have cosigned a head holding the pledge
PLEDGE="$(pledge "$WORK/bank-a.key" "$BANK_A_ID" "$BANK_A_KEY" "$OFFER_ID" "$CHILD_ID" "pledge-a-$RUN" 201)"
LIEN_ID="$(echo "$PLEDGE" | json id)"
expect "$(echo "$PLEDGE" | json status)" active "the pledge's status"
expect "$(echo "$PLEDGE" | json offer_id)" "$OFFER_ID" "the offer the pledge accepted"
note "pledge $LIEN_ID: 60,000.00 to Bank A, accepting offer $OFFER_ID"
AGAIN="$(pledge "$WORK/bank-a.key" "$BANK_A_ID" "$BANK_A_KEY" "$OFFER_ID" "$CHILD_ID" "pledge-a-$RUN" 201)"
expect "$(echo "$AGAIN" | json id)" "$LIEN_ID" "a retry's pledge id (a retry must not create a second pledge)"
note "a retry with the same Idempotency-Key returns the same pledge"
PLEDGE_QUERY=""
COSIGNED="$(echo "$PLEDGE" | json cosigned_checkpoint)"
for bank in a b; do
  [ "$(printf '%s\n' "$COSIGNED" | grep -c "^— bank-$bank.example/witness ")" = 1 ] ||
    fail "the pledge's cosigned checkpoint lacks Bank ${bank^^}'s witness: $COSIGNED"
done
note "answered with the checkpoint both witnesses cosigned (size $(printf '%s\n' "$COSIGNED" | sed -n 2p)): ?wait=cosigned"
TAKEN="$(call GET "/v1/offers/$OFFER_ID" "$SUPPLIER_KEY" 200)"
expect "$(echo "$TAKEN" | json status)" taken "the accepted offer's status"
expect "$(echo "$TAKEN" | json lien_id)" "$LIEN_ID" "the accepted offer's lien"
note "the offer is now taken, by lien $LIEN_ID"

bold "Bank A asks for a certificate of the invoice's encumbrance; an auditor checks it offline"
call GET "/v1/encumbrance/$FINGERPRINT/certificate" "$BANK_A_KEY" 200 >"$WORK/certificate.json"
json statement <"$WORK/certificate.json" | grep -E '^(registered|confirmed|encumbered|tree_size|entries) ' | sed 's/^/   statement: /'
PUBLIC_KEY="$(curl -fsS "$BASE/v1/ledger/public-key" | json public_key)"
"$BIN" certificate verify "$WORK/certificate.json" --log-key "$PUBLIC_KEY" \
  --witness-key "$VKEY_A" --witness-key "$VKEY_B" --witness-quorum 2 >"$WORK/certificate-check.json" ||
  fail "the certificate does not verify offline"
note "anchorfin certificate verify (offline): $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("verified=%s encumbered=%s at tree size %s, %d entries, cosigned by %s" % (d["verified"], d["encumbered"], d["tree_size"], d["entries"], " and ".join(d["cosigned_by"])))' "$WORK/certificate-check.json")"

bold "Bank A records its loan: a signed disbursement of 60,000.00"
TODAY="$(date -u +%Y-%m-%d)"
loan_record() { # KIND(disbursement|repayment) ROUTE AMOUNT VALUE_DATE REFERENCE NONCE -> the answer
  local signature
  signature="$(sign "$WORK/bank-a.key" "anchorfin/v1/$1
lien=$LIEN_ID
amount=$3
currency=CNY
value_date=$4
reference=$5
bank=$BANK_A_ID
nonce=$6")"
  call POST "/v1/pledges/$LIEN_ID/$2" "$BANK_A_KEY" 201 "{\"amount\": \"$3\", \"value_date\": \"$4\", \"reference\": \"$5\", \"signature\": \"$signature\"}" -H "Idempotency-Key: $6"
}
loan() { # API_KEY -> "status disbursed repaid outstanding"
  call GET "/v1/pledges/$LIEN_ID" "$1" 200 | python3 -c 'import json,sys; d=json.load(sys.stdin); l=d["loan"]
print(d["status"], l["disbursed"], l["repaid"], l["outstanding"], len(l["records"]), d["share"])'
}
DISBURSED="$(loan_record disbursement disbursements 60000.00 "$TODAY" "LOAN-$RUN" "disburse-a-$RUN")"
note "disbursement $(echo "$DISBURSED" | json id): 60,000.00 on $TODAY, reference LOAN-$RUN"
LOAN="$(loan "$SUPPLIER_KEY")"
read -r status disbursed repaid outstanding records share <<<"$LOAN"
expect "$status $disbursed $repaid $outstanding $records" "active 60000.00 0.00 60000.00 1" "the lien as its holder reads it (status, disbursed, repaid, outstanding, records)"
note "GET /v1/pledges/$LIEN_ID (as the supplier): $status; disbursed $disbursed, repaid $repaid, outstanding $outstanding CNY"

bold "The supplier offers the same asset to Bank B: refused, and the risk officers are e-mailed"
REFUSED="$(offer "$BANK_B_ID" "offer-b-$RUN" 409)"
expect "$(echo "$REFUSED" | json code)" already_encumbered "the refusal's code"
note "$(echo "$REFUSED" | json code): $(echo "$REFUSED" | json detail)"
pledge_mail() { # one line per duplicate_pledge e-mail to this run's officers: "To: … | Subject: …"
  python3 - "$MAIL" "$RISK_OPERATOR" "$RISK_BANK_A" "$RISK_BANK_B" <<'PY'
import email, glob, sys
for path in sorted(glob.glob(sys.argv[1] + "/new/*")):
    message = email.message_from_bytes(open(path, "rb").read())
    subject = " ".join(str(message["Subject"]).split())
    if "duplicate_pledge" in subject and message["To"] in sys.argv[2:]:
        print("To: %s | Subject: %s" % (message["To"], subject))
PY
}
for _ in $(seq 1 100); do
  [ "$(pledge_mail | wc -l)" -ge 2 ] && break
  sleep 0.2
done
sleep 1 # so that a third copy, if one were sent, would be seen
MAILS="$(pledge_mail)"
count="$(printf '%s' "$MAILS" | grep -c '^To: ' || true)"
[ "$count" -eq 2 ] || fail "expected 2 duplicate_pledge e-mails (operator, Bank A the lienholder; none to Bank B), got $count: $MAILS"
while read -r line; do note "$line"; done <<<"$MAILS"
note "(the refused duplicate registration above was e-mailed to the operator's officer too)"
python3 - "$MAIL" "$BANK_A_ID" "$BANK_B_ID" "Bank B" "$RISK_OPERATOR" "$RISK_BANK_A" "$RISK_BANK_B" <<'PY' || fail "the alert e-mails do not say what the contract says (above)"
import email, glob, json, sys
mail, bank_a, bank_b, bank_b_name, risk_operator, risk_bank_a, risk_bank_b = sys.argv[1:]
copies, problems = {}, []
for path in sorted(glob.glob(mail + "/new/*")):
    message = email.message_from_bytes(open(path, "rb").read())
    to = message["To"]
    if to == risk_bank_b:
        problems.append("Bank B's risk officer was e-mailed: " + message["Subject"])
    if "duplicate_pledge" not in message["Subject"] or to not in (risk_operator, risk_bank_a, risk_bank_b):
        continue
    parts = [part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() in ("text/plain", "text/html")]
    text = next(part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain")
    copies[to] = (text, message["Subject"] + "\n" + "\n".join(parts))
if set(copies) != {risk_operator, risk_bank_a}:
    problems.append("duplicate_pledge copies went to %s, not the operator's and Bank A's risk officers" % sorted(copies))
def facts(text):
    line = next((line for line in text.splitlines() if line.startswith("Facts: ")), "Facts: null")
    return json.loads(line[len("Facts: "):]) or {}
if risk_bank_a in copies:
    text, everything = copies[risk_bank_a]
    for name, leak in (("id", bank_b), ("name", bank_b_name)):
        if leak.lower() in everything.lower():
            problems.append("Bank A's copy names Bank B (its %s %s): %s" % (name, leak, [l for l in everything.splitlines() if leak.lower() in l.lower()][:3]))
    if bank_a not in text:
        problems.append("Bank A's copy does not name Bank A, the lienholder")
    print("   Bank A's copy (the lienholder: names neither Bank B's id nor its name):")
    for line in text.splitlines():
        print("     " + line)
if risk_operator in copies:
    text, _ = copies[risk_operator]
    if facts(text).get("offered_to") != bank_b:
        problems.append("the operator's copy does not name Bank B in its facts (offered_to: %r)" % facts(text).get("offered_to"))
    print("   the operator's copy (complete: offered_to is Bank B):")
    for line in text.splitlines():
        print("     " + line)
for problem in problems:
    print("   PROBLEM: " + problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY

bold "Bank B, never offered anything, learns nothing: 404 like for an id that does not exist"
NO_OFFER="$(pledge "$WORK/bank-b.key" "$BANK_B_ID" "$BANK_B_KEY" "$OFFER_ID" "$CHILD_ID" "pledge-b-$RUN" 404)"
expect "$(echo "$NO_OFFER" | json code)" not_found "Bank B's refused pledge's code"
note "a pledge naming Bank A's offer on the real asset: 404 $(echo "$NO_OFFER" | json code)"
UNKNOWN_ASSET="$(python3 -c 'import uuid; print(uuid.uuid4())')"
NOTHING="$(pledge "$WORK/bank-b.key" "$BANK_B_ID" "$BANK_B_KEY" "$(python3 -c 'import uuid; print(uuid.uuid4())')" "$UNKNOWN_ASSET" "pledge-b2-$RUN" 404)"
[ "$NOTHING" = "$NO_OFFER" ] || fail "Bank B can tell a real asset from none: $NO_OFFER vs $NOTHING"
note "a pledge naming a made-up offer and asset: the very same answer"
call GET "/v1/assets/$CHILD_ID" "$BANK_B_KEY" 404 >/dev/null
note "GET /v1/assets/$CHILD_ID as Bank B: 404"

bold "The buyer pays at maturity with a signed payment: the waterfall"
SIGNATURE="$(sign "$WORK/buyer.key" "anchorfin/v1/payment
asset=$ASSET_ID
amount=120000.00
currency=CNY
paid_on=2027-03-31
buyer=$BUYER_ID
nonce=pay-$RUN")"
PAYMENT="$(call POST "/v1/assets/$ASSET_ID/payments" "$BUYER_KEY" 201 "{\"amount\": \"120000.00\", \"paid_on\": \"2027-03-31\", \"signature\": \"$SIGNATURE\"}" -H "Idempotency-Key: pay-$RUN")"
echo "$PAYMENT" | python3 -c '
import json, sys
names = dict(zip(sys.argv[1:6], ["Shenzhen Parts", "Dongguan Screws", "Big Buyer", "Bank A", "Bank B"]))
for d in json.load(sys.stdin)["distributions"]:
    print("   %-16s %12s CNY  (%s of asset %s)" % (names.get(d["org_id"], d["org_id"]), d["amount"], d["role"], d["asset_id"][:8]))
' "$SUPPLIER_ID" "$SUPPLIER2_ID" "$BUYER_ID" "$BANK_A_ID" "$BANK_B_ID"
expect "$(echo "$PAYMENT" | json distributions.0.org_id) $(echo "$PAYMENT" | json distributions.0.amount)" "$BANK_A_ID 60000.00" "the first distribution (Bank A, paid its 60,000.00 first)"
RECEIVABLE="$(call GET "/v1/receivables/$RECEIVABLE_ID" "$SUPPLIER_KEY" 200)"
expect "$(echo "$RECEIVABLE" | json status)" settled "the receivable's status"
note "receivable settled"
LOAN="$(loan "$BANK_A_KEY")"
read -r status disbursed repaid outstanding records share <<<"$LOAN"
expect "$status $share" "settling 60000.00" "Bank A's lien after the payment (status, share)"
note "Bank A's lien is settling, its share 60,000.00, until it signs its receipt"

bold "Bank A records the loan repaid from its share, then signs its receipt: the lien is settled"
REPAID="$(loan_record repayment repayments 60000.00 2027-03-31 "REPAY-$RUN" "repay-a-$RUN")"
note "repayment $(echo "$REPAID" | json id): 60,000.00 on 2027-03-31, reference REPAY-$RUN"
SIGNATURE="$(sign "$WORK/bank-a.key" "anchorfin/v1/receipt
lien=$LIEN_ID
amount=$share
currency=CNY
bank=$BANK_A_ID")"
RECEIPT="$(call POST "/v1/pledges/$LIEN_ID/receipt" "$BANK_A_KEY" 200 "{\"amount\": \"$share\", \"signature\": \"$SIGNATURE\"}")"
expect "$(echo "$RECEIPT" | json status)" settled "the lien's status after the receipt"
LIEN="$(call GET "/v1/pledges/$LIEN_ID" "$BANK_A_KEY" 200)"
echo "$LIEN" | python3 -c '
import json, sys
d = json.load(sys.stdin); l = d["loan"]
print("   lien %s: %s, %s %s pledged, share %s" % (d["id"], d["status"], d["amount"], d["currency"], d["share"]))
print("   loan: disbursed %s, repaid %s, outstanding %s %s" % (l["disbursed"], l["repaid"], l["outstanding"], l["currency"]))
for r in l["records"]:
    print("     %-12s %12s %s  value %s  ref %s" % (r["kind"], r["amount"], r["currency"], r["value_date"], r["reference"]))
'
LOAN="$(loan "$BANK_A_KEY")"
read -r status disbursed repaid outstanding records share <<<"$LOAN"
expect "$status $disbursed $repaid $outstanding $records" "settled 60000.00 60000.00 0.00 2" "the settled lien (status, disbursed, repaid, outstanding, records)"

bold "Audit: anchorfin verify replays the whole ledger from outside and checks the witnesses' cosignatures"
for _ in $(seq 1 50); do
  [ "$(curl -fsS "$BASE/v1/ledger/head" | json tree_size)" -gt 0 ] && break
  sleep 0.1
done
sleep 1 # let the sequencer sign the last entries
"$BIN" verify --server "$BASE" --public-key "$PUBLIC_KEY" --witness-key "$VKEY_A" --witness-key "$VKEY_B" |
  sed 's/^/   /' || fail "the ledger does not verify"

bold "An insider forks the platform's database: the banks' witnesses refuse the second history and tell their risk officers"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
cp -a "$DATA" "$WORK/fork-data" # the same platform signing key
fork_args=(--data-dir "$WORK/fork-data")
if [ -n "${DATABASE_URL:-}" ]; then
  FORK_DATABASE_URL="$(database_named "$(basename "${DATABASE_URL%%\?*}")_fork")"
  psql "$(database_named postgres)" -qc "CREATE DATABASE $(basename "${FORK_DATABASE_URL%%\?*}") TEMPLATE $(basename "${DATABASE_URL%%\?*}")" ||
    fail "could not copy the database"
  fork_args+=(--database-url "$FORK_DATABASE_URL")
fi
serve "${db_args[@]}" -- "$PORT" "$WORK/server.log"
REAL_PID="$SERVER_PID"
serve "${fork_args[@]}" -- "$FORK_PORT" "$WORK/fork.log"
FORK_PID="$SERVER_PID"
note "the real platform back on $BASE; a fork of it on port $FORK_PORT, same key, same history so far"
head_size() { curl -fsS "$1/v1/ledger/head" | json tree_size; }
cosigned_size() { curl -fsS "$1/v1/ledger/checkpoint" 2>/dev/null | sed -n 2p; }
BASE_BEFORE="$(head_size "$BASE")"
call POST /v1/orgs "$OPERATOR_KEY" 201 "{\"name\": \"Real Newcomer\", \"role\": \"supplier\", \"legal_id\": \"REAL-$RUN\"}" >/dev/null
for _ in $(seq 1 150); do
  size="$(head_size "$BASE")"
  [ "$size" -gt "$BASE_BEFORE" ] && [ "$(cosigned_size "$BASE")" = "$size" ] && break
  sleep 0.2
done
[ "$(cosigned_size "$BASE")" = "$(head_size "$BASE")" ] || fail "the witnesses did not cosign the real log's new head"
note "the real log grows to $(head_size "$BASE") entries; both witnesses cosign it"
FORKED_AT="$(date +%s.%N)"
BASE="http://127.0.0.1:$FORK_PORT" call POST /v1/orgs "$OPERATOR_KEY" 201 "{\"name\": \"Phantom Supplier\", \"role\": \"supplier\", \"legal_id\": \"FAKE-$RUN\"}" >/dev/null
note "the fork appends another entry at the same index and submits its head to the same witnesses"
inconsistency_mail() { # one line per log_inconsistency e-mail to the banks' officers
  python3 - "$MAIL" "$RISK_BANK_A" "$RISK_BANK_B" <<'PY'
import mailbox, sys
for message in mailbox.Maildir(sys.argv[1], create=False):
    if "log_inconsistency" in (message["Subject"] or "") and message["To"] in sys.argv[2:]:
        print("%s | %s" % (message["To"], " ".join(str(message["Subject"]).split())))
PY
}
for _ in $(seq 1 150); do
  [ "$(inconsistency_mail | wc -l)" -ge 2 ] && break
  sleep 0.2
done
REPORTED_IN="$(python3 -c "import time; print('%.1f' % (time.time() - $FORKED_AT))")"
[ "$(inconsistency_mail | wc -l)" -ge 2 ] || fail "the banks' risk officers were not e-mailed about the fork: $(inconsistency_mail)"
inconsistency_mail | sort -u | sed 's/^/   e-mail: /'
note "refused and reported to both banks within $REPORTED_IN s of the fork's append"
for bank in a b; do
  port="$([ $bank = a ] && echo "$WITNESS_A_PORT" || echo "$WITNESS_B_PORT")"
  evidence="$(curl -fsS "http://127.0.0.1:$port/evidence" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("evidence", d) if isinstance(d, dict) else d; print(len(d))')"
  [ "$evidence" -ge 1 ] || fail "Bank ${bank^^}'s witness kept no evidence"
  note "Bank ${bank^^}'s witness keeps $evidence piece(s) of evidence, one per forked head it was shown (however often the fork resubmits): the signed head, the proof it came with, its own cosigned head"
done
[ "$(cosigned_size "http://127.0.0.1:$FORK_PORT")" != "$(head_size "http://127.0.0.1:$FORK_PORT")" ] ||
  fail "the fork's head was cosigned"
note "the fork's head never gets a cosigned checkpoint"

bold "The platform goes down; each bank's own copy still answers for the asset"
kill "$FORK_PID" "$REAL_PID"
wait "$FORK_PID" "$REAL_PID" 2>/dev/null || true
curl -fsS "$BASE/readyz" >/dev/null 2>&1 && fail "the platform is still up"
"$BIN" witness show --data-dir "$WORK/witness-a" "$CHILD_ID" >"$WORK/copy.json" || fail "Bank A's copy does not answer"
python3 - "$WORK/copy.json" <<'PY' || fail "Bank A's copy does not tell the asset's story"
import json, sys
answer = json.load(open(sys.argv[1]))
entries = answer.get("entries", [])
kinds = [entry.get("kind") for entry in entries]
print("   anchorfin witness show (platform down): %d entries: %s" % (len(entries), ", ".join(str(kind) for kind in kinds)))
if not any(kind and "pledge" in kind for kind in kinds):
    sys.exit("no pledge in Bank A's copy")
PY

bold "Demo complete: every step answered as expected"
