//! Pure domain types: parse-don't-validate newtypes for money, identifiers,
//! fingerprints, roles, e-mail addresses and keys, and the canonical messages
//! parties sign. No I/O here; every constructor is `parse`/`TryFrom` and
//! returns an error whose message can be shown to an API client.

mod currency;
mod email;
mod fingerprint;
mod identifier;
mod lifecycle;
mod money;
mod organization_identifier;
mod party_reference;
mod role;
mod signature;
mod signed_message;

pub use currency::{Currency, CurrencyError};
pub use email::{EmailAddress, EmailError};
pub use fingerprint::{
    Fingerprint, FingerprintError, FingerprintKey, CREDIT_NOTE_TAG, PURCHASE_ORDER_TAG, RECEIVABLE_TAG,
};
pub use identifier::{
    normalize_identifier, IdentifierError, IdentifierValue, InvoiceNumber, LegalId, PoNumber, MAX_IDENTIFIER_CHARS,
};
pub use lifecycle::{
    AlertStatus, AssetStatus, DeliveryStatus, LienStatus, OfferStatus, PurchaseOrderStatus, ReceivableStatus,
};
pub use money::{format_minor_units, Money, MoneyError};
pub use organization_identifier::{
    IdentifierScheme, IdentifierSchemeError, OrganizationIdentifier, OrganizationIdentifierError,
};
pub use party_reference::PartyReference;
pub use role::{Role, RoleError};
pub use signature::{verify_with_any, PublicKey, PublicKeyError, Signature, SignatureError, SignatureParseError};
pub use signed_message::{
    LoanEntry, LoanReference, LoanReferenceError, Nonce, NonceError, SignedAction, Subject, UtcSecond, UtcSecondError,
    MAX_NONCE_CHARS, MAX_REFERENCE_CHARS, MESSAGE_PREFIX,
};
