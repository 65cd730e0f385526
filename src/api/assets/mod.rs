//! `/v1/assets`: confirmed receivables as assets, and their splits.

mod show;
mod split;

pub use show::show;
pub use split::split;

pub(crate) use split::{PartRequest, SplitRequest};
