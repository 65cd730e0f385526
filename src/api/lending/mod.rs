//! Financing routes: the encumbrance look-up and its certificate, pledges and assignments
//! (accepting offers), a lien's loan records, receipt and release; and the
//! buyer's payments.

mod certificate;
mod encumbrance;
mod finance;
mod lien;
mod payment;
mod release;

pub use certificate::certificate;
pub use encumbrance::encumbrance;
pub use finance::{assign, pledge};
pub use lien::{disburse, receipt, repay, show as show_lien};
pub use payment::pay;
pub use release::release;

pub(crate) use encumbrance::look_up_for;
pub(crate) use finance::{parse as parse_finance, parse_with as parse_finance_with, FinanceBody};
pub(crate) use lien::{parse_loan_record, parse_loan_record_with, LoanRecordBody, ReceiptRequest};
pub(crate) use payment::{parse as parse_payment, parse_with as parse_payment_with, PaymentRequest};
