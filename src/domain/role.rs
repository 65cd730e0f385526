//! The role an organisation plays; it decides which actions its API keys may
//! take.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sells goods and registers the invoices its buyers owe.
    Supplier,
    /// The large buyer ("core enterprise") that confirms or disputes them.
    CoreEnterprise,
    /// Finances confirmed receivables: takes pledges and assignments.
    Bank,
    /// Runs the platform and onboards organisations.
    Operator,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role must be one of supplier, core_enterprise, bank, operator")]
pub struct RoleError;

impl Role {
    pub const ALL: [Role; 4] = [Role::Supplier, Role::CoreEnterprise, Role::Bank, Role::Operator];

    /// The stored and serialised name, e.g. "core_enterprise".
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Supplier => "supplier",
            Role::CoreEnterprise => "core_enterprise",
            Role::Bank => "bank",
            Role::Operator => "operator",
        }
    }

    /// The exact lower-case name; "Bank" or " bank" are refused.
    pub fn parse(raw: &str) -> Result<Role, RoleError> {
        Role::ALL.into_iter().find(|role| role.as_str() == raw).ok_or(RoleError)
    }
}

impl std::str::FromStr for Role {
    type Err = RoleError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Role::parse(raw)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        assert_eq!(Role::CoreEnterprise.as_str(), "core_enterprise");
    }

    #[test]
    fn only_exact_names_parse() {
        for raw in [
            "",
            "Bank",
            "BANK",
            " bank",
            "bank ",
            "core-enterprise",
            "coreEnterprise",
            "admin",
        ] {
            assert_eq!(Role::parse(raw), Err(RoleError), "{raw:?}");
        }
        assert_eq!(
            RoleError.to_string(),
            "role must be one of supplier, core_enterprise, bank, operator"
        );
    }

    #[test]
    fn serde_uses_snake_case_names() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert!(serde_json::from_str::<Role>("\"CoreEnterprise\"").is_err());
    }
}
