#!/usr/bin/env python3
"""Load, faults and checks behind the reliability scripts.

scripts/crash-cycles.sh, pg-outage.sh, failover.sh and full-disk.sh set up
what they break (a server, a PostgreSQL cluster, a small file system) and
run this program, which:

- onboards a supplier, a buyer and banks over the API and runs a load of
  clients, each taking invoices through the whole story: registration,
  the buyer's signed confirmation, the supplier's signed offer to one bank,
  that bank's signed pledge, and for a share of them the supplier's offer
  of the pledged asset to a second bank (409 `already_encumbered`, with a
  true alert);
- journals every request: its Idempotency-Key, and each answer; a request
  without a definite answer (no answer, 5xx) is retried with the same key
  until it gets one, and a retry whose answer is not the one expected
  (a 409 where a 201 was due) is counted;
- injects the scenario's faults (kill -9 of the server, PostgreSQL stopped
  and started, the primary killed and the standby promoted, a full disk),
  measuring the answers while they last and the time to the first 2xx after;
- checks afterwards: every acknowledged (2xx) write present through the API,
  every invoice registered at most once, no asset with two active liens
  (SQL), every alert explained by a deliberate attempt (the others are false
  alerts, and a `duplicate_registration` alert naming the supplier's own
  retried invoice is counted apart), signed tree heads before and after each
  fault consistent (RFC 9162 consistency proofs, ed25519 signatures), and
  `anchorfin verify` over the whole ledger.

It prints one JSON document of figures and exits 1 when an invariant fails.
Standard library only, but for `cryptography` (ed25519).
"""

from __future__ import annotations

import argparse
import base64
import collections
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

DUE_DATE = "2030-12-31"
PLEDGED = "900.00"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# HTTP


class Client:
    """One keep-alive connection to the server (one per thread)."""

    def __init__(self, base: str, timeout: float = 10.0):
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.last_text = ""  # the last answer's body as text

    def request(self, method: str, path: str, key: str | None = None, body=None,
                idempotency_key: str | None = None) -> tuple[int, object, float]:
        """(status, parsed body, seconds); status 0 when no answer came."""
        headers = {}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        began = time.monotonic()
        self.last_text = ""
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, None, time.monotonic() - began
        elapsed = time.monotonic() - began
        self.last_text = raw.decode(errors="replace")
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, parsed, elapsed

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class Party:
    def __init__(self, created: dict, signing: Ed25519PrivateKey):
        self.id = created["id"]
        self.api_key = created["api_key"]
        self.signing = signing

    def sign(self, message: str) -> str:
        return self.signing.sign(message.encode()).hex()


def onboard(client: Client, operator_key: str, role: str, legal_id: str) -> Party:
    signing = Ed25519PrivateKey.generate()
    public = signing.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    body = {"name": legal_id, "role": role, "legal_id": legal_id, "public_keys": [public]}
    for _ in range(100):
        status, answer, _ = client.request("POST", "/v1/orgs", operator_key, body, f"onboard-{legal_id}")
        if status == 201:
            return Party(answer, signing)
        if status not in (0, 500, 502, 503, 504):
            raise SystemExit(f"onboarding {legal_id}: {status} {answer}")
        time.sleep(0.2)
    raise SystemExit(f"onboarding {legal_id}: no answer")


# --------------------------------------------------------------------------
# The journal


class Journal:
    """Every request's key and answers, and the measurements of the faults."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged: list[dict] = []  # {op, key, id, ...} of each 2xx
        self.statuses = collections.Counter()
        self.retried = 0  # requests sent more than once
        self.abandoned = 0  # requests still without a definite answer when the run stopped
        self.retry_diverged: list[dict] = []  # a retry answered other than the work's first answer
        self.unexpected: list[dict] = []  # definite answers that are not the expected ones
        self.conflicts: list[dict] = []  # deliberate second offers (true alerts)
        self.retried_registrations: dict[str, str] = {}  # invoice number -> idempotency key
        self.invoices: list[str] = []  # every invoice number tried
        self.answers: list[tuple[float, int, float, str | None]] = []  # (sent at, status, seconds, outcome)
        self.first_2xx_after: dict[str, float] = {}

    def record_answer(self, sent_at: float, status: int, seconds: float, body) -> None:
        outcome = body.get("outcome") if isinstance(body, dict) else None
        with self.lock:
            self.statuses[status] += 1
            self.answers.append((sent_at, status, seconds, outcome))


# --------------------------------------------------------------------------
# The load


class Load:
    """Clients taking invoices through the story until told to stop."""

    def __init__(self, base: str, parties: dict, run: str, clients: int, conflict_percent: int,
                 journal: Journal, pace_seconds: float = 0.0):
        self.base = base
        self.parties = parties
        self.run = run
        self.clients = clients
        self.conflict_percent = conflict_percent
        self.journal = journal
        self.pace_seconds = pace_seconds
        self.running = threading.Event()  # cleared: hold every request (while the checks run)
        self.running.set()
        self.stopping = threading.Event()  # finish the current invoice, start no other
        self.abandon = threading.Event()  # give up retrying (the run's time is out)
        self.threads: list[threading.Thread] = []
        self.counter = 0
        self.counter_lock = threading.Lock()

    def start(self) -> None:
        for index in range(self.clients):
            thread = threading.Thread(target=self.worker, args=(index,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def pause(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def stop(self, grace_seconds: float) -> None:
        self.running.set()
        self.stopping.set()
        deadline = time.monotonic() + grace_seconds
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.abandon.set()
        for thread in self.threads:
            thread.join(5)

    def next_number(self) -> int:
        with self.counter_lock:
            self.counter += 1
            return self.counter

    def send(self, client: Client, op: str, method: str, path: str, key: str, body, idempotency_key: str,
             expected: int) -> tuple[int, object, bool]:
        """Sends until a definite answer: (status, body, retried). Definite is
        anything but no answer and 5xx; the same Idempotency-Key each time."""
        attempts = 0
        backoff = 0.05
        while True:
            attempts += 1
            self.running.wait()
            sent_at = time.time()
            status, answer, seconds = client.request(method, path, key, body, idempotency_key)
            self.journal.record_answer(sent_at, status, seconds, answer)
            if status and status < 500 and status != 429:
                if attempts > 1:
                    with self.journal.lock:
                        self.journal.retried += 1
                return status, answer, attempts > 1
            if self.abandon.is_set():
                with self.journal.lock:
                    self.journal.abandoned += 1
                return status, answer, attempts > 1
            time.sleep(backoff)
            backoff = min(backoff * 2, 0.5)

    def worker(self, index: int) -> None:
        client = Client(self.base)
        supplier, buyer, banks = self.parties["supplier"], self.parties["buyer"], self.parties["banks"]
        while not self.stopping.is_set():
            number = self.next_number()
            try:
                self.story(client, supplier, buyer, banks, number)
            except Abandoned:
                return
            if self.pace_seconds:
                time.sleep(self.pace_seconds)

    def step(self, client: Client, op: str, method: str, path: str, key: str, body, idempotency_key: str,
             expected: int, code: str | None = None):
        status, answer, retried = self.send(client, op, method, path, key, body, idempotency_key, expected)
        if status == 0 or status >= 500:
            raise Abandoned()
        good = status == expected and (code is None or (isinstance(answer, dict) and answer.get("code") == code))
        if not good:
            record = {"op": op, "key": idempotency_key, "status": status,
                      "code": answer.get("code") if isinstance(answer, dict) else None, "retried": retried}
            with self.journal.lock:
                (self.journal.retry_diverged if retried else self.journal.unexpected).append(record)
            return None
        return answer

    def acknowledge(self, record: dict) -> None:
        with self.journal.lock:
            self.journal.acknowledged.append(record)

    def story(self, client: Client, supplier: Party, buyer: Party, banks: list, number: int) -> None:
        run = self.run
        invoice = f"REL-{run}-{number}"
        amount = f"{1000 + number // 100}.{number % 100:02d}"
        with self.journal.lock:
            self.journal.invoices.append(invoice)
        key = f"reg-{run}-{number}"
        body = {"buyer_id": buyer.id, "invoice_number": invoice, "issue_date": "2026-11-01",
                "due_date": DUE_DATE, "currency": "CNY", "amount": amount}
        status, answer, retried = self.send(client, "register", "POST", "/v1/receivables", supplier.api_key,
                                            body, key, 201)
        if retried:
            with self.journal.lock:
                self.journal.retried_registrations[invoice] = key
        if status == 0 or status >= 500:
            raise Abandoned()
        if status != 201:
            record = {"op": "register", "key": key, "invoice": invoice, "status": status,
                      "code": answer.get("code") if isinstance(answer, dict) else None, "retried": retried}
            with self.journal.lock:
                (self.journal.retry_diverged if retried else self.journal.unexpected).append(record)
            return
        receivable, fingerprint = answer["id"], answer["fingerprint"]
        self.acknowledge({"op": "register", "key": key, "id": receivable, "invoice": invoice})

        message = (f"anchorfin/v1/confirm\nreceivable={receivable}\nfingerprint={fingerprint}\namount={amount}\n"
                   f"currency=CNY\ndue_date={DUE_DATE}\nsupplier={supplier.id}\nbuyer={buyer.id}")
        key = f"conf-{run}-{number}"
        answer = self.step(client, "confirm", "POST", f"/v1/receivables/{receivable}/confirmation", buyer.api_key,
                           {"signature": buyer.sign(message)}, key, 200)
        if answer is None:
            return
        asset = answer["asset_id"]
        self.acknowledge({"op": "confirm", "key": key, "id": receivable, "asset": asset})

        bank = banks[number % len(banks)]
        offer = self.offer(client, supplier, bank, asset, f"off-{run}-{number}", 201, None)
        if offer is None:
            return
        self.acknowledge({"op": "offer", "key": f"off-{run}-{number}", "id": offer["id"], "asset": asset})

        key = f"pl-{run}-{number}"
        message = (f"anchorfin/v1/pledge\noffer={offer['id']}\nsubject=asset:{asset}\namount={PLEDGED}\n"
                   f"currency=CNY\nbank={bank.id}\nnonce={key}")
        answer = self.step(client, "pledge", "POST", "/v1/pledges", bank.api_key,
                           {"offer_id": offer["id"], "asset_id": asset, "amount": PLEDGED,
                            "signature": bank.sign(message)}, key, 201)
        if answer is None:
            return
        self.acknowledge({"op": "pledge", "key": key, "id": answer["id"], "asset": asset, "bank": bank.id})

        if len(banks) > 1 and number % 100 < self.conflict_percent:
            other = banks[(number + 1) % len(banks)]
            key = f"dbl-{run}-{number}"
            with self.journal.lock:
                self.journal.conflicts.append({"asset": asset, "key": key})
            # Refused with its alert: checked with the alerts, not a write.
            self.offer(client, supplier, other, asset, key, 409, "already_encumbered")

    def offer(self, client: Client, holder: Party, bank: Party, asset: str, nonce: str, expected: int,
              code: str | None):
        expires_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400))
        message = (f"anchorfin/v1/offer_pledge\nsubject=asset:{asset}\nbank={bank.id}\namount={PLEDGED}\n"
                   f"currency=CNY\nexpires_at={expires_at}\nholder={holder.id}\nnonce={nonce}")
        body = {"asset_id": asset, "bank_id": bank.id, "kind": "pledge", "amount": PLEDGED, "currency": "CNY",
                "expires_at": expires_at, "signature": holder.sign(message)}
        return self.step(client, "offer", "POST", "/v1/offers", holder.api_key, body, nonce, expected, code)


class Abandoned(Exception):
    """The run's time is out while a request still has no definite answer."""


# --------------------------------------------------------------------------
# The ledger


def leaf_less_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list) -> bool:
    """RFC 9162 §2.1.4.2."""
    if first > second or first == 0:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = ([first_root] if first & (first - 1) == 0 else []) + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = leaf_less_node(c, fr)
            sr = leaf_less_node(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = leaf_less_node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def decode_hash(text: str) -> bytes:
    if len(text) == 64:
        return bytes.fromhex(text)
    return base64.b64decode(text)


class Heads:
    """Signed tree heads taken around each fault, checked against each other."""

    def __init__(self, base: str, public_key_hex: str):
        self.client = Client(base)
        self.public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        self.taken: list[dict] = []
        self.failures: list[str] = []
        self.checked = 0

    def take(self, attempts: int = 50) -> dict | None:
        for _ in range(attempts):
            status, head, _ = self.client.request("GET", "/v1/ledger/head")
            if status == 200:
                note, _, _ = head["checkpoint"].partition("\n\n")
                try:
                    self.public.verify(bytes.fromhex(head["signature"]), (note + "\n").encode())
                except Exception:  # noqa: BLE001 - any failure is a bad signature
                    self.failures.append(f"head of size {head['tree_size']}: bad signature")
                self.taken.append(head)
                return head
            time.sleep(0.2)
        return None

    def check(self, before: dict | None, after: dict | None) -> None:
        """The tree after a fault extends the one signed before it."""
        if before is None or after is None:
            self.failures.append("a head could not be read around a fault")
            return
        first, second = before["tree_size"], after["tree_size"]
        self.checked += 1
        if second < first:
            self.failures.append(f"the tree shrank from {first} to {second}")
            return
        if first == 0:
            return
        proof: list = []
        if first != second:
            status, answer, _ = self.client.request(
                "GET", f"/v1/ledger/proofs/consistency?first={first}&second={second}")
            if status != 200:
                self.failures.append(f"no consistency proof from {first} to {second}: {status}")
                return
            proof = [bytes.fromhex(h) for h in answer["hashes"]]
        if not verify_consistency(first, second, decode_hash(before["root_hash"]),
                                  decode_hash(after["root_hash"]), proof):
            self.failures.append(f"heads {first} and {second} are not consistent")


# --------------------------------------------------------------------------
# Checks after recovery


class Checker:
    def __init__(self, args, journal: Journal, parties: dict):
        self.args = args
        self.journal = journal
        self.parties = parties
        self.local = threading.local()  # a client per checking thread
        self.checked_upto = 0
        self.lost: list[dict] = []

    def get(self, path: str, key: str):
        if not hasattr(self.local, "client"):
            self.local.client = Client(self.args.url, timeout=30)
        for _ in range(100):
            status, answer, _ = self.local.client.request("GET", path, key)
            if status not in (0, 429, 500, 502, 503, 504):
                return status, answer
            time.sleep(0.2)
        return 0, None

    def present(self, record: dict) -> bool:
        supplier, buyer = self.parties["supplier"], self.parties["buyer"]
        op = record["op"]
        if op == "register":
            status, answer = self.get(f"/v1/receivables/{record['id']}", supplier.api_key)
            return status == 200 and answer["invoice_number"] == record["invoice"]
        if op == "confirm":
            status, answer = self.get(f"/v1/receivables/{record['id']}", buyer.api_key)
            return status == 200 and answer["status"] != "registered" and answer["asset_id"] == record["asset"]
        if op == "offer":
            status, answer = self.get(f"/v1/offers/{record['id']}", supplier.api_key)
            return status == 200 and answer["asset_id"] == record["asset"]
        if op == "pledge":
            bank = next(b for b in self.parties["banks"] if b.id == record["bank"])
            status, answer = self.get(f"/v1/pledges/{record['id']}", bank.api_key)
            return status == 200 and answer["asset_id"] == record["asset"] and answer["status"] == "active"
        return False

    def acknowledged_present(self) -> int:
        """Checks the writes acknowledged since the last call; returns how many."""
        with self.journal.lock:
            batch = self.journal.acknowledged[self.checked_upto:]
            self.checked_upto = len(self.journal.acknowledged)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for record, present in zip(batch, pool.map(self.present, batch)):
                if not present:
                    self.lost.append(record)
        return len(batch)

    def alerts(self) -> dict:
        """Every alert the operator was told of, sorted into expected and false."""
        risk_key = self.args.risk_key
        alerts, cursor = [], None
        while True:
            path = "/v1/alerts?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            status, page = self.get(path, risk_key)
            if status != 200:
                raise SystemExit(f"GET /v1/alerts: {status} {page}")
            alerts.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        conflict_assets = {c["asset"] for c in self.journal.conflicts}
        supplier = self.parties["supplier"].id
        retried = self.journal.retried_registrations
        kinds = collections.Counter()
        false_alerts, false_retry_duplicates, expected = [], [], 0
        for alert in alerts:
            kinds[alert["kind"]] += 1
            if alert["kind"] in ("duplicate_pledge", "po_double_financing") and alert["subject_id"] in conflict_assets:
                expected += 1
                continue
            facts = alert.get("facts") or {}
            if (alert["kind"] == "duplicate_registration" and alert["attempting_org_id"] == supplier
                    and alert["existing_party_id"] == supplier and facts.get("invoice_number") in retried):
                false_retry_duplicates.append({"alert": alert["id"], "invoice": facts.get("invoice_number")})
                continue
            false_alerts.append({"alert": alert["id"], "kind": alert["kind"], "subject": alert["subject_id"]})
        missing_true = len(conflict_assets) - len({a["subject_id"] for a in alerts
                                                   if a["subject_id"] in conflict_assets})
        return {"total": len(alerts), "by_kind": dict(kinds), "expected": expected,
                "false_alerts": false_alerts, "false_retry_duplicates": false_retry_duplicates,
                "deliberate_attempts_without_alert": missing_true}

    def sql(self, query: str) -> list:
        if self.args.sqlite:
            connection = sqlite3.connect(f"file:{self.args.sqlite}?mode=ro", uri=True, timeout=30)
            try:
                return connection.execute(query).fetchall()
            finally:
                connection.close()
        output = subprocess.run(["psql", "-XAtq", "-F", "\t", self.args.postgres, "-c", query],
                                check=True, capture_output=True, text=True, timeout=120).stdout
        return [tuple(line.split("\t")) for line in output.splitlines() if line]

    def database(self) -> dict:
        doubled = self.sql("SELECT count(*) FROM (SELECT asset_id FROM liens WHERE status = 'active' "
                           "AND asset_id IS NOT NULL GROUP BY asset_id HAVING count(*) > 1) d")[0][0]
        supplier = self.parties["supplier"].id.replace("'", "")
        twice = self.sql("SELECT count(*) FROM (SELECT invoice_number FROM receivables WHERE supplier_id = "
                         f"'{supplier}' GROUP BY invoice_number HAVING count(*) > 1) d")[0][0]
        return {"double_liens": int(doubled), "invoices_registered_twice": int(twice)}

    def verify(self, public_key: str, state: str) -> dict:
        began = time.monotonic()
        result = subprocess.run([self.args.anchorfin, "verify", "--server", self.args.url, "--public-key",
                                 public_key, "--state", state], capture_output=True, text=True, timeout=600)
        return {"passed": result.returncode == 0, "seconds": round(time.monotonic() - began, 1),
                "output": (result.stdout + result.stderr).strip()[-600:]}


# --------------------------------------------------------------------------
# Scenarios


def wait_readyz(base: str, timeout_seconds: float, status_wanted: int = 200) -> float | None:
    """Seconds until /readyz answers `status_wanted`, None if it never did."""
    client = Client(base, timeout=2)
    began = time.monotonic()
    while time.monotonic() - began < timeout_seconds:
        status, _, _ = client.request("GET", "/readyz")
        if status == status_wanted:
            return round(time.monotonic() - began, 3)
        time.sleep(0.02)
    return None


def first_2xx_after(journal: Journal, moment: float) -> float | None:
    """Seconds from `moment` (wall clock) to the first 2xx answer to a request sent after it."""
    with journal.lock:
        times = [sent + seconds for sent, status, seconds, _ in journal.answers
                 if sent >= moment and 200 <= status < 300]
    return round(min(times) - moment, 3) if times else None


def answers_between(journal: Journal, start: float, end: float) -> dict:
    """The answers to requests sent between two wall-clock moments, and the
    latencies of the 503s by `outcome` (`not_applied`: answered at once
    because the database was known to be down; `unknown`: the request was
    under way when it was lost)."""
    with journal.lock:
        window = [(status, seconds, outcome) for sent, status, seconds, outcome in journal.answers
                  if start <= sent < end]
    statuses = collections.Counter(status for status, _, _ in window)
    unavailable = sorted(seconds for status, seconds, _ in window if status == 503)
    by_outcome = collections.defaultdict(list)
    for status, seconds, outcome in window:
        if status == 503:
            by_outcome[str(outcome)].append(seconds)

    def milliseconds(values: list) -> dict:
        values = sorted(values)
        return {"count": len(values), "p99_ms": round(values[int(0.99 * (len(values) - 1))] * 1000, 1),
                "max_ms": round(values[-1] * 1000, 1)}

    return {"requests": len(window), "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "max_503_ms": round(unavailable[-1] * 1000, 1) if unavailable else None,
            "p99_503_ms": milliseconds(unavailable)["p99_ms"] if unavailable else None,
            "503_by_outcome": {outcome: milliseconds(values) for outcome, values in sorted(by_outcome.items())}}


def shell(command: str, timeout: float = 120) -> None:
    log(f"$ {command}")
    subprocess.run(["bash", "-c", command], check=True, timeout=timeout)


class Server:
    """The server process of the crash cycles, started and killed here."""

    def __init__(self, command: str, log_path: str):
        self.command = command
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        output = open(self.log_path, "a")
        self.process = subprocess.Popen(["bash", "-c", f"exec {self.command}"], stdout=output, stderr=output)
        output.close()
        with open(self.log_path + ".pid", "w") as pid:
            pid.write(f"{self.process.pid}\n")

    def kill(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None


def setup(args) -> tuple[dict, Journal]:
    client = Client(args.url)
    run = args.run
    parties = {
        "supplier": onboard(client, args.operator_key, "supplier", f"REL-SUP-{run}"),
        "buyer": onboard(client, args.operator_key, "core_enterprise", f"REL-BUY-{run}"),
        "banks": [onboard(client, args.operator_key, "bank", f"REL-BANK-{run}-{i}") for i in range(args.banks)],
    }
    return parties, Journal()


def platform_public_key(base: str, key_file: str | None) -> str:
    """The key heads must be signed with: the data dir's own when given
    (the API's must be the same), else the one the API names."""
    status, answer, _ = Client(base).request("GET", "/v1/ledger/public-key")
    if status != 200:
        raise SystemExit(f"GET /v1/ledger/public-key: {status}")
    if key_file:
        with open(key_file) as seed:
            signing = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed.read().strip()))
        own = signing.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        if own != answer["public_key"]:
            raise SystemExit(f"the server names the key {answer['public_key']}, its data dir holds {own}")
    return answer["public_key"]


def run_scenario(args) -> dict:
    server = None
    if args.scenario == "crash":
        server = Server(args.server_cmd, args.server_log)
        server.start()
    if wait_readyz(args.url, 60) is None:
        raise SystemExit("the server did not become ready")
    public_key = platform_public_key(args.url, args.platform_key_file)
    parties, journal = setup(args)
    checker = Checker(args, journal, parties)
    heads = Heads(args.url, public_key)
    state = os.path.join(args.work, "verify-state.json")
    verify_before = checker.verify(public_key, state)
    load = Load(args.url, parties, args.run, args.clients, args.conflict_percent, journal)
    load.start()
    figures: dict = {"scenario": args.scenario}
    faults: list[dict] = []
    began = time.monotonic()
    try:
        if args.scenario == "crash":
            for cycle in range(args.cycles):
                time.sleep(random.uniform(args.min_load_seconds, args.max_load_seconds))
                before = heads.take()
                killed_at = time.time()
                server.kill()
                time.sleep(random.uniform(0.0, 0.3))
                server.start()
                ready = wait_readyz(args.url, 60)
                if ready is None:
                    raise SystemExit(f"cycle {cycle}: the server did not come back: see {args.server_log}")
                # The checks run with the clients held, so that a cycle's
                # checks do not grow with the load that ran during the last.
                load.pause()
                after = heads.take()
                heads.check(before, after)
                checked = checker.acknowledged_present()
                load.resume()
                faults.append({"cycle": cycle, "restart_to_ready_s": round(ready, 3), "killed_at": killed_at})
                if cycle % 10 == 0 or cycle == args.cycles - 1:
                    log(f"cycle {cycle + 1}/{args.cycles}: ready in {ready:.2f}s, {checked} writes checked, "
                        f"{len(checker.lost)} lost, tree {after['tree_size'] if after else '?'}")
        else:
            time.sleep(args.min_load_seconds)
            before = heads.take()
            fault_at = time.time()
            shell(args.fault_cmd)
            fault_done = time.time()
            readyz_down = None
            down_from = fault_done + 1.0
            if args.scenario in ("outage", "full-disk"):
                readyz_down = wait_readyz(args.url, 20, 503)
                if readyz_down is not None:
                    down_from = fault_done + readyz_down
            time.sleep(args.fault_seconds)
            recover_at = time.time()
            if args.recover_cmd:
                shell(args.recover_cmd)
            recovered = time.time()
            ready = wait_readyz(args.url, 120)
            time.sleep(args.min_load_seconds)
            after = heads.take()
            heads.check(before, after)
            checker.acknowledged_present()
            fault = {
                "sequencer_resumed": bool(before and after and after["tree_size"] > before["tree_size"]),
                "fault_seconds": round(recover_at - fault_at, 2),
                "readyz_false_after_s": readyz_down,
                "during": answers_between(journal, down_from, recover_at),
                "all_during": answers_between(journal, fault_at, recovered),
                "recovery_cmd_s": round(recovered - recover_at, 2),
                "ready_after_recovery_s": round(ready, 3) if ready is not None else None,
                "first_2xx_after_recovery_s": first_2xx_after(journal, recovered),
            }
            faults.append(fault)
            figures["fault"] = fault
    finally:
        load.stop(grace_seconds=30)
    figures["seconds"] = round(time.monotonic() - began, 1)
    if args.scenario == "crash":
        readiness = sorted(f["restart_to_ready_s"] for f in faults)
        figures["cycles"] = len(faults)
        figures["restart_to_ready_s"] = {"median": readiness[len(readiness) // 2] if readiness else None,
                                         "max": readiness[-1] if readiness else None}
        figures["first_2xx_after_restart_s"] = max(
            (first_2xx_after(journal, f["killed_at"]) or 0 for f in faults), default=None)
    # After the run: retry nothing more; check everything once again.
    checker.checked_upto = 0
    checker.lost = []
    acknowledged = checker.acknowledged_present()
    last = heads.take()
    heads.check(heads.taken[0] if heads.taken else None, last)
    unsequenced = ledger_drained(args.url, args.operator_key)
    alerts = checker.alerts()
    database = checker.database()
    verify_after = checker.verify(public_key, state)
    ops = collections.Counter(r["op"] for r in journal.acknowledged)
    figures.update({
        "acknowledged_writes": acknowledged,
        "acknowledged_by_op": dict(ops),
        "invoices": len(journal.invoices),
        "requests": sum(journal.statuses.values()),
        "statuses": {str(k): v for k, v in sorted(journal.statuses.items())},
        "retried_requests": journal.retried,
        "abandoned_without_answer": journal.abandoned,
        "lost": len(checker.lost),
        "lost_examples": checker.lost[:5],
        "retries_answered_otherwise": len(journal.retry_diverged),
        "retries_answered_otherwise_by": dict(collections.Counter(
            f"{r['op']} {r['status']} {r['code']}" for r in journal.retry_diverged)),
        "retry_examples": journal.retry_diverged[:5],
        "unexpected_answers": len(journal.unexpected),
        "unexpected_examples": journal.unexpected[:5],
        "deliberate_second_offers": len(journal.conflicts),
        "alerts": {k: v for k, v in alerts.items() if k not in ("false_alerts", "false_retry_duplicates")},
        "false_alerts": len(alerts["false_alerts"]) + len(alerts["false_retry_duplicates"]),
        "false_retry_duplicate_registrations": len(alerts["false_retry_duplicates"]),
        "false_alert_examples": (alerts["false_alerts"] + alerts["false_retry_duplicates"])[:5],
        "double_liens": database["double_liens"],
        "invoices_registered_twice": database["invoices_registered_twice"],
        "heads_checked": heads.checked,
        "head_failures": heads.failures,
        "verify_before": verify_before["passed"],
        "verify": verify_after,
        "tree_size": last["tree_size"] if last else None,
        "unsequenced_at_end": unsequenced,
    })
    if server is not None:
        server.kill()
    return figures


def ledger_drained(base: str, operator_key: str, timeout_seconds: float = 30) -> int | None:
    """Waits for the sequencer to sign every queued entry; the entries still
    waiting at the end (None when /metrics could not be read)."""
    client = Client(base)
    waiting = None
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        _, _, _ = client.request("GET", "/metrics", operator_key)
        for line in client.last_text.splitlines():
            if line.startswith("anchorfin_ledger_unsequenced_entries"):
                waiting = int(float(line.split()[-1]))
        if waiting == 0:
            return 0
        time.sleep(0.5)
    return waiting


def failures_of(figures: dict, args) -> list[str]:
    failed = []
    if figures["lost"]:
        failed.append(f"{figures['lost']} acknowledged writes lost")
    if figures["false_alerts"]:
        failed.append(f"{figures['false_alerts']} false alerts "
                      f"({figures['false_retry_duplicate_registrations']} duplicate_registration on retries)")
    if figures["double_liens"]:
        failed.append(f"{figures['double_liens']} assets with two active liens")
    if figures["invoices_registered_twice"]:
        failed.append(f"{figures['invoices_registered_twice']} invoices registered twice")
    if figures["head_failures"]:
        failed.append("heads: " + "; ".join(figures["head_failures"][:3]))
    if not figures["verify"]["passed"]:
        failed.append("anchorfin verify failed: " + figures["verify"]["output"])
    if figures["unexpected_answers"]:
        failed.append(f"{figures['unexpected_answers']} unexpected answers")
    if figures["alerts"]["deliberate_attempts_without_alert"]:
        failed.append(f"{figures['alerts']['deliberate_attempts_without_alert']} deliberate attempts not alerted")
    if not figures["acknowledged_writes"]:
        failed.append("no write was acknowledged")
    if figures["unsequenced_at_end"] != 0:
        failed.append(f"the ledger did not drain: {figures['unsequenced_at_end']} entries wait for a signed head")
    fault = figures.get("fault")
    if fault:
        if not fault["sequencer_resumed"]:
            failed.append("no head was signed over new entries after the fault")
        if fault["first_2xx_after_recovery_s"] is None:
            failed.append("no 2xx after recovery")
        # Even a request under way when the database was lost is answered
        # once the prober (every 1 s, 2 s timeout) has marked it down.
        slowest = fault["all_during"]["max_503_ms"]
        if slowest is not None and slowest > args.max_any_503_ms:
            failed.append(f"a 503 took {slowest} ms during the fault (limit {args.max_any_503_ms})")
        if args.scenario in ("outage", "full-disk"):
            # Failures must be clean 503s; a write that still fits (SQLite
            # reusing its WAL's pages on a full disk) may succeed, and must
            # then be there afterwards like any other.
            unclean = {k: v for k, v in fault["all_during"]["statuses"].items()
                       if k == "0" or (k.startswith("5") and k != "503")}
            if unclean:
                failed.append(f"answers other than clean 503s during the fault: {unclean}")
            if fault["readyz_false_after_s"] is None:
                failed.append("/readyz never turned false")
            at_once = fault["during"]["503_by_outcome"].get("not_applied")
            if at_once and at_once["max_ms"] > args.max_503_ms:
                failed.append(f"a 503 not_applied took {at_once['max_ms']} ms (limit {args.max_503_ms})")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=["crash", "outage", "failover", "full-disk"])
    parser.add_argument("--url", required=True, help="the server (or balancer) the clients call")
    parser.add_argument("--operator-key", required=True)
    parser.add_argument("--risk-key", required=True, help="an operator's risk officer's key (reads alerts)")
    parser.add_argument("--anchorfin", required=True, help="the anchorfin binary (for verify)")
    parser.add_argument("--work", required=True, help="a directory for the run's files")
    database = parser.add_mutually_exclusive_group(required=True)
    database.add_argument("--postgres", help="URL of the database, for the SQL checks")
    database.add_argument("--sqlite", help="path of the database file, for the SQL checks")
    parser.add_argument("--platform-key-file", help="the data dir's platform-signing.key")
    parser.add_argument("--run", default=uuid.uuid4().hex[:8])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--banks", type=int, default=3)
    parser.add_argument("--conflict-percent", type=int, default=10)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--min-load-seconds", type=float, default=0.5)
    parser.add_argument("--max-load-seconds", type=float, default=2.0)
    parser.add_argument("--server-cmd", help="crash: the command that starts the server")
    parser.add_argument("--server-log", help="crash: where the server's output goes")
    parser.add_argument("--fault-cmd", help="outage, failover, full-disk: the command that breaks")
    parser.add_argument("--recover-cmd", help="outage, full-disk: the command that repairs")
    parser.add_argument("--fault-seconds", type=float, default=5.0)
    parser.add_argument("--max-503-ms", type=float, default=100.0,
                        help="the slowest 503 not_applied while the database is known down")
    parser.add_argument("--max-any-503-ms", type=float, default=3500.0,
                        help="the slowest 503 of any kind from the fault to the repair")
    parser.add_argument("--out", help="write the figures (JSON) here too")
    args = parser.parse_args()
    figures = run_scenario(args)
    failed = failures_of(figures, args)
    figures["failures"] = failed
    text = json.dumps(figures, indent=2, default=str)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text + "\n")
    print(text)
    for failure in failed:
        log(f"FAILED: {failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
