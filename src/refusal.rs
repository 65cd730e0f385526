//! Every refusal the service's rules answer with: one closed type, used by
//! the registry, lending, organisations and alerts alike (TigerBeetle's
//! result codes and crates.io's `util/errors.rs` are the models). Each
//! variant has its code (the problem document's `code`, part of the API
//! contract), its class — which `api/` alone turns into an HTTP status —
//! and its place in the one order in which refusals win
//! (docs/FINANCING.md, "Which refusal wins"). Protocol failures (no key, a
//! body that is not JSON, a lost database) are `api::error::ApiError`'s.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// A business refusal, by its closed code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Refusal {
    // May you see it.
    /// No such thing, or one the caller may not see (ids leak nothing).
    NotFound,
    // May you do it.
    /// The caller sees it but its role or relation does not allow the act.
    Forbidden,
    /// The receivable's purchase order is financed by another bank, the
    /// only one that may finance it (invariant 4).
    PoFinancedElsewhere,
    // The request's fields.
    /// A field's value cannot be used (its name is in `field`).
    InvalidField,
    /// The Idempotency-Key was used before with another request.
    IdempotencyMismatch,
    // The signature.
    /// Not by one of the signer's active keys over the canonical message.
    InvalidSignature,
    // State.
    /// The receivable is confirmed already.
    AlreadyConfirmed,
    /// The receivable was disputed.
    AlreadyDisputed,
    /// The purchase order (or an alert) was acknowledged already.
    AlreadyAcknowledged,
    /// The purchase order is not acknowledged (or the receivable not
    /// confirmed), so it cannot be financed.
    NotConfirmed,
    /// The asset is retired, settled or defaulted.
    AssetNotActive,
    /// The offer was taken, withdrawn or has lapsed.
    OfferNotOpen,
    /// The lien was released or settled already.
    LienNotActive,
    /// The lien is not waiting for its bank's receipt.
    LienNotSettling,
    /// An assignment is a sale: it is neither released nor repaid.
    NotAPledge,
    /// A corrected invoice replaced this receivable: it cannot be confirmed.
    Superseded,
    /// A corrected invoice for a receivable its buyer confirmed already
    /// (or a bank finances): the original stands; a credit note is the way.
    OriginalConfirmed,
    // Uniqueness and encumbrance.
    /// The invoice or purchase order is registered already (by anyone).
    DuplicateRegistration,
    /// An organisation with this normalised legal id is onboarded already.
    DuplicateLegalId,
    /// Another organisation holds this identifier (scheme and normalised
    /// value) already.
    DuplicateIdentifier,
    /// This public key belongs to another organisation already.
    PublicKeyTaken,
    /// The asset (order) carries a lien, or is reserved to another bank.
    AlreadyEncumbered,
    /// Another offer of the asset (order) is open.
    OfferOpen,
    // Amounts.
    /// The invoice would push its purchase order's invoiced total above
    /// the order's amount.
    ExceedsPoAmount,
    /// The parts of a split do not add up to the asset's face value.
    PartsDoNotSum,
    /// More than the asset's face value (the order's amount).
    ExceedsFaceValue,
    /// A pledge for more than the offer allows.
    ExceedsOffer,
    /// An assignment at another price than the one asked.
    PriceMismatch,
    /// A payment must settle exactly what is outstanding.
    PaymentMismatch,
    /// A receipt must state exactly the share the payment paid.
    ReceiptMismatch,
    /// What is disbursed would exceed the lien's amount.
    ExceedsLienAmount,
    /// What is repaid would exceed what was disbursed.
    ExceedsDisbursed,
    /// A credit note for more than is still owed on its invoice.
    ExceedsOutstanding,
    /// Credit notes cancelled the whole invoice: nothing is owed to confirm.
    NothingOutstanding,
    /// An upload's report is asked for before every row is decided.
    UploadNotDone,
    // Size.
    /// An upload holds more invoices than one upload may.
    TooManyRows,
}

/// What kind of "no" a refusal is; `api/` maps each to its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalClass {
    /// 404.
    NotFound,
    /// 403.
    Forbidden,
    /// 422: the request can never succeed as sent.
    Invalid,
    /// 409: it conflicts with the current state.
    Conflict,
    /// 413.
    TooLarge,
}

/// The order in which refusals win when several apply: who you are comes
/// first (the API's 401), then these, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precedence {
    /// May you see it (404).
    Visibility,
    /// May you do it (403).
    Permission,
    /// The request's fields, and its Idempotency-Key (422).
    Fields,
    /// The signature (422).
    Signature,
    /// The state of what it is about (409).
    State,
    /// Uniqueness and encumbrance (409; 403 for invariant 4).
    Encumbrance,
    /// Amounts (422).
    Amounts,
    /// The upload's size, checked before its rows (413).
    Size,
}

impl Refusal {
    /// Every refusal, in precedence order.
    pub const ALL: [Refusal; 36] = [
        Refusal::NotFound,
        Refusal::Forbidden,
        Refusal::InvalidField,
        Refusal::IdempotencyMismatch,
        Refusal::InvalidSignature,
        Refusal::AlreadyConfirmed,
        Refusal::AlreadyDisputed,
        Refusal::AlreadyAcknowledged,
        Refusal::NotConfirmed,
        Refusal::AssetNotActive,
        Refusal::OfferNotOpen,
        Refusal::LienNotActive,
        Refusal::LienNotSettling,
        Refusal::NotAPledge,
        Refusal::Superseded,
        Refusal::OriginalConfirmed,
        Refusal::UploadNotDone,
        Refusal::PoFinancedElsewhere,
        Refusal::DuplicateRegistration,
        Refusal::DuplicateLegalId,
        Refusal::DuplicateIdentifier,
        Refusal::PublicKeyTaken,
        Refusal::AlreadyEncumbered,
        Refusal::OfferOpen,
        Refusal::ExceedsPoAmount,
        Refusal::PartsDoNotSum,
        Refusal::ExceedsFaceValue,
        Refusal::ExceedsOffer,
        Refusal::PriceMismatch,
        Refusal::PaymentMismatch,
        Refusal::ReceiptMismatch,
        Refusal::ExceedsLienAmount,
        Refusal::ExceedsDisbursed,
        Refusal::ExceedsOutstanding,
        Refusal::NothingOutstanding,
        Refusal::TooManyRows,
    ];

    /// The problem document's `code`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NotFound => "not_found",
            Refusal::Forbidden => "forbidden",
            Refusal::PoFinancedElsewhere => "po_financed_elsewhere",
            Refusal::InvalidField => "invalid_field",
            Refusal::IdempotencyMismatch => "idempotency_mismatch",
            Refusal::InvalidSignature => "invalid_signature",
            Refusal::AlreadyConfirmed => "already_confirmed",
            Refusal::AlreadyDisputed => "already_disputed",
            Refusal::AlreadyAcknowledged => "already_acknowledged",
            Refusal::NotConfirmed => "not_confirmed",
            Refusal::AssetNotActive => "asset_not_active",
            Refusal::OfferNotOpen => "offer_not_open",
            Refusal::LienNotActive => "lien_not_active",
            Refusal::LienNotSettling => "lien_not_settling",
            Refusal::NotAPledge => "not_a_pledge",
            Refusal::Superseded => "superseded",
            Refusal::OriginalConfirmed => "original_confirmed",
            Refusal::DuplicateRegistration => "duplicate_registration",
            Refusal::DuplicateLegalId => "duplicate_legal_id",
            Refusal::DuplicateIdentifier => "duplicate_identifier",
            Refusal::PublicKeyTaken => "public_key_taken",
            Refusal::AlreadyEncumbered => "already_encumbered",
            Refusal::OfferOpen => "offer_open",
            Refusal::ExceedsPoAmount => "exceeds_po_amount",
            Refusal::PartsDoNotSum => "parts_do_not_sum",
            Refusal::ExceedsFaceValue => "exceeds_face_value",
            Refusal::ExceedsOffer => "exceeds_offer",
            Refusal::PriceMismatch => "price_mismatch",
            Refusal::PaymentMismatch => "payment_mismatch",
            Refusal::ReceiptMismatch => "receipt_mismatch",
            Refusal::ExceedsLienAmount => "exceeds_lien_amount",
            Refusal::ExceedsDisbursed => "exceeds_disbursed",
            Refusal::ExceedsOutstanding => "exceeds_outstanding",
            Refusal::NothingOutstanding => "nothing_outstanding",
            Refusal::UploadNotDone => "upload_not_done",
            Refusal::TooManyRows => "too_many_rows",
        }
    }

    pub fn from_code(code: &str) -> Option<Refusal> {
        Refusal::ALL.into_iter().find(|refusal| refusal.code() == code)
    }

    pub fn class(self) -> RefusalClass {
        match self.precedence() {
            Precedence::Visibility => RefusalClass::NotFound,
            Precedence::Permission => RefusalClass::Forbidden,
            Precedence::Fields | Precedence::Signature | Precedence::Amounts => RefusalClass::Invalid,
            Precedence::State => RefusalClass::Conflict,
            Precedence::Encumbrance if self == Refusal::PoFinancedElsewhere => RefusalClass::Forbidden,
            Precedence::Encumbrance => RefusalClass::Conflict,
            Precedence::Size => RefusalClass::TooLarge,
        }
    }

    pub fn precedence(self) -> Precedence {
        match self {
            Refusal::NotFound => Precedence::Visibility,
            Refusal::Forbidden => Precedence::Permission,
            Refusal::InvalidField | Refusal::IdempotencyMismatch => Precedence::Fields,
            Refusal::InvalidSignature => Precedence::Signature,
            Refusal::AlreadyConfirmed
            | Refusal::AlreadyDisputed
            | Refusal::AlreadyAcknowledged
            | Refusal::NotConfirmed
            | Refusal::AssetNotActive
            | Refusal::OfferNotOpen
            | Refusal::LienNotActive
            | Refusal::LienNotSettling
            | Refusal::NotAPledge
            | Refusal::Superseded
            | Refusal::OriginalConfirmed
            | Refusal::UploadNotDone => Precedence::State,
            // Invariant 4 is answered 403, but it is an encumbrance
            // refusal and is checked with them (docs/PRODUCT.md §3.4).
            Refusal::PoFinancedElsewhere
            | Refusal::DuplicateRegistration
            | Refusal::DuplicateLegalId
            | Refusal::DuplicateIdentifier
            | Refusal::PublicKeyTaken
            | Refusal::AlreadyEncumbered
            | Refusal::OfferOpen => Precedence::Encumbrance,
            Refusal::ExceedsPoAmount
            | Refusal::PartsDoNotSum
            | Refusal::ExceedsFaceValue
            | Refusal::ExceedsOffer
            | Refusal::PriceMismatch
            | Refusal::PaymentMismatch
            | Refusal::ReceiptMismatch
            | Refusal::ExceedsLienAmount
            | Refusal::ExceedsDisbursed
            | Refusal::ExceedsOutstanding
            | Refusal::NothingOutstanding => Precedence::Amounts,
            Refusal::TooManyRows => Precedence::Size,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl From<Refusal> for &'static str {
    fn from(refusal: Refusal) -> Self {
        refusal.code()
    }
}

impl TryFrom<String> for Refusal {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Refusal::from_code(&code).ok_or_else(|| format!("unknown refusal code {code:?}"))
    }
}

/// Why a use case did not do what was asked: a refusal by the rules, or a
/// database failure (which rolls its transaction back and is answered 503
/// or 500, never stored as an answer).
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    /// Does not exist, or the caller may not see it (404 either way, so ids
    /// leak nothing).
    #[error("no such resource")]
    NotFound,
    /// The caller's role or relation does not allow the action.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    InvalidField(#[from] FieldError),
    #[error("{detail}")]
    Refused {
        refusal: Refusal,
        detail: String,
        /// What the request collides with, told to the caller it belongs
        /// to (a supplier registering its own invoice again learns its
        /// receivable's id; anyone else learns only that it exists).
        existing_id: Option<String>,
    },
    /// The caller's API key, authenticated again where the request is
    /// decided, is revoked (or no longer its organisation's): 401, never
    /// stored as an answer, nothing written.
    #[error("the API key is unknown or revoked")]
    Unauthenticated,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl UseCaseError {
    pub fn refused(refusal: Refusal, detail: impl Into<String>) -> Self {
        UseCaseError::Refused {
            refusal,
            detail: detail.into(),
            existing_id: None,
        }
    }

    pub fn field(field: &str, detail: impl std::fmt::Display) -> Self {
        UseCaseError::InvalidField(FieldError::new(field, detail))
    }

    /// The refusal this is, with its detail and field; `None` for a
    /// database failure or a caller no longer authenticated (neither is a
    /// refusal by the rules).
    pub fn refusal(&self) -> Option<(Refusal, String, Option<String>)> {
        match self {
            UseCaseError::NotFound => Some((Refusal::NotFound, self.to_string(), None)),
            UseCaseError::Forbidden(detail) => Some((Refusal::Forbidden, (*detail).to_owned(), None)),
            UseCaseError::InvalidField(error) => {
                Some((Refusal::InvalidField, error.to_string(), Some(error.field.clone())))
            }
            UseCaseError::Refused { refusal, detail, .. } => Some((*refusal, detail.clone(), None)),
            UseCaseError::Unauthenticated | UseCaseError::Database(_) => None,
        }
    }
}

/// Stored values are written only by this code; one that does not parse is
/// corruption, reported as a database error (500) rather than trusted.
pub(crate) fn corrupt(what: &str) -> UseCaseError {
    UseCaseError::Database(diesel::result::Error::DeserializationError(
        format!("stored {what} is invalid").into(),
    ))
}

/// A row read under a lock this transaction holds changed anyway: a bug,
/// never an answer. It is reported as a database error, so the transaction
/// rolls back whatever it wrote (a refusal would commit it).
pub(crate) fn broken(what: &'static str) -> UseCaseError {
    UseCaseError::Database(diesel::result::Error::QueryBuilderError(
        format!("invariant broken: {what}").into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut codes: Vec<&str> = Refusal::ALL.iter().map(|refusal| refusal.code()).collect();
        for code in &codes {
            assert!(
                code.bytes().all(|byte| byte.is_ascii_lowercase() || byte == b'_'),
                "{code}"
            );
        }
        for refusal in Refusal::ALL {
            assert_eq!(Refusal::from_code(refusal.code()), Some(refusal));
            let json = serde_json::to_string(&refusal).unwrap();
            assert_eq!(json, format!("\"{}\"", refusal.code()));
            assert_eq!(serde_json::from_str::<Refusal>(&json).unwrap(), refusal);
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Refusal::ALL.len());
        assert!(serde_json::from_str::<Refusal>("\"fraud\"").is_err());
    }

    #[test]
    fn all_is_in_precedence_order() {
        let precedences: Vec<Precedence> = Refusal::ALL.iter().map(|refusal| refusal.precedence()).collect();
        let mut sorted = precedences.clone();
        sorted.sort();
        assert_eq!(precedences, sorted);
    }

    #[test]
    fn classes_follow_the_documented_statuses() {
        assert_eq!(Refusal::NotFound.class(), RefusalClass::NotFound);
        assert_eq!(Refusal::PoFinancedElsewhere.class(), RefusalClass::Forbidden);
        assert_eq!(Refusal::AlreadyEncumbered.class(), RefusalClass::Conflict);
        assert_eq!(Refusal::ExceedsFaceValue.class(), RefusalClass::Invalid);
        assert_eq!(Refusal::IdempotencyMismatch.class(), RefusalClass::Invalid);
        assert_eq!(Refusal::TooManyRows.class(), RefusalClass::TooLarge);
    }
}
