//! The payment waterfall as a pure function: who a buyer's payment pays,
//! asset by asset. For each open asset the payment reaches, a pledge's bank
//! (the lienholder) is paid first, up to the pledged amount; the asset's
//! holder gets the rest. After an assignment the bank is the holder, and is
//! paid it all as such. Nothing is paid twice and nothing is lost: the
//! shares of an asset add up to its face value exactly.

/// Who a share is paid to, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The bank holding the asset's active pledge, up to its amount.
    Lienholder,
    /// The asset's holder: the rest (all of it after an assignment).
    Holder,
}

impl Role {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Role::Lienholder => "lienholder",
            Role::Holder => "holder",
        }
    }
}

/// An active lien on an asset the payment reaches.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lien<'a> {
    pub id: &'a str,
    pub bank_id: &'a str,
    /// A pledge, or else an assignment (a sale: the bank is the holder).
    pub pledge: bool,
    pub amount_minor: i64,
}

/// An open asset the payment reaches.
#[derive(Debug, Clone, Copy)]
pub(super) struct Leaf<'a> {
    pub asset_id: &'a str,
    pub holder_id: &'a str,
    pub face_value_minor: i64,
    pub lien: Option<Lien<'a>>,
}

/// One payee's share of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Share<'a> {
    pub org_id: &'a str,
    pub minor_units: i64,
    pub asset_id: &'a str,
    pub role: Role,
}

/// What the payment does to a lien: it settles with this share (0 for an
/// assignment's bank, which is paid as the holder; it is the receipt that
/// ends the lien either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settlement<'a> {
    pub lien_id: &'a str,
    pub share_minor: i64,
}

/// The shares of a payment of all of `leaves`, in the leaves' order, each
/// asset's lienholder before its holder; and the liens it settles. Shares
/// of nothing are left out.
pub(super) fn waterfall<'a>(leaves: &[Leaf<'a>]) -> (Vec<Share<'a>>, Vec<Settlement<'a>>) {
    let mut shares = Vec::new();
    let mut settlements = Vec::new();
    for leaf in leaves {
        let mut rest = leaf.face_value_minor;
        if let Some(lien) = leaf.lien {
            let share_minor = if lien.pledge {
                let to_bank = lien.amount_minor.clamp(0, rest.max(0));
                rest -= to_bank;
                if to_bank > 0 {
                    shares.push(Share {
                        org_id: lien.bank_id,
                        minor_units: to_bank,
                        asset_id: leaf.asset_id,
                        role: Role::Lienholder,
                    });
                }
                to_bank
            } else {
                // The holder is the bank: paid below, as the holder.
                rest
            };
            settlements.push(Settlement {
                lien_id: lien.id,
                share_minor,
            });
        }
        if rest > 0 {
            shares.push(Share {
                org_id: leaf.holder_id,
                minor_units: rest,
                asset_id: leaf.asset_id,
                role: Role::Holder,
            });
        }
    }
    (shares, settlements)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const BANKS: [&str; 3] = ["bank-a", "bank-b", "bank-c"];
    const HOLDERS: [&str; 3] = ["supplier", "second-supplier", "bank-a"];
    const IDS: [&str; 8] = ["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"];
    const LIENS: [&str; 8] = ["l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7"];

    #[test]
    fn a_pledge_is_paid_first_up_to_its_amount() {
        let pledged = |amount_minor| Leaf {
            asset_id: "a0",
            holder_id: "supplier",
            face_value_minor: 100_000,
            lien: Some(Lien {
                id: "l0",
                bank_id: "bank-a",
                pledge: true,
                amount_minor,
            }),
        };
        let (shares, settlements) = waterfall(&[pledged(70_000)]);
        assert_eq!(
            shares,
            vec![
                Share {
                    org_id: "bank-a",
                    minor_units: 70_000,
                    asset_id: "a0",
                    role: Role::Lienholder
                },
                Share {
                    org_id: "supplier",
                    minor_units: 30_000,
                    asset_id: "a0",
                    role: Role::Holder
                },
            ]
        );
        assert_eq!(
            settlements,
            vec![Settlement {
                lien_id: "l0",
                share_minor: 70_000
            }]
        );
        // Pledged for all of it: the holder gets nothing, and no share of 0.
        let (shares, _) = waterfall(&[pledged(100_000)]);
        assert_eq!(shares.len(), 1);
        assert_eq!(shares[0].role, Role::Lienholder);
    }

    #[test]
    fn an_assignment_pays_its_bank_as_the_holder() {
        let sold = Leaf {
            asset_id: "a0",
            holder_id: "bank-a",
            face_value_minor: 100_000,
            lien: Some(Lien {
                id: "l0",
                bank_id: "bank-a",
                pledge: false,
                amount_minor: 95_000,
            }),
        };
        let (shares, settlements) = waterfall(&[sold]);
        assert_eq!(
            shares,
            vec![Share {
                org_id: "bank-a",
                minor_units: 100_000,
                asset_id: "a0",
                role: Role::Holder
            }]
        );
        assert_eq!(settlements[0].share_minor, 100_000);
    }

    /// A leaf: face value, holder, and maybe a lien (bank, pledge?, amount).
    type RawLeaf = (i64, usize, Option<(usize, bool, i64)>);

    fn leaves() -> impl Strategy<Value = Vec<RawLeaf>> {
        prop::collection::vec(
            (
                1i64..=i64::MAX / 16,
                0..HOLDERS.len(),
                prop::option::of((0..BANKS.len(), any::<bool>(), 1i64..=i64::MAX / 16)),
            ),
            0..IDS.len(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn money_is_conserved_and_the_lienholder_comes_first(raw in leaves()) {
            let leaves: Vec<Leaf<'_>> = raw
                .iter()
                .enumerate()
                .map(|(index, (face, holder, lien))| Leaf {
                    asset_id: IDS[index],
                    holder_id: HOLDERS[*holder],
                    face_value_minor: *face,
                    lien: lien.map(|(bank, pledge, amount_minor)| Lien {
                        id: LIENS[index],
                        bank_id: BANKS[bank],
                        pledge,
                        amount_minor,
                    }),
                })
                .collect();
            let (shares, settlements) = waterfall(&leaves);
            let paid: i128 = shares.iter().map(|share| i128::from(share.minor_units)).sum();
            let owed: i128 = leaves.iter().map(|leaf| i128::from(leaf.face_value_minor)).sum();
            // Exactly what is paid is distributed: no more, no less.
            prop_assert_eq!(paid, owed);
            prop_assert!(shares.iter().all(|share| share.minor_units > 0));
            for leaf in &leaves {
                let of_leaf: Vec<&Share<'_>> = shares.iter().filter(|share| share.asset_id == leaf.asset_id).collect();
                prop_assert_eq!(of_leaf.iter().map(|share| share.minor_units).sum::<i64>(), leaf.face_value_minor);
                match leaf.lien {
                    Some(lien) if lien.pledge => {
                        // The lienholder first, never more than its pledge,
                        // and all it is owed before the holder gets any.
                        let to_bank = lien.amount_minor.min(leaf.face_value_minor);
                        prop_assert_eq!(of_leaf[0].role, Role::Lienholder);
                        prop_assert_eq!(of_leaf[0].org_id, lien.bank_id);
                        prop_assert_eq!(of_leaf[0].minor_units, to_bank);
                        prop_assert!(of_leaf[1..].iter().all(|share| share.role == Role::Holder));
                        let settled = settlements.iter().find(|s| s.lien_id == lien.id);
                        prop_assert_eq!(settled.map(|s| s.share_minor), Some(to_bank));
                    }
                    _ => {
                        prop_assert_eq!(of_leaf.len(), 1);
                        prop_assert_eq!(of_leaf[0].role, Role::Holder);
                        prop_assert_eq!(of_leaf[0].org_id, leaf.holder_id);
                    }
                }
            }
            // Every lien reached is settled once; no other.
            prop_assert_eq!(settlements.len(), leaves.iter().filter(|leaf| leaf.lien.is_some()).count());
            // Shares come in the leaves' order.
            let order: Vec<&str> = shares.iter().map(|share| share.asset_id).collect();
            let mut sorted = order.clone();
            sorted.sort_by_key(|id| IDS.iter().position(|known| known == id));
            prop_assert_eq!(order, sorted);
        }
    }
}
