//! Anchorfin: purchase orders and receivables as unique assets on a
//! tamper-evident ledger, financed through an API that makes double
//! pledging impossible. See `docs/ARCHITECTURE.md`.

pub mod alerts;
pub mod api;
pub mod cli;
pub mod config;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod keyfile;
pub mod ledger;
pub mod lending;
pub mod organizations;
pub mod portal;
pub mod refusal;
pub mod registry;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tlog;
pub mod validation;
pub mod witness;

pub use config::Settings;
pub use startup::Application;
