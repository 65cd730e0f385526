//! E-mail addresses of risk officers, who receive fraud alerts.
//!
//! Deliberately simpler than RFC 5322: one '@', no quoted local parts, no
//! comments, an ASCII (LDH) domain. Internationalised domains are accepted
//! in their "xn--" form. That covers every address a bank's risk desk uses
//! and refuses the strings that break mail headers.

use serde::{Deserialize, Serialize};

const MAX_LOCAL_PART_BYTES: usize = 64;
const MAX_DOMAIN_BYTES: usize = 255;
const MAX_LABEL_BYTES: usize = 63;

/// A syntactically valid address; the domain is lower-cased (domains are
/// case-insensitive), the local part kept as given (it need not be).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("e-mail address must not be empty")]
    Empty,
    #[error("e-mail address must not contain spaces or control characters")]
    SpaceOrControl,
    #[error("e-mail address must contain exactly one '@'")]
    NotOneAt,
    #[error("the part of the e-mail address before '@' must be 1 to 64 characters")]
    LocalPartLength,
    #[error("the domain of the e-mail address must be 1 to 255 characters")]
    DomainLength,
    #[error("the domain of the e-mail address must contain a dot")]
    DomainWithoutDot,
    #[error(
        "the domain of the e-mail address must be dot-separated labels of letters, digits and hyphens, \
         each 1 to 63 characters, not starting or ending with a hyphen"
    )]
    DomainLabel,
}

impl EmailAddress {
    /// Parses a trimmed address such as "Risk.Desk@Bank-A.example", kept as
    /// "Risk.Desk@bank-a.example".
    pub fn parse(raw: &str) -> Result<EmailAddress, EmailError> {
        let address = raw.trim();
        if address.is_empty() {
            return Err(EmailError::Empty);
        }
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::SpaceOrControl);
        }
        let (local, domain) = match address.split_once('@') {
            Some((local, domain)) if !domain.contains('@') => (local, domain),
            _ => return Err(EmailError::NotOneAt),
        };
        if local.is_empty() || local.len() > MAX_LOCAL_PART_BYTES {
            return Err(EmailError::LocalPartLength);
        }
        if domain.is_empty() || domain.len() > MAX_DOMAIN_BYTES {
            return Err(EmailError::DomainLength);
        }
        if !domain.contains('.') {
            return Err(EmailError::DomainWithoutDot);
        }
        if !domain.split('.').all(is_valid_label) {
            return Err(EmailError::DomainLabel);
        }
        Ok(EmailAddress(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before '@', as given.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    /// The lower-case domain.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

fn is_valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_BYTES
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&raw)
    }
}

impl From<EmailAddress> for String {
    fn from(email: EmailAddress) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_kept_with_a_lower_case_domain() {
        let email = EmailAddress::parse("  Risk.Desk+alerts@Bank-A.Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Risk.Desk+alerts@bank-a.example.com");
        assert_eq!(email.local_part(), "Risk.Desk+alerts");
        assert_eq!(email.domain(), "bank-a.example.com");
        assert_eq!(email.to_string(), email.as_str());
        for raw in [
            "a@b.co",
            "risk@xn--fiqs8s.cn",
            "first.last@sub.domain.example",
            "o'brien@bank.example",
        ] {
            assert!(EmailAddress::parse(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn length_limits() {
        let local = "a".repeat(64);
        assert!(EmailAddress::parse(&format!("{local}@bank.example")).is_ok());
        assert_eq!(
            EmailAddress::parse(&format!("{local}a@bank.example")),
            Err(EmailError::LocalPartLength)
        );
        let label = "b".repeat(63);
        let domain = format!("{label}.{label}.{label}.{}", "c".repeat(61));
        assert_eq!(domain.len(), 253);
        assert!(EmailAddress::parse(&format!("x@{domain}")).is_ok());
        let too_long = format!("{label}.{label}.{label}.{label}.cc");
        assert_eq!(too_long.len(), 258);
        assert_eq!(
            EmailAddress::parse(&format!("x@{too_long}")),
            Err(EmailError::DomainLength)
        );
        assert_eq!(
            EmailAddress::parse(&format!("x@{}.example", "b".repeat(64))),
            Err(EmailError::DomainLabel)
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        let cases = [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("risk", EmailError::NotOneAt),
            ("risk@@bank.example", EmailError::NotOneAt),
            ("a@b@bank.example", EmailError::NotOneAt),
            ("@bank.example", EmailError::LocalPartLength),
            ("risk@", EmailError::DomainLength),
            ("risk@localhost", EmailError::DomainWithoutDot),
            ("risk desk@bank.example", EmailError::SpaceOrControl),
            ("risk@bank .example", EmailError::SpaceOrControl),
            ("risk\u{00A0}@bank.example", EmailError::SpaceOrControl),
            ("risk@bank.example\r\nBcc: x@y.z", EmailError::SpaceOrControl),
            ("ri\u{0}sk@bank.example", EmailError::SpaceOrControl),
            ("risk@bank..example", EmailError::DomainLabel),
            ("risk@.bank.example", EmailError::DomainLabel),
            ("risk@bank.example.", EmailError::DomainLabel),
            ("risk@-bank.example", EmailError::DomainLabel),
            ("risk@bank-.example", EmailError::DomainLabel),
            ("risk@bank_a.example", EmailError::DomainLabel),
            ("risk@银行.中国", EmailError::DomainLabel),
            ("risk@[127.0.0.1]", EmailError::DomainLabel),
        ];
        for (raw, expected) in cases {
            assert_eq!(EmailAddress::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn errors_read_well() {
        assert_eq!(
            EmailAddress::parse("risk").unwrap_err().to_string(),
            "e-mail address must contain exactly one '@'"
        );
    }

    #[test]
    fn serde_validates() {
        let email: EmailAddress = serde_json::from_str("\"Risk@BANK.example\"").unwrap();
        assert_eq!(serde_json::to_string(&email).unwrap(), "\"Risk@bank.example\"");
        assert!(serde_json::from_str::<EmailAddress>("\"not an address\"").is_err());
    }
}
