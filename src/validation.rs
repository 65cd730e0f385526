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
    let date = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "is not a calendar date")?;
    if !(EARLIEST_DATE..=LATEST_DATE).contains(&date) {
        return Err("must be between 1900-01-01 and 2200-12-31");
    }
    Ok(date)
}

/// The dates a document may carry: a wider range is a typing error (or an
/// attempt to reach the edges of date arithmetic), never a real invoice.
pub const EARLIEST_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => chrono::NaiveDate::MIN,
};
pub const LATEST_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2200, 12, 31) {
    Some(date) => date,
    None => chrono::NaiveDate::MAX,
};

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
        assert!(iso_date("1900-01-01").is_ok() && iso_date("2200-12-31").is_ok());
        for bad in [
            "2027-3-31",
            "31/03/2027",
            "2027-03-31T00:00:00Z",
            "20270331",
            "",
            "2027-02-30",
            "2023-02-29",
            "1899-12-31",
            "2201-01-01",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert!(iso_date(bad).is_err(), "{bad}");
        }
    }
}
