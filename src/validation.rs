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

/// A calendar date written exactly `YYYY-MM-DD` (ISO 8601), nothing else.
pub fn iso_date(raw: &str) -> Result<chrono::NaiveDate, &'static str> {
    let raw = raw.trim();
    let shaped = raw.len() == 10
        && raw.bytes().enumerate().all(|(index, byte)| {
            if index == 4 || index == 7 {
                byte == b'-'
            } else {
                byte.is_ascii_digit()
            }
        });
    if !shaped {
        return Err("must be a date written YYYY-MM-DD");
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "is not a calendar date")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict_iso_8601() {
        assert_eq!(
            iso_date("2027-03-31"),
            Ok(chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap())
        );
        assert_eq!(
            iso_date(" 2024-02-29 ").map(|date| date.to_string()),
            Ok("2024-02-29".to_owned())
        );
        for bad in [
            "2027-3-31",
            "31/03/2027",
            "2027-03-31T00:00:00Z",
            "20270331",
            "",
            "2027-02-30",
            "2023-02-29",
        ] {
            assert!(iso_date(bad).is_err(), "{bad}");
        }
    }
}
