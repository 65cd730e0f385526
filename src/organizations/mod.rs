//! Organisations: onboarding, their identifiers, keys and risk officers,
//! API keys and authentication. Use cases here own their transactions.

pub mod api_key;
mod authenticate;
mod onboard;
mod risk_officer;
pub mod session;
mod view;

pub use authenticate::{authenticate, authenticate_many, Principal};
pub use onboard::{onboard, NewOrganization, OnboardError, Onboarded, OrganizationName, OrganizationNameError};
pub use risk_officer::{add_risk_officer, AddRiskOfficerError, RiskOfficerAdded};
pub use view::{
    IdentifierRequest, IdentifierView, OnboardedView, OrganizationRequest, RiskOfficerView, MAX_IDENTIFIERS,
};
