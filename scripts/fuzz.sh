#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the parsers that read
# untrusted input and of the proof verifier: the targets in fuzz/
# (import_csv, import_ubl, signed_message, checkpoint, proof_verify,
# json_bodies; what each asserts is in its header). Builds them, runs each
# in turn for FUZZ_SECONDS, prints per target the inputs executed, the
# coverage (libFuzzer's `cov:` edges and `ft:` features) and the corpus,
# and exits non-zero if any target crashed, hung or failed an assertion (the
# input is kept in fuzz/artifacts/<target>/; replay it with the command
# printed).
#
#   scripts/fuzz.sh                              # 15 s per target: CI's form, about 4 minutes with the build
#   FUZZ_SECONDS=300 scripts/fuzz.sh --report    # 5 minutes each; figures into docs/RELIABILITY.md
#   scripts/fuzz.sh checkpoint json_bodies       # only these targets
#   scripts/fuzz.sh --minimize                   # then add the inputs that found new coverage to the seeds
#
# Each target starts from its seeds (fuzz/corpus/<target>/, committed) and
# the corpus earlier runs grew (fuzz/work/<target>/, not committed), and adds
# to the latter. --minimize merges into the seeds the inputs that add
# coverage to them (libFuzzer -merge=1): a corpus to commit only if it stays
# small (after 5 minutes per target it is about 7 MB, 6 of them UBL).
#
# The toolchain is stable Rust. cargo-fuzz (pinned, installed here when
# missing) builds with instrumentation flags that stable rustc accepts, except
# a sanitizer's (-Zsanitizer), so: no sanitizer by default (the crate forbids
# `unsafe`; debug assertions and overflow checks are on), and
# FUZZ_SANITIZER=address runs under AddressSanitizer with RUSTC_BOOTSTRAP=1
# (its own full build: use another FUZZ_TARGET_DIR).
#
#   FUZZ_SECONDS      seconds per target (default 15)
#   FUZZ_TARGET_DIR   cargo's target directory for the fuzz build (default
#                     fuzz/target; CI keeps one in ~/.cache between runs)
#   FUZZ_WORK_DIR     where the corpora grow, one folder per target (default
#                     fuzz/work; CI keeps them in ~/.cache too)
#   FUZZ_SANITIZER    none (default) or address
#   FUZZ_CODEGEN_UNITS  16 (default): both cores build the large crates;
#                     cargo fuzz's own default of 1 builds about twice as long
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
SECONDS_PER_TARGET="${FUZZ_SECONDS:-15}"
SANITIZER="${FUZZ_SANITIZER:-none}"
CODEGEN_UNITS="${FUZZ_CODEGEN_UNITS:-16}"
TARGET_DIR="${FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
WORK_DIR="${FUZZ_WORK_DIR:-fuzz/work}"
ALL_TARGETS=(import_csv import_ubl signed_message checkpoint proof_verify json_bodies)
REPORT=0
MINIMIZE=0
targets=()
for argument in "$@"; do
  case "$argument" in
    --report) REPORT=1 ;;
    --minimize) MINIMIZE=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $argument (see $0 --help)" >&2; exit 2 ;;
    *) targets+=("$argument") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $target "* ]] || { echo "no fuzz target $target" >&2; exit 2; }
done
started=$SECONDS

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked --quiet "cargo-fuzz@$CARGO_FUZZ_VERSION"
fi

# Without a sanitizer every flag cargo fuzz passes is stable (-C, --cfg).
# A sanitizer's is -Zsanitizer: RUSTC_BOOTSTRAP=1 lets stable rustc take it,
# and only then is it set, as it may also change what the dependencies'
# build scripts detect.
if [ "$SANITIZER" != none ]; then
  export RUSTC_BOOTSTRAP=1
fi
# The same flags for build and run, or cargo rebuilds everything.
flags=(--fuzz-dir fuzz --target-dir "$TARGET_DIR" --debug-assertions --sanitizer "$SANITIZER"
  --codegen-units "$CODEGEN_UNITS")

echo "== building the fuzz targets (sanitizer: $SANITIZER)"
build_started=$SECONDS
cargo fuzz build "${flags[@]}"
echo "   built in $((SECONDS - build_started)) s"

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
failed=()
rows=()
for target in "${targets[@]}"; do
  work="$WORK_DIR/$target"
  mkdir -p "$work" "fuzz/artifacts/$target"
  log="$LOGS/$target.log"
  echo "== $target: ${SECONDS_PER_TARGET} s"
  status=0
  # -timeout: an input running longer than 10 s is a hang, reported as a crash.
  cargo fuzz run "${flags[@]}" "$target" "$work" "fuzz/corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
  # (A crash may come before any of these lines: grep finding none is no error.)
  executions="$( (grep -a '^stat::number_of_executed_units:' "$log" || true) | awk '{print $2}' | tail -n 1)"
  final="$( (grep -a -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" || true) | tail -n 1)"
  coverage="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$final")"
  features="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$final")"
  corpus="$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$final")"
  per_second="$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$final")"
  files="$(find "$work" -type f | wc -l)"
  bytes="$(find "$work" -type f -printf '%s\n' | awk '{ total += $1 } END { print total + 0 }')"
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    echo "!! $target FAILED (exit $status): the last lines of its log"
    (grep -a -v '^#[0-9]' "$log" || true) | tail -n 40
    artifact="$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)"
    if [ -n "$artifact" ]; then
      echo "!! replay: ${RUSTC_BOOTSTRAP:+RUSTC_BOOTSTRAP=1 }cargo fuzz run ${flags[*]} $target $artifact"
    fi
  fi
  printf '   %s: %s inputs executed (%s/s), cov %s, ft %s, corpus %s entries/bytes in memory, %s files (%s KiB) in %s\n' \
    "$target" "${executions:-?}" "${per_second:-?}" "${coverage:-?}" "${features:-?}" "${corpus:-?}" \
    "$files" "$((bytes / 1024))" "$work"
  outcome="ok"
  [ "$status" -eq 0 ] || outcome="**FAILED**"
  rows+=("$target|${executions:-?}|${per_second:-?}|${coverage:-?}|${features:-?}|${corpus:-?}|$files|$outcome")
done

if [ "$MINIMIZE" -eq 1 ]; then
  for target in "${targets[@]}"; do
    before="$(find "fuzz/corpus/$target" -type f | wc -l)"
    cargo fuzz run "${flags[@]}" "$target" "fuzz/corpus/$target" "$WORK_DIR/$target" -- \
      -merge=1 -timeout=10 >"$LOGS/$target.merge.log" 2>&1
    after="$(find "fuzz/corpus/$target" -type f | wc -l)"
    size="$(find "fuzz/corpus/$target" -type f -printf '%s\n' | awk '{ total += $1 } END { print total + 0 }')"
    echo "== $target: $((after - before)) inputs added to fuzz/corpus/$target ($((size / 1024)) KiB in all)"
  done
fi

if [ "$REPORT" -eq 1 ]; then
  python3 - "$SECONDS_PER_TARGET" "$SANITIZER" "$CODEGEN_UNITS" "$(rustc --version)" "$CARGO_FUZZ_VERSION" \
    "scripts/fuzz.sh $*" "${rows[@]}" <<'PY'
import datetime, os, re, subprocess, sys

seconds, sanitizer, codegen_units, rustc, cargo_fuzz, command, *rows = sys.argv[1:]
if os.environ.get("FUZZ_SECONDS"):
    command = f"FUZZ_SECONDS={seconds} {command}"
path = "docs/RELIABILITY.md"
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                       text=True).stdout.strip()
table = ["| target | inputs executed | exec/s at the end | cov (edges) | ft (features) "
         "| corpus in memory (entries/bytes) | corpus files | outcome |",
         "|---|--:|--:|--:|--:|--:|--:|---|"]
for row in rows:
    cells = row.split("|")
    table.append("| `" + cells[0] + "` | " + " | ".join(cells[1:]) + " |")
section = f"""## Fuzzing

The `cargo fuzz` targets in `fuzz/` (libFuzzer, coverage-guided), each run
on its own, one after another, on this machine's 2 cores (shared with other
work):

- run: `{command}`, {seconds} s per target, on {datetime.date.today().isoformat()} at commit `{commit}`{" (with uncommitted changes)" if dirty else ""}
- toolchain: {rustc}, stable{", with `RUSTC_BOOTSTRAP=1` for the sanitizer" if sanitizer != "none" else ""}; cargo-fuzz {cargo_fuzz}
- build: sanitizer {sanitizer}, debug assertions and overflow checks on, {codegen_units} codegen units, anchorfin at opt-level 1 and its dependencies at 3

`cov` is the number of instrumented edges reached and `ft` libFuzzer's
finer count of features (edges with hit counts, compared values), both at
the end of the run; the corpus is the set of inputs that each reached
something new (in memory at the end; the files are those kept in
`fuzz/work/<target>/`, earlier runs' included). Only the hand-written seeds
are committed (`fuzz/corpus/<target>/`).

{chr(10).join(table)}

What each target asserts beyond "does not panic" is in the header of
`fuzz/fuzz_targets/<target>.rs`. CI runs every target for 15 s
(`scripts/fuzz.sh`), which writes nothing here.
"""
text = open(path).read() if os.path.exists(path) else (
    "# Reliability\n\nMeasured figures of the tests that break things on purpose, each under its own\n"
    "heading, written by the script that measured them.\n")
findings = ""
match = re.search(r"^## Fuzzing\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
if match:
    # Keep the hand-written findings that follow the generated part.
    kept = re.search(r"^### .*", match.group(1), flags=re.S | re.M)
    findings = "\n" + kept.group(0).rstrip() + "\n" if kept else ""
    text = text[:match.start()] + section + findings + ("\n" if text[match.end():] else "") + text[match.end():]
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
print(f"== wrote the Fuzzing section of {path}")
PY
fi

echo "== fuzzing took $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "!! failed: ${failed[*]}" >&2
  exit 1
fi
