//! The lifecycles of what the service keeps: each a closed set of states
//! with the transitions allowed between them, written once here
//! (docs/PRODUCT.md describes them). States are stored as TEXT through one
//! `ToSql`/`FromSql` each, generated here with the type (the stored text is
//! part of the type's contract: the migrations' CHECK constraints list it;
//! this is the one place `domain` touches diesel, through its derives), and
//! every conditional update that moves a row takes its "from" states from
//! [`sources`] of its target, so a transition not listed here cannot be
//! written.
//!
//! [`sources`]: PurchaseOrderStatus::sources

/// Declares a lifecycle: its states with their stored text, and its
/// transitions.
macro_rules! lifecycle {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$state_meta:meta])* $state:ident => $text:literal),+ $(,)?
        }
        transitions { $($from:ident -> $to:ident),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$state_meta])* $state),+
        }

        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                $name::parse(&text).ok_or_else(|| format!("{text:?} is not a {}", stringify!($name)).into())
            }
        }

        impl $name {
            /// Every state.
            pub const ALL: &'static [$name] = &[$($name::$state),+];

            /// The allowed transitions, (from, to).
            pub const TRANSITIONS: &'static [($name, $name)] = &[$(($name::$from, $name::$to)),*];

            /// The state's stored (and shown) text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$state => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$state),)+
                    _ => None,
                }
            }

            /// Whether a row in this state may move to `to`.
            pub fn may_become(self, to: $name) -> bool {
                Self::TRANSITIONS.contains(&(self, to))
            }

            /// The states a row may reach `to` from: the "from" of a
            /// conditional update.
            pub fn sources(to: $name) -> Vec<$name> {
                Self::TRANSITIONS
                    .iter()
                    .filter(|(_, target)| *target == to)
                    .map(|(from, _)| *from)
                    .collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

lifecycle! {
    /// A purchase order. Closing and cancelling are states the schema
    /// keeps for orders fulfilled or withdrawn; no use case reaches them
    /// yet.
    PurchaseOrderStatus {
        Registered => "registered",
        Acknowledged => "acknowledged",
        Closed => "closed",
        Cancelled => "cancelled",
    }
    transitions {
        Registered -> Acknowledged,
    }
}

lifecycle! {
    /// A receivable (an invoice).
    ReceivableStatus {
        Registered => "registered",
        Confirmed => "confirmed",
        Disputed => "disputed",
        Settled => "settled",
        Defaulted => "defaulted",
    }
    transitions {
        Registered -> Confirmed,
        Registered -> Disputed,
        Confirmed -> Settled,
        Confirmed -> Defaulted,
        Defaulted -> Settled,
    }
}

lifecycle! {
    /// An asset minted from a confirmed receivable (or split from one).
    AssetStatus {
        /// May be offered, financed, split, paid.
        Active => "active",
        /// Split into children; never financed again.
        Retired => "retired",
        Settled => "settled",
        /// Unpaid past its due date; a late payment still settles it.
        Defaulted => "defaulted",
    }
    transitions {
        Active -> Retired,
        Active -> Settled,
        Active -> Defaulted,
        Defaulted -> Settled,
    }
}

lifecycle! {
    /// A lien: a pledge or an assignment.
    LienStatus {
        Active => "active",
        /// The bank let go of its pledge.
        Released => "released",
        /// The buyer's payment reached the bank; its receipt is awaited.
        Settling => "settling",
        Settled => "settled",
    }
    transitions {
        Active -> Released,
        Active -> Settling,
        Settling -> Settled,
    }
}

lifecycle! {
    /// A holder's offer to one bank.
    OfferStatus {
        Open => "open",
        Taken => "taken",
        Withdrawn => "withdrawn",
        Lapsed => "lapsed",
    }
    transitions {
        Open -> Taken,
        Open -> Withdrawn,
        Open -> Lapsed,
    }
}

lifecycle! {
    /// An alert, as one organisation's audience holds it.
    AlertStatus {
        Open => "open",
        Acknowledged => "acknowledged",
    }
    transitions {
        Open -> Acknowledged,
    }
}

lifecycle! {
    /// An alert e-mail in the outbox.
    DeliveryStatus {
        Pending => "pending",
        Sent => "sent",
    }
    transitions {
        Pending -> Sent,
    }
}

impl ReceivableStatus {
    /// Confirmed by its buyer, whatever happened since.
    pub fn is_confirmed(self) -> bool {
        matches!(
            self,
            ReceivableStatus::Confirmed | ReceivableStatus::Settled | ReceivableStatus::Defaulted
        )
    }
}

impl AssetStatus {
    /// Still owed: a payment covers it.
    pub fn is_open(self) -> bool {
        matches!(self, AssetStatus::Active | AssetStatus::Defaulted)
    }
}

impl LienStatus {
    /// Its bank sees the asset: while the lien lasts, and once the payment
    /// settled it (a released lien gives no more sight).
    pub const SIGHTED: [LienStatus; 3] = [LienStatus::Active, LienStatus::Settling, LienStatus::Settled];

    /// Standing: the asset's view shows it.
    pub const STANDING: [LienStatus; 2] = [LienStatus::Active, LienStatus::Settling];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip_and_are_distinct() {
        fn check<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            text: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            let mut texts: Vec<&str> = all.iter().map(|state| text(*state)).collect();
            for state in all {
                assert_eq!(parse(text(*state)), Some(*state));
            }
            texts.sort_unstable();
            texts.dedup();
            assert_eq!(texts.len(), all.len());
            assert_eq!(parse("nonsense"), None);
        }
        check(
            PurchaseOrderStatus::ALL,
            PurchaseOrderStatus::as_str,
            PurchaseOrderStatus::parse,
        );
        check(ReceivableStatus::ALL, ReceivableStatus::as_str, ReceivableStatus::parse);
        check(AssetStatus::ALL, AssetStatus::as_str, AssetStatus::parse);
        check(LienStatus::ALL, LienStatus::as_str, LienStatus::parse);
        check(OfferStatus::ALL, OfferStatus::as_str, OfferStatus::parse);
        check(AlertStatus::ALL, AlertStatus::as_str, AlertStatus::parse);
        check(DeliveryStatus::ALL, DeliveryStatus::as_str, DeliveryStatus::parse);
    }

    #[test]
    fn transitions_are_the_documented_ones() {
        assert!(AssetStatus::Active.may_become(AssetStatus::Retired));
        assert!(!AssetStatus::Retired.may_become(AssetStatus::Active));
        assert!(!AssetStatus::Settled.may_become(AssetStatus::Defaulted));
        assert_eq!(
            AssetStatus::sources(AssetStatus::Settled),
            vec![AssetStatus::Active, AssetStatus::Defaulted]
        );
        assert_eq!(LienStatus::sources(LienStatus::Settled), vec![LienStatus::Settling]);
        assert_eq!(
            ReceivableStatus::sources(ReceivableStatus::Settled),
            vec![ReceivableStatus::Confirmed, ReceivableStatus::Defaulted]
        );
        assert!(
            OfferStatus::sources(OfferStatus::Open).is_empty(),
            "nothing reopens an offer"
        );
        // Final states go nowhere.
        for (from, _) in LienStatus::TRANSITIONS {
            assert!(!matches!(from, LienStatus::Released | LienStatus::Settled));
        }
        assert!(ReceivableStatus::Defaulted.is_confirmed() && !ReceivableStatus::Disputed.is_confirmed());
    }
}
