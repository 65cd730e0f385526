//! A request value that failed to parse into a domain type, with the name
//! of the field it came from: the API answers 422 naming the field, the CLI
//! names the flag.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct FieldError {
    pub field: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self {
            field: field.into(),
            detail: detail.to_string(),
        }
    }
}

/// Parses a value, tagging a failure with the field name.
pub fn field<T, E: std::fmt::Display>(name: &str, parsed: Result<T, E>) -> Result<T, FieldError> {
    parsed.map_err(|error| FieldError::new(name, error))
}
