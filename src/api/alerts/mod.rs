//! `/v1/alerts`: risk officers list and acknowledge their organisation's
//! copies of alerts.

mod acknowledge;
mod list;

pub use acknowledge::acknowledge;
pub use list::list;

use crate::api::auth::Authenticated;
use crate::api::error::ApiError;

/// The officer's organisation and own id; organisation keys are refused.
fn officer(caller: &Authenticated) -> Result<(String, String), ApiError> {
    match caller.0.risk_officer_id {
        Some(officer) => Ok((caller.0.organization_id.to_string(), officer.to_string())),
        None => Err(ApiError::Forbidden(
            "alerts are read with a risk officer's API key (anchorfin risk-officer add)".to_owned(),
        )),
    }
}
