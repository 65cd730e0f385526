//! Banks' routes: the encumbrance look-up, pledges, assignments and
//! releases; and the buyer's payments.

mod encumbrance;
mod finance;
mod payment;
mod release;

pub use encumbrance::encumbrance;
pub use finance::{assign, pledge};
pub use payment::pay;
pub use release::release;
