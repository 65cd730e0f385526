//! Lending with consent: the holder offers an asset (or an acknowledged
//! purchase order) to one bank; that bank's pledge or assignment accepts
//! the offer and cannot be doubled; the bank records its loan; the buyer's
//! signed payment runs through the waterfall; the bank's signed receipt
//! ends its lien. Also defaults and the encumbrance look-up.
//!
//! The one-lien rule is a partial unique index on active liens, and "one
//! open offer" one on open offers (both backends); every decision takes the
//! asset's row lock first (a conditional `UPDATE`, or for a batch `SELECT …
//! FOR NO KEY UPDATE` in id order), so offers, withdrawals, pledges,
//! assignments, splits and payments of one asset serialise in the
//! database, across any number of processes.

mod batcher;
mod certificate;
mod decide;
mod encumbrance;
mod lien;
mod lookup;
mod offer;
mod outcome;
mod payment;
mod set_based;
mod sweep;
mod waterfall;

pub use batcher::{spawn_finance_batcher, FinanceBatcher, FinanceJob};
pub use certificate::{certificate, Certificate, CertificateRequest, CertifiedEntry};
pub use decide::{finance, finance_action, finance_as, Decision, Denied, FinanceRequest, LienKind};
pub use encumbrance::{look_up, Encumbrance, Found};
pub use lien::{
    confirm_receipt, liens_of_bank, loan_action, receipt_action, record_loan, release, show_lien, LoanRecordKind,
    LoanRecordRequest, MAX_LIEN_PAGE,
};
pub use lookup::{
    look_up_all, lookups_of, spawn_lookup_batcher, Admission, EnumerationPolicy, LookupBatcher, LookupCaller,
    LookupJob, MAX_LOOKUP_PAGE,
};
pub use offer::{
    lapse_expired_offers, list_offers, make_offer, offer_action, offer_visible_to, show_offer, withdraw_offer,
    OfferRequest, MAX_OFFER_DAYS, MAX_OFFER_PAGE,
};
pub use outcome::{decide_once, request_hash, Outcome};
pub use payment::{pay, payment_action, Payment};
pub use set_based::decide_many;
pub use sweep::{mark_defaults, spawn_default_sweeper};
