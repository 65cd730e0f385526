//! `/v1/offers`: a holder offers an asset (or an acknowledged purchase
//! order) to one bank, lists and reads its offers, and withdraws one; the
//! bank lists and reads the offers addressed to it.

mod create;
mod list;
mod show;
mod withdraw;

pub use create::create;
pub use list::list;
pub use show::show;
pub use withdraw::withdraw;

pub(crate) use create::{parse as parse_offer, parse_with as parse_offer_with, OfferBody};
pub(crate) use withdraw::WithdrawalRequest;
