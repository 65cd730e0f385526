//! The registry: purchase orders and receivables registered by suppliers,
//! acknowledged, confirmed or disputed by their buyer with an ed25519
//! signature, and the assets confirmed receivables become, which their
//! holder may split and transfer. Every use case owns its transaction and
//! writes its ledger entry inside it (docs/PRODUCT.md §3.6).

mod asset;
mod batcher;
mod credit_note;
mod decision;
mod error;
mod fingerprints;
pub mod import;
mod parties;
mod purchase_order;
mod receivable;
mod rules;
mod set_based;
mod summary;
mod upload;
pub mod upload_job;
mod view;

pub use asset::{split_asset, Split, SplitPart};
pub use batcher::{
    register_job, spawn_confirmation_batcher, spawn_registration_batcher, ConfirmationBatcher, ConfirmationJob,
    ConfirmationResult, RegistrationBatcher, RegistrationJob, RegistrationResult,
};
pub use credit_note::{record_credit_note, register_correction, Corrected, Credited, NewCreditNote};
pub use decision::{
    acknowledge_purchase_order, acknowledgement_message, buyer_messages, confirm_receivable, dispute_receivable,
    Confirmed, DisputeReason,
};
pub use import::ImportFormat;
pub use upload::{ImportFailure, ImportReport, ImportResult};
pub use upload_job::{spawn_upload_worker, Lease, Submitted, UploadProgress, UploadWorker, MAX_SYNC_ROWS};

pub use fingerprints::{of_purchase_order, of_receivable, of_receivables};
pub(crate) use parties::{load_with_role, verify_signed};
pub use purchase_order::{register_purchase_order, NewPurchaseOrder};
pub use receivable::{invoice_dates, register_receivable, NewReceivable, Registered};
pub use set_based::{confirm_many, register_many};
pub use summary::{supplier_summary, StatusTotal, SupplierSummary};
pub(crate) use view::amount;
pub use view::{
    asset_view, purchase_order_view, receivable_view, visible_asset, visible_purchase_order, visible_receivable, Viewer,
};
