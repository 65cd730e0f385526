//! How the registry's errors answer over HTTP.

use crate::refusal::Refusal;

use super::error::ApiError;
use crate::refusal::UseCaseError;
use crate::registry::ImportFailure;

impl From<UseCaseError> for ApiError {
    fn from(error: UseCaseError) -> Self {
        match error {
            UseCaseError::Database(error) => error.into(),
            refused => ApiError::of_refusal(&refused).unwrap_or_else(|| ApiError::internal(refused)),
        }
    }
}

impl ApiError {
    /// A use case's refusal as it is answered; `None` for a database
    /// failure (which is not an answer to keep).
    pub fn of_refusal(error: &UseCaseError) -> Option<ApiError> {
        Some(match error {
            UseCaseError::NotFound => ApiError::NotFound,
            UseCaseError::Forbidden(detail) => ApiError::Forbidden((*detail).to_owned()),
            UseCaseError::InvalidField(error) => error.clone().into(),
            UseCaseError::Unauthenticated => ApiError::Unauthorized,
            UseCaseError::Refused {
                refusal,
                detail,
                existing_id,
            } => ApiError::Refused {
                refusal: *refusal,
                detail: detail.clone(),
                field: None,
                existing_id: existing_id.clone(),
            },
            UseCaseError::Database(_) => return None,
        })
    }
}

impl From<ImportFailure> for ApiError {
    fn from(error: ImportFailure) -> Self {
        use crate::registry::import::ImportError;
        match error {
            ImportFailure::Registry(error) => error.into(),
            // Handled where an upload is decided; never a caller's fault.
            error @ (ImportFailure::Taken | ImportFailure::Stopped) => ApiError::internal(error),
            ImportFailure::Upload(ImportError::TooManyRows { limit }) => ApiError::refused(
                Refusal::TooManyRows,
                format!("an upload holds at most {limit} invoices"),
            ),
            ImportFailure::Upload(error @ ImportError::BadHeader { .. }) => ApiError::invalid_field("header", error),
            ImportFailure::Upload(error @ ImportError::Malformed { .. }) => ApiError::MalformedBody(error.to_string()),
            ImportFailure::Upload(error @ ImportError::Unreadable { .. }) => ApiError::MalformedBody(error.to_string()),
        }
    }
}
