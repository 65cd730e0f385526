#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails by panicking")]
//! Integration tests: one binary, the real application on port 0, a fresh
//! database per test. Every test in `on_both_backends!` runs on SQLite and,
//! when `ANCHORFIN_TEST_DATABASE_URL` is set, on PostgreSQL.

mod helpers;
mod idempotency;

mod alerts;
mod batches;
mod certificate;
mod cli;
mod confidentiality;
mod consent;
mod differential;
mod documents;
mod errors;
mod hardening;
mod health;
mod identifiers;
mod interop;
mod jobs;
mod ledger;
mod lending;
mod lookups;
mod matrix;
mod orgs;
mod outage;
mod portal;
mod portal_edges;
mod portal_ledger;
mod portal_operator;
mod portal_orders;
mod portal_signing;
mod processes;
mod registry;
mod rfc9162;
mod rotation;
mod schema;
mod smtp;
mod spec;
mod witness;
mod witnessing;
