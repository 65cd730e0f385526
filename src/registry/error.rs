//! The registry's errors: refusals with closed, documented codes, fields
//! that reference something unusable, and database failures.

use crate::validation::FieldError;

/// Business refusals. When several apply, the first check in the use case
/// wins: existence and visibility, then the caller's role, then the field
/// references, then signatures, then state, then uniqueness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 409: the invoice or purchase order is already registered (by anyone).
    DuplicateRegistration,
    /// 422: the receivable would push its purchase order's invoiced total
    /// above the order's amount.
    ExceedsPoAmount,
    /// 422: the signature is not by one of the signer's active keys over the
    /// canonical message.
    InvalidSignature,
    /// 409: the receivable is confirmed already.
    AlreadyConfirmed,
    /// 409: the receivable was disputed; it can no longer be confirmed.
    AlreadyDisputed,
    /// 409: the purchase order is not waiting for acknowledgement.
    AlreadyAcknowledged,
    /// 409: the asset is retired, settled or defaulted.
    AssetNotActive,
    /// 409: the asset carries an active pledge or assignment.
    AlreadyEncumbered,
    /// 422: the parts of a split do not add up to the asset's face value.
    PartsDoNotSum,
    /// 409: the pledge was released or settled already.
    LienNotActive,
    /// 409: an assignment is a sale; it cannot be released.
    NotAPledge,
    /// 422: a payment must settle exactly what is outstanding.
    PaymentMismatch,
    /// 409: the purchase order is not acknowledged (or the receivable not
    /// confirmed), so it cannot be financed.
    NotConfirmed,
    /// 403: the receivable's purchase order is financed by another bank,
    /// the only one that may finance it (SPEC invariant 4).
    PoFinancedElsewhere,
    /// 422: the amount exceeds the asset's face value (the order's amount).
    ExceedsFaceValue,
    /// 409: another offer of the asset (order) is open.
    OfferOpen,
    /// 409: the offer was taken, withdrawn or has lapsed.
    OfferNotOpen,
    /// 422: a pledge for more than the offer allows.
    ExceedsOffer,
    /// 422: an assignment at another price than the one asked.
    PriceMismatch,
    /// 409: the lien is not waiting for its bank's receipt.
    LienNotSettling,
    /// 422: a receipt must state exactly the share the payment paid.
    ReceiptMismatch,
    /// 422: what is disbursed would exceed the lien's amount.
    ExceedsLienAmount,
    /// 422: what is repaid would exceed what was disbursed.
    ExceedsDisbursed,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::DuplicateRegistration => "duplicate_registration",
            Refusal::ExceedsPoAmount => "exceeds_po_amount",
            Refusal::InvalidSignature => "invalid_signature",
            Refusal::AlreadyConfirmed => "already_confirmed",
            Refusal::AlreadyDisputed => "already_disputed",
            Refusal::AlreadyAcknowledged => "already_acknowledged",
            Refusal::AssetNotActive => "asset_not_active",
            Refusal::AlreadyEncumbered => "already_encumbered",
            Refusal::PartsDoNotSum => "parts_do_not_sum",
            Refusal::LienNotActive => "lien_not_active",
            Refusal::NotAPledge => "not_a_pledge",
            Refusal::PaymentMismatch => "payment_mismatch",
            Refusal::NotConfirmed => "not_confirmed",
            Refusal::PoFinancedElsewhere => "po_financed_elsewhere",
            Refusal::ExceedsFaceValue => "exceeds_face_value",
            Refusal::OfferOpen => "offer_open",
            Refusal::OfferNotOpen => "offer_not_open",
            Refusal::ExceedsOffer => "exceeds_offer",
            Refusal::PriceMismatch => "price_mismatch",
            Refusal::LienNotSettling => "lien_not_settling",
            Refusal::ReceiptMismatch => "receipt_mismatch",
            Refusal::ExceedsLienAmount => "exceeds_lien_amount",
            Refusal::ExceedsDisbursed => "exceeds_disbursed",
        }
    }

    /// The HTTP status the refusal is answered with.
    pub fn status(self) -> u16 {
        match self {
            Refusal::PoFinancedElsewhere => 403,
            refusal if refusal.is_conflict() => 409,
            _ => 422,
        }
    }

    /// Conflicts with the current state (409) as opposed to requests that
    /// can never succeed as sent (422).
    pub fn is_conflict(self) -> bool {
        !matches!(
            self,
            Refusal::ExceedsPoAmount
                | Refusal::InvalidSignature
                | Refusal::PartsDoNotSum
                | Refusal::PaymentMismatch
                | Refusal::PoFinancedElsewhere
                | Refusal::ExceedsFaceValue
                | Refusal::ExceedsOffer
                | Refusal::PriceMismatch
                | Refusal::ReceiptMismatch
                | Refusal::ExceedsLienAmount
                | Refusal::ExceedsDisbursed
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
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
    Refused { refusal: Refusal, detail: String },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl RegistryError {
    pub fn refused(refusal: Refusal, detail: impl Into<String>) -> Self {
        RegistryError::Refused {
            refusal,
            detail: detail.into(),
        }
    }

    pub fn field(field: &str, detail: impl std::fmt::Display) -> Self {
        RegistryError::InvalidField(FieldError::new(field, detail))
    }
}

/// Stored values are written only by this code; one that does not parse is
/// corruption, reported as a database error (500) rather than trusted.
pub(crate) fn corrupt(what: &str) -> RegistryError {
    RegistryError::Database(diesel::result::Error::DeserializationError(
        format!("stored {what} is invalid").into(),
    ))
}

/// Runs `once` in a write transaction. `Ok(Err(refusal))` commits (the
/// refusal's alert must be durable) and then returns the refusal. When a
/// racing twin wins at a unique index on the first attempt, the work runs
/// once more, sees the winner and records the refusal.
pub(crate) fn committing_refusals<T>(
    connection: &mut crate::store::DbConnection,
    mut once: impl FnMut(&mut crate::store::DbConnection) -> Result<Result<T, RegistryError>, RegistryError>,
) -> Result<T, RegistryError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match crate::store::write_transaction(connection, &mut once) {
            Err(RegistryError::Database(error)) if attempt < 3 && crate::store::is_retryable_conflict(&error) => {
                continue
            }
            Ok(outcome) => return outcome,
            Err(error) => return Err(error),
        }
    }
}
