#!/usr/bin/env python3
"""The reliability scripts' figures: one summary line, or a section of
docs/RELIABILITY.md (its own `## heading`, replaced in place, the file's
other sections kept)."""

import argparse
import datetime
import json
import os
import subprocess

INTRO = """# Reliability

Measured figures of the tests that break things on purpose, each under its
own heading, written by the test itself: what docs/PRODUCT.md §10 promises
and how far it is shown.

The failure scripts — `scripts/crash-cycles.sh`, `scripts/pg-outage.sh`,
`scripts/failover.sh`, `scripts/full-disk.sh` — write their sections with
`--report` (CI runs their short forms, which write nothing). Each run drives a load of clients
through the whole story (registration, the buyer's signed confirmation, the
supplier's signed offer, the bank's signed pledge, and for one invoice in
ten a second offer of the pledged asset, refused with a true alert), journals
every request with its Idempotency-Key, retries the ones without a definite
answer with the same key, breaks something, and then checks: every
acknowledged (2xx) write present through the API, no invoice registered
twice, no asset with two active liens, every alert explained by a deliberate
attempt, signed tree heads before and after each fault consistent (RFC 9162
consistency proofs), and `anchorfin verify` over the whole ledger. What the
checks are and how the scripts are run is in `scripts/reliability/harness.py`
and in each script's header; the topology of the failover run is in
[`DEPLOYMENT.md`](DEPLOYMENT.md).
"""


def summary(figures: dict) -> str:
    parts = [f"{figures['scenario']}:"]
    if "cycles" in figures:
        parts.append(f"{figures['cycles']} cycles,")
    parts.append(f"{figures['acknowledged_writes']} acknowledged writes, {figures['lost']} lost,")
    parts.append(f"{figures['false_alerts']} false alerts "
                 f"({figures['false_retry_duplicate_registrations']} duplicate_registration on retries),")
    parts.append(f"{figures['double_liens']} double liens,")
    parts.append(f"{figures['retries_answered_otherwise']} retries answered otherwise,")
    parts.append(f"verify {'passed' if figures['verify']['passed'] else 'FAILED'},")
    parts.append(f"{figures['heads_checked']} head pairs consistent" if not figures["head_failures"]
                 else "heads INCONSISTENT")
    if "first_2xx_after_restart_s" in figures:
        parts.append(f", restart to ready median {figures['restart_to_ready_s']['median']} s, "
                     f"kill to first 2xx at most {figures['first_2xx_after_restart_s']} s")
    fault = figures.get("fault")
    if fault:
        at_once = fault["during"]["503_by_outcome"].get("not_applied", {})
        parts.append(f", first 2xx {fault['first_2xx_after_recovery_s']} s after recovery, "
                     f"503 not_applied max {at_once.get('max_ms')} ms, any 503 max {fault['all_during']['max_503_ms']} ms")
    parts.append(f"— {'FAILED: ' + '; '.join(figures['failures']) if figures['failures'] else 'ok'}")
    return " ".join(parts).replace(" ,", ",")


def section(heading: str, figures: dict, command: str) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    # The figures' own file, written by the runs before this one, does not count.
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":(exclude)docs/RELIABILITY.md"], capture_output=True, text=True).stdout.strip()
    rows = [
        ("acknowledged (2xx) writes", figures["acknowledged_writes"]),
        ("… of which", ", ".join(f"{k} {v}" for k, v in sorted(figures["acknowledged_by_op"].items()))),
        ("requests sent (all answers)", f"{figures['requests']} ({figures['statuses']}; 0 = no answer)"),
        ("requests retried with the same Idempotency-Key", figures["retried_requests"]),
        ("requests still without a definite answer at the end", figures.get("abandoned_without_answer", 0)),
        ("acknowledged writes lost", figures["lost"]),
        ("retries answered other than the first answer", figures["retries_answered_otherwise"]),
        ("… by request and answer", ", ".join(f"{k}: {v}" for k, v in
                                             sorted(figures.get("retries_answered_otherwise_by", {}).items()))
         or "—"),
        ("false alerts", figures["false_alerts"]),
        ("… of them `duplicate_registration` on the supplier's own retried invoice",
         figures["false_retry_duplicate_registrations"]),
        ("deliberate second offers of a pledged asset (409, must alert)", figures.get("deliberate_second_offers")),
        ("true alerts (of those offers)", figures["alerts"]["expected"]),
        ("assets with two active liens", figures["double_liens"]),
        ("invoices registered twice", figures["invoices_registered_twice"]),
        ("signed heads before/after a fault checked consistent",
         f"{figures['heads_checked']} pairs, {len(figures['head_failures'])} failures"),
        ("`anchorfin verify` (whole ledger, against the first head)",
         f"{'passed' if figures['verify']['passed'] else 'FAILED'} (tree size {figures['tree_size']})"),
    ]
    if "cycles" in figures:
        rows.insert(0, ("kill -9 cycles", figures["cycles"]))
        rows.append(("restart to /readyz 200, median / max (s)",
                     f"{figures['restart_to_ready_s']['median']} / {figures['restart_to_ready_s']['max']}"))
        rows.append(("kill to first 2xx, worst cycle (s)", figures["first_2xx_after_restart_s"]))
    fault = figures.get("fault")
    if fault:
        during = fault["during"]
        readyz = fault["readyz_false_after_s"]
        rows += [("fault lasted (s)", fault["fault_seconds"])]
        if readyz is not None:
            rows += [("/readyz false after the fault (s)", readyz)]
        rows += [
            ("answers to requests sent " + ("while /readyz was false" if readyz is not None
                                            else "from 1 s into the fault to the repair"),
             f"{during['requests']}: {during['statuses']}"),
        ] + [
            (f"… 503 `{outcome}`: count, p99 / max latency (ms)" if outcome != "None"
             else "… 503 without `outcome` (the balancer's own: no process ready): count, p99 / max latency (ms)",
             f"{values['count']}, {values['p99_ms']} / {values['max_ms']}")
            for outcome, values in during["503_by_outcome"].items()
        ] + [
            ("all answers from the fault to the repair", f"{fault['all_during']['statuses']}, "
             f"max 503 {fault['all_during']['max_503_ms']} ms"),
            ("/readyz 200 after the repair (s)", fault["ready_after_recovery_s"]),
            ("first 2xx after the repair (s)", fault["first_2xx_after_recovery_s"]),
        ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    verdict = ("all invariants held" if not figures["failures"]
               else "**invariants failed:** " + "; ".join(figures["failures"]))
    return f"""## {heading}

{datetime.date.today()}, commit `{commit}`{' (with uncommitted changes)' if dirty else ''},
`{command}` ({figures['seconds']} s of load).

| figure | value |
|---|---|
{table}

Result: {verdict}.
"""


def write(path: str, heading: str, text: str) -> None:
    try:
        existing = open(path).read()
    except FileNotFoundError:
        existing = INTRO
    marker = f"\n## {heading}\n"
    if marker in existing:
        start = existing.index(marker) + 1
        end = existing.find("\n## ", start)
        existing = existing[:start] + text + ("\n" + existing[end + 1:] if end >= 0 else "")
    else:
        existing = existing.rstrip() + "\n\n" + text
    with open(path + ".tmp", "w") as out:
        out.write(existing)
    os.replace(path + ".tmp", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--figures", required=True, help="the harness's JSON")
    parser.add_argument("--summary", action="store_true", help="print one line")
    parser.add_argument("--heading")
    parser.add_argument("--command")
    parser.add_argument("--file")
    args = parser.parse_args()
    with open(args.figures) as source:
        figures = json.load(source)
    if args.summary:
        print(summary(figures))
        return
    write(args.file, args.heading, section(args.heading, figures, args.command))


if __name__ == "__main__":
    main()
