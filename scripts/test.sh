#!/usr/bin/env bash
# The test command of the README. Runs every test on SQLite; with
# ANCHORFIN_TEST_DATABASE_URL set (CI always sets it) the same suite also
# runs on PostgreSQL, one fresh database per test.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --locked "$@"
