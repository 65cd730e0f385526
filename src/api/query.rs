//! Query-string parameters parsed with the parameter named on failure.

use std::collections::HashMap;

use actix_web::HttpRequest;

use super::error::ApiError;

pub struct QueryParameters(HashMap<String, String>);

impl QueryParameters {
    pub fn from_request(request: &HttpRequest) -> Result<Self, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(request.query_string())
            .map(|pairs| Self(pairs.into_iter().collect()))
            .map_err(|_| ApiError::MalformedBody("the query string is not valid".to_owned()))
    }

    /// Refuses a parameter other than these.
    pub fn only(&self, names: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|name| !names.contains(&name.as_str())) {
            Some(other) => Err(ApiError::invalid_field(
                other.as_str(),
                "is not a parameter of this list",
            )),
            None => Ok(()),
        }
    }

    /// An optional text parameter, as sent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A required unsigned integer.
    pub fn u64(&self, name: &str) -> Result<u64, ApiError> {
        self.optional_u64(name)?
            .ok_or_else(|| ApiError::invalid_field(name, "is required"))
    }

    pub fn optional_u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(raw) => raw
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ApiError::invalid_field(name, "must be a non-negative integer")),
        }
    }
}
