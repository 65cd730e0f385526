//! `/v1/receivables`: registration (one by one or in bulk), confirmation
//! and dispute by the buyer.

mod confirm;
mod create;
mod dispute;
pub mod import;
mod lookups;
mod show;

pub use confirm::confirm;
pub use create::create;
pub use dispute::dispute;
pub use import::import;
pub use lookups::lookups;
pub use show::show;

pub(crate) use confirm::ConfirmationRequest;
pub(crate) use create::ReceivableRequest;
pub(crate) use dispute::DisputeRequest;
