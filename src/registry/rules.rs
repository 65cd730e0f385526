//! The registry's rules as pure functions, written once for both paths: a
//! request decided alone (`receivable.rs`, `decision.rs`) and a batch
//! decided set-based (`set_based.rs`) read what they need differently, then
//! hand it here, so the order of the checks — which refusal wins — cannot
//! drift between them. Nothing here reads or writes the database.

use super::error::{Refusal, UseCaseError};
use super::receivable::NewReceivable;
use crate::domain::{format_minor_units, Fingerprint, Money, PublicKey, PurchaseOrderStatus, ReceivableStatus};
use crate::domain::{Signature, SignedAction};
use crate::store::registry::{PurchaseOrderRow, ReceivableRow};

/// What a registration comes to.
#[derive(Debug)]
pub(super) enum RegistrationPlan<'a> {
    /// Refused: the invoice is registered already (`existing`); the attempt
    /// raises a `duplicate_registration` alert that names it.
    Duplicate { existing: &'a ReceivableRow },
    /// Registered (consuming its amount of the purchase order, if it names
    /// one); a `near_duplicate_registration` alert names `near_duplicate_of`
    /// when the same seller already registered an invoice alike.
    Register {
        near_duplicate_of: Option<&'a ReceivableRow>,
    },
}

/// A registration's checks, in order, on what the database holds:
///
/// 1. `existing`, the receivable already registered under the invoice's
///    fingerprint: a duplicate, whatever else is wrong with the request
///    (the attempt is what the alert is about);
/// 2. the purchase order the invoice names, `order` as read by its id
///    (`None` when there is none): the supplier's own, from the same buyer,
///    in the invoice's currency, open, with enough left to invoice;
/// 3. `earlier_alike`, the seller's earliest invoice with the same buyer,
///    issue date, currency and amount: a near duplicate, registered anyway.
///
/// The parties (a supplier that exists, a buyer that is a core enterprise)
/// were checked before: the fingerprint is made of their legal ids.
pub(super) fn plan_registration<'a>(
    supplier_id: &str,
    buyer_id: &str,
    new: &NewReceivable,
    existing: Option<&'a ReceivableRow>,
    order: Option<&PurchaseOrderRow>,
    earlier_alike: Option<&'a ReceivableRow>,
) -> Result<RegistrationPlan<'a>, UseCaseError> {
    if let Some(existing) = existing {
        return Ok(RegistrationPlan::Duplicate { existing });
    }
    if new.purchase_order_id.is_some() {
        let order = order
            .filter(|order| order.supplier_id == supplier_id)
            .ok_or_else(|| UseCaseError::field("purchase_order_id", "no purchase order of yours has this id"))?;
        invoicable_against(order, buyer_id, new)?;
    }
    Ok(RegistrationPlan::Register {
        near_duplicate_of: earlier_alike,
    })
}

/// Whether `new` may be invoiced against the supplier's `order`.
fn invoicable_against(order: &PurchaseOrderRow, buyer_id: &str, new: &NewReceivable) -> Result<(), UseCaseError> {
    let currency = new.amount.currency().code();
    if order.buyer_id != buyer_id {
        return Err(UseCaseError::field(
            "purchase_order_id",
            "the purchase order was placed by another buyer",
        ));
    }
    if order.currency != currency {
        return Err(UseCaseError::field(
            "purchase_order_id",
            format!("the purchase order is in {}, the invoice in {currency}", order.currency),
        ));
    }
    if !matches!(
        order.status,
        PurchaseOrderStatus::Registered | PurchaseOrderStatus::Acknowledged
    ) {
        return Err(UseCaseError::field(
            "purchase_order_id",
            format!("the purchase order is {}", order.status),
        ));
    }
    if order.amount_minor.saturating_sub(order.invoiced_minor) < new.amount.minor_units() {
        return Err(exceeds_order(order, &new.amount));
    }
    Ok(())
}

/// The refusal of an invoice for more than `order` has left to invoice, as
/// read in `order` (the conditional update that consumes the amount gives
/// the same answer when a racing invoice took it first).
pub(super) fn exceeds_order(order: &PurchaseOrderRow, amount: &Money) -> UseCaseError {
    let remaining = order.amount_minor.saturating_sub(order.invoiced_minor).max(0);
    UseCaseError::refused(
        Refusal::ExceedsPoAmount,
        format!(
            "the purchase order has {} {} left to invoice; this invoice is for {}",
            format_minor_units(remaining, amount.currency()),
            amount.currency().code(),
            amount.amount_string()
        ),
    )
}

/// The signing key and the signature, as the ledger entry keeps them.
type Signed = ([u8; 32], [u8; 64]);

/// A confirmation's checks after visibility (a receivable the caller may
/// not see is 404 before this), in order: the caller is the receivable's
/// buyer (403), the signature over the canonical `confirm` message (plain
/// `fingerprint`, amount, due date, parties) verifies with one of the
/// buyer's active `keys` (422), and the receivable, as this transaction
/// sees it (`status`), is still registered (409). Returns the signed action,
/// the face value and the key and signature for the ledger.
pub(super) fn check_confirmation(
    receivable: &ReceivableRow,
    status: ReceivableStatus,
    fingerprint: &Fingerprint,
    caller: &str,
    keys: &[PublicKey],
    signature: &Signature,
) -> Result<(SignedAction, Money, Signed), UseCaseError> {
    super::decision::buyers_receivable(receivable, caller)?;
    if receivable.credited_minor >= receivable.amount_minor {
        // No message to sign: nothing is owed.
        if status != ReceivableStatus::Registered {
            return Err(super::decision::state_refusal(status));
        }
        return Err(UseCaseError::refused(
            Refusal::NothingOutstanding,
            "credit notes cancel the whole invoice: nothing is owed to confirm",
        ));
    }
    let (action, amount) = super::decision::confirmation(receivable, fingerprint)?;
    let signed = super::parties::check_signed(keys, &action, signature)?;
    if status != ReceivableStatus::Registered {
        return Err(super::decision::state_refusal(status));
    }
    if let Some(correction) = &receivable.superseded_by {
        return Err(UseCaseError::refused(
            Refusal::Superseded,
            format!("corrected invoice {correction} replaced this receivable; confirm that one instead"),
        ));
    }
    Ok((action, amount, signed))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use ed25519_dalek::{Signer, SigningKey};
    use uuid::Uuid;

    use super::*;
    use crate::domain::{Currency, InvoiceNumber};

    const SUPPLIER: &str = "00000000-0000-4000-8000-000000000001";
    const BUYER: &str = "00000000-0000-4000-8000-000000000002";
    const OTHER: &str = "00000000-0000-4000-8000-000000000003";
    const ORDER: &str = "00000000-0000-4000-8000-000000000004";

    fn cny(amount: &str) -> Money {
        Money::parse(amount, Currency::parse("CNY").unwrap()).unwrap()
    }

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn invoice(amount: &str, on_order: bool) -> NewReceivable {
        NewReceivable {
            buyer_id: Uuid::parse_str(BUYER).unwrap(),
            invoice_number: InvoiceNumber::parse("INV-1").unwrap(),
            issue_date: date("2026-11-01"),
            due_date: date("2027-03-31"),
            amount: cny(amount),
            purchase_order_id: on_order.then(|| Uuid::parse_str(ORDER).unwrap()),
            order_reference: None,
        }
    }

    fn receivable(id: &str, status: ReceivableStatus) -> ReceivableRow {
        ReceivableRow {
            id: id.to_owned(),
            fingerprint: vec![7; 32],
            supplier_id: SUPPLIER.to_owned(),
            buyer_id: BUYER.to_owned(),
            invoice_number: "INV-1".to_owned(),
            purchase_order_id: None,
            issue_date: date("2026-11-01"),
            due_date: date("2027-03-31"),
            currency: "CNY".to_owned(),
            amount_minor: 100_000,
            status,
            dispute_reason: None,
            leaf_hash: vec![0; 32],
            created_at: date("2026-11-01").and_hms_opt(0, 0, 0).unwrap(),
            decided_at: None,
            credited_minor: 0,
            superseded_by: None,
            order_reference: None,
        }
    }

    fn order(change: impl FnOnce(&mut PurchaseOrderRow)) -> PurchaseOrderRow {
        let mut order = PurchaseOrderRow {
            id: ORDER.to_owned(),
            fingerprint: vec![9; 32],
            supplier_id: SUPPLIER.to_owned(),
            buyer_id: BUYER.to_owned(),
            po_number: "PO-1".to_owned(),
            issue_date: date("2026-10-01"),
            currency: "CNY".to_owned(),
            amount_minor: 100_000,
            invoiced_minor: 40_000,
            status: PurchaseOrderStatus::Acknowledged,
            leaf_hash: vec![0; 32],
            created_at: date("2026-10-01").and_hms_opt(0, 0, 0).unwrap(),
            acknowledged_at: None,
        };
        change(&mut order);
        order
    }

    /// A case: its name, the invoice, the receivable registered under its
    /// fingerprint, the order read, and the outcome expected.
    type Case<'a> = (
        &'static str,
        NewReceivable,
        Option<&'a ReceivableRow>,
        Option<PurchaseOrderRow>,
        (String, Option<String>),
    );

    /// The refusal's code and field, or "register"/"duplicate".
    fn outcome(result: Result<RegistrationPlan<'_>, UseCaseError>) -> (String, Option<String>) {
        match result {
            Ok(RegistrationPlan::Duplicate { .. }) => ("duplicate".to_owned(), None),
            Ok(RegistrationPlan::Register { near_duplicate_of }) => (
                format!("register, near duplicate: {}", near_duplicate_of.is_some()),
                None,
            ),
            Err(error) => {
                let (refusal, _, field) = error.refusal().unwrap();
                (refusal.code().to_owned(), field)
            }
        }
    }

    #[test]
    fn registration_checks_win_in_their_order() {
        let existing = receivable("r-existing", ReceivableStatus::Registered);
        let alike = receivable("r-alike", ReceivableStatus::Registered);
        let field = |code: &str| (code.to_owned(), Some("purchase_order_id".to_owned()));
        let cases: Vec<Case<'_>> = vec![
            // A duplicate wins over everything wrong with its order.
            (
                "duplicate",
                invoice("9999.00", true),
                Some(&existing),
                None,
                ("duplicate".to_owned(), None),
            ),
            ("no order", invoice("10.00", true), None, None, field("invalid_field")),
            (
                "another supplier's order reads as none",
                invoice("10.00", true),
                None,
                Some(order(|o| o.supplier_id = OTHER.to_owned())),
                field("invalid_field"),
            ),
            // Another buyer wins over a currency, a state and an amount.
            (
                "another buyer",
                invoice("9999.00", true),
                None,
                Some(order(|o| {
                    o.buyer_id = OTHER.to_owned();
                    o.currency = "USD".to_owned();
                    o.status = PurchaseOrderStatus::Closed;
                })),
                field("invalid_field"),
            ),
            (
                "another currency",
                invoice("9999.00", true),
                None,
                Some(order(|o| {
                    o.currency = "USD".to_owned();
                    o.status = PurchaseOrderStatus::Closed;
                })),
                field("invalid_field"),
            ),
            (
                "a closed order",
                invoice("9999.00", true),
                None,
                Some(order(|o| o.status = PurchaseOrderStatus::Closed)),
                field("invalid_field"),
            ),
            (
                "more than is left",
                invoice("600.01", true),
                None,
                Some(order(|_| {})),
                ("exceeds_po_amount".to_owned(), None),
            ),
            (
                "exactly what is left",
                invoice("600.00", true),
                None,
                Some(order(|_| {})),
                ("register, near duplicate: false".to_owned(), None),
            ),
            (
                "no order named: the order read is ignored",
                invoice("10.00", false),
                None,
                Some(order(|o| o.buyer_id = OTHER.to_owned())),
                ("register, near duplicate: false".to_owned(), None),
            ),
        ];
        for (name, new, existing, order, expected) in cases {
            let got = outcome(plan_registration(SUPPLIER, BUYER, &new, existing, order.as_ref(), None));
            assert_eq!(got, expected, "{name}");
        }
        // A near duplicate is registered, and named.
        let new = invoice("10.00", false);
        match plan_registration(SUPPLIER, BUYER, &new, None, None, Some(&alike)).unwrap() {
            RegistrationPlan::Register {
                near_duplicate_of: Some(earlier),
            } => assert_eq!(earlier.id, "r-alike"),
            other => panic!("{other:?}"),
        }
        // Even a near duplicate's amount must fit its order.
        let new = invoice("600.01", true);
        let result = plan_registration(SUPPLIER, BUYER, &new, None, Some(&order(|_| {})), Some(&alike));
        assert_eq!(outcome(result).0, "exceeds_po_amount");
    }

    #[test]
    fn what_is_left_of_an_order_is_said_in_its_currency() {
        let error = exceeds_order(&order(|_| {}), &cny("600.01"));
        assert_eq!(
            error.to_string(),
            "the purchase order has 600.00 CNY left to invoice; this invoice is for 600.01"
        );
    }

    #[test]
    fn confirmation_checks_win_in_their_order() {
        let buyer_key = SigningKey::from_bytes(&[5; 32]);
        let keys = [PublicKey::parse_hex(&hex::encode(buyer_key.verifying_key().to_bytes())).unwrap()];
        let fingerprint = Fingerprint::from_bytes(&[3; 32]).unwrap();
        let registered = receivable("00000000-0000-4000-8000-00000000000a", ReceivableStatus::Registered);
        let (action, _) = super::super::decision::confirmation(&registered, &fingerprint).unwrap();
        let good = Signature::parse_hex(&hex::encode(
            buyer_key.sign(action.canonical_message().as_bytes()).to_bytes(),
        ))
        .unwrap();
        let bad = Signature::parse_hex(&hex::encode(
            SigningKey::from_bytes(&[6; 32])
                .sign(action.canonical_message().as_bytes())
                .to_bytes(),
        ))
        .unwrap();
        let code = |status, caller: &str, signature: &Signature| match check_confirmation(
            &registered,
            status,
            &fingerprint,
            caller,
            &keys,
            signature,
        ) {
            Ok(_) => "confirmed".to_owned(),
            Err(error) => error.refusal().unwrap().0.code().to_owned(),
        };
        // Not the buyer wins over a bad signature and a decided receivable;
        // a bad signature over a decided receivable.
        assert_eq!(code(ReceivableStatus::Disputed, SUPPLIER, &bad), "forbidden");
        assert_eq!(code(ReceivableStatus::Disputed, BUYER, &bad), "invalid_signature");
        assert_eq!(code(ReceivableStatus::Disputed, BUYER, &good), "already_disputed");
        assert_eq!(code(ReceivableStatus::Confirmed, BUYER, &good), "already_confirmed");
        assert_eq!(code(ReceivableStatus::Registered, BUYER, &good), "confirmed");
    }
}
