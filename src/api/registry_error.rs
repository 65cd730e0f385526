//! How the registry's errors answer over HTTP.

use actix_web::http::StatusCode;

use super::error::ApiError;
use crate::registry::{ImportFailure, RegistryError};

impl From<RegistryError> for ApiError {
    fn from(error: RegistryError) -> Self {
        match error {
            RegistryError::NotFound => ApiError::NotFound,
            RegistryError::Forbidden(detail) => ApiError::Forbidden(detail.to_owned()),
            RegistryError::InvalidField(error) => error.into(),
            RegistryError::Refused { refusal, detail } => ApiError::Refused {
                status: StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::CONFLICT),
                code: refusal.code(),
                detail,
            },
            RegistryError::Database(error) => error.into(),
        }
    }
}

impl From<ImportFailure> for ApiError {
    fn from(error: ImportFailure) -> Self {
        use crate::registry::import::ImportError;
        match error {
            ImportFailure::Registry(error) => error.into(),
            ImportFailure::Upload(ImportError::TooManyRows { limit }) => ApiError::Refused {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "too_many_rows",
                detail: format!("an upload holds at most {limit} invoices"),
            },
            ImportFailure::Upload(error @ ImportError::BadHeader { .. }) => ApiError::invalid_field("header", error),
            ImportFailure::Upload(error @ ImportError::Malformed { .. }) => ApiError::MalformedBody(error.to_string()),
            ImportFailure::Upload(ImportError::Read(error)) => {
                ApiError::MalformedBody(format!("the upload could not be read: {error}"))
            }
        }
    }
}
