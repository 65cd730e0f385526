//! `/v1/purchase-orders`: suppliers register orders, buyers acknowledge them.

mod acknowledge;
mod create;
mod show;

pub use acknowledge::acknowledge;
pub use create::create;
pub use show::show;

pub(crate) use acknowledge::AcknowledgementRequest;
pub(crate) use create::PurchaseOrderRequest;
