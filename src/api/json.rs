//! `JsonBody<T>`: a JSON request body whose failures name the field.
//! Syntax errors are 400 `malformed_body`; a missing, unknown or mistyped
//! field is 422 `invalid_field` with the field's path; bodies over the
//! configured limit are 413; other content types 415.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::error::ApiError;

pub struct JsonBody<T>(pub T);

/// The body size limit, registered as app data.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit_bytes = request.app_data::<BodyLimit>().map_or(256 * 1024, |limit| limit.0);
        let timeout = request
            .app_data::<super::gate::BodyTimeout>()
            .map_or(std::time::Duration::from_secs(10), |timeout| timeout.0);
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        let body = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType {
                    expected: "application/json",
                });
            }
            let bytes = tokio::time::timeout(timeout, body)
                .await
                .map_err(|_| ApiError::RequestTimeout {
                    seconds: timeout.as_secs(),
                })?
                .map_err(|error| match error.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => ApiError::PayloadTooLarge { limit_bytes },
                    _ => ApiError::MalformedBody("the request body could not be read".to_owned()),
                })?;
            parse(&bytes).map(JsonBody)
        })
    }
}

/// Deserialises `bytes`, naming the failing field.
///
/// The syntax is checked first, on its own: deserialising straight into `T`
/// also reports some shape errors of valid JSON as syntax errors (a struct
/// read from an array with more elements than it has fields fails with
/// "trailing characters"), and those are 422 `invalid_field`, not 400.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice::<IgnoredAny>(bytes).map_err(|error| {
        ApiError::MalformedBody(format!(
            "the request body is not valid JSON: {}",
            strip_position(&error.to_string())
        ))
    })?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        classify(&path, &inner)
    })?;
    deserializer
        .end()
        .map_err(|_| ApiError::MalformedBody("unexpected data after the JSON value".to_owned()))?;
    Ok(value)
}

fn classify(path: &str, error: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = strip_position(&error.to_string());
    match error.classify() {
        // The syntax is known to be valid: the value has the wrong shape.
        Category::Syntax | Category::Eof | Category::Io => ApiError::InvalidField {
            field: if path == "." {
                "body".to_owned()
            } else {
                path.to_owned()
            },
            detail: format!("does not have the expected shape: {message}"),
        },
        Category::Data => {
            // For a missing or unknown field serde reports the parent's
            // path; the field's own name is in the message, between backticks.
            let named = message
                .split('`')
                .nth(1)
                .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"));
            let field = match (path, named) {
                (".", Some(name)) => name.to_owned(),
                (parent, Some(name)) if message.starts_with("missing field") => format!("{parent}.{name}"),
                (".", None) => "body".to_owned(),
                (path, _) => path.to_owned(),
            };
            ApiError::InvalidField { field, detail: message }
        }
    }
}

/// serde_json appends " at line 1 column 17"; the client wants the reason.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        tags: Vec<String>,
    }

    fn field_of(result: Result<Body, ApiError>) -> String {
        match result {
            Err(ApiError::InvalidField { field, .. }) => field,
            other => panic!("expected invalid_field, got {other:?}"),
        }
    }

    #[test]
    fn names_the_missing_unknown_and_mistyped_fields() {
        assert_eq!(field_of(parse(br#"{"tags": []}"#)), "name");
        assert_eq!(field_of(parse(br#"{"name": "a", "tags": [], "extra": 1}"#)), "extra");
        assert_eq!(field_of(parse(br#"{"name": 5, "tags": []}"#)), "name");
        assert_eq!(field_of(parse(br#"{"name": "a", "tags": ["x", 3]}"#)), "tags[1]");
    }

    /// Found by `fuzz/fuzz_targets/json_bodies.rs`: a struct may be sent as
    /// an array of its fields, and one element too many was answered 400
    /// "not valid JSON: trailing characters", though the body is valid JSON.
    #[test]
    fn valid_json_of_the_wrong_shape_is_an_invalid_field() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Signed {
            signature: String,
        }
        match parse::<Signed>(br#"["",""]"#) {
            Err(ApiError::InvalidField { field, detail }) => {
                assert_eq!(field, "body");
                assert!(detail.contains("expected shape"), "{detail}");
            }
            other => panic!("expected invalid_field, got {other:?}"),
        }
        assert_eq!(
            field_of(parse(br#"{"name": "a", "tags": [], "extra": [1, 2]}"#)),
            "extra"
        );
    }

    #[test]
    fn syntax_errors_are_malformed_bodies() {
        for bad in [&b"{"[..], b"not json", b"{\"name\": \"a\", \"tags\": []} trailing"] {
            assert!(matches!(parse::<Body>(bad), Err(ApiError::MalformedBody(_))), "{bad:?}");
        }
    }
}
