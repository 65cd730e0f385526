//! Loading the organisations a registry action involves, by id or by the
//! identifiers a document names them with.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use super::error::{corrupt, UseCaseError};
use crate::domain::{
    normalize_identifier, verify_with_any, IdentifierScheme, LegalId, PartyReference, PublicKey, Role, Signature,
    SignedAction,
};
use crate::store::organizations::{self as organizations, OrganizationKeyRow, OrganizationRow};
use crate::store::DbConnection;

/// An onboarded organisation with its parsed legal id and role.
#[derive(Clone)]
pub(crate) struct Party {
    pub row: OrganizationRow,
    pub legal_id: LegalId,
    pub role: Role,
}

impl Party {
    pub fn id(&self) -> &str {
        &self.row.id
    }

    pub fn from_row(row: OrganizationRow) -> Result<Party, UseCaseError> {
        let legal_id = LegalId::parse(&row.legal_id).map_err(|_| corrupt("legal id"))?;
        let role = row.role.parse::<Role>().map_err(|_| corrupt("role"))?;
        Ok(Party { row, legal_id, role })
    }
}

pub(crate) fn load(connection: &mut DbConnection, id: &str) -> Result<Option<Party>, UseCaseError> {
    organizations::find_organization(connection, id)?
        .map(Party::from_row)
        .transpose()
}

/// The organisation a request names in `field`, which must have `role`.
pub(crate) fn load_with_role(
    connection: &mut DbConnection,
    field: &str,
    id: Uuid,
    role: Role,
) -> Result<Party, UseCaseError> {
    with_role(load(connection, &id.to_string())?, field, role)
}

/// The organisation a request names in `field` (if found), which must have
/// `role`.
pub(crate) fn with_role(party: Option<Party>, field: &str, role: Role) -> Result<Party, UseCaseError> {
    let party = party.ok_or_else(|| UseCaseError::field(field, "no organisation has this id"))?;
    if party.role != role {
        return Err(UseCaseError::field(
            field,
            format!("this organisation is not a {}", role.as_str()),
        ));
    }
    Ok(party)
}

/// The one onboarded organisation a document names with `references` (the
/// identifiers it gives for one party), for an error in `field`.
///
/// A reference matches an organisation that holds an identifier with its
/// normalised value and, when the reference states a scheme, that scheme
/// (upper case; a scheme that is neither an ICD code nor `VAT` matches no
/// identifier), and the organisation whose normalised legal id is its
/// normalised value, whatever scheme it states. The references must match
/// exactly one organisation between them: none is an error, and so are two
/// (a document whose identifiers name different parties is not guessed at).
// Its callers are the document imports, being rewritten on their own branch.
pub(crate) fn resolve(
    connection: &mut DbConnection,
    references: &[PartyReference],
    field: &str,
) -> Result<Party, UseCaseError> {
    if references.is_empty() {
        return Err(UseCaseError::field(field, "no identifier given"));
    }
    let values: Vec<String> = references
        .iter()
        .map(|reference| normalize_identifier(&reference.value))
        .collect();
    // A value that normalises to nothing ("---") names nobody.
    let wanted: Vec<String> = values
        .iter()
        .filter(|value| !value.is_empty())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let held = organizations::identifiers_with_values(connection, &wanted)?;
    let by_legal_id = organizations::find_organizations_by_normalized_legal_ids(connection, &wanted)?;

    // Which organisations each reference matches, by index.
    let mut matches: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (index, (reference, value)) in references.iter().zip(&values).enumerate() {
        let scheme = reference.scheme.as_deref().map(IdentifierScheme::parse);
        let by_identifier = held.iter().filter(|row| {
            row.normalized_value == *value
                && match &scheme {
                    None => true,
                    Some(Ok(scheme)) => row.scheme == scheme.as_str(),
                    Some(Err(_)) => false,
                }
        });
        let found: BTreeSet<String> = by_identifier
            .map(|row| row.organization_id.clone())
            .chain(
                by_legal_id
                    .iter()
                    .filter(|row| row.legal_id_normalized == *value)
                    .map(|row| row.id.clone()),
            )
            .collect();
        if !found.is_empty() {
            matches.insert(index, found);
        }
    }

    let ids: Vec<String> = matches
        .values()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        let listed: Vec<String> = references.iter().map(describe).collect();
        return Err(UseCaseError::field(
            field,
            format!(
                "no onboarded organisation has any of these identifiers: {}",
                listed.join(", ")
            ),
        ));
    }
    let rows = organizations::find_organizations(connection, &ids)?;
    if rows.len() != ids.len() {
        return Err(corrupt("organisation identifier"));
    }
    if let [row] = rows.as_slice() {
        return Party::from_row(row.clone());
    }
    let legal_ids: BTreeMap<&str, &str> = rows
        .iter()
        .map(|row| (row.id.as_str(), row.legal_id.as_str()))
        .collect();
    let listed: Vec<String> = matches
        .iter()
        .map(|(&index, found)| {
            let named: Vec<&str> = found
                .iter()
                .filter_map(|id| legal_ids.get(id.as_str()).copied())
                .collect();
            let noun = if named.len() == 1 { "legal id" } else { "legal ids" };
            format!("{} ({noun} {})", describe(&references[index]), named.join(" and "))
        })
        .collect();
    Err(UseCaseError::field(
        field,
        format!("these identifiers name different organisations: {}", listed.join(", ")),
    ))
}

/// `source=SCHEME:value`, or `source=value` when no scheme is stated.
fn describe(reference: &PartyReference) -> String {
    match &reference.scheme {
        Some(scheme) => format!("{}={}:{}", reference.source, scheme, reference.value),
        None => format!("{}={}", reference.source, reference.value),
    }
}

/// Verifies a signature by one of `signer`'s active keys over the canonical
/// message of `action`; returns the key and signature for the ledger.
pub(crate) fn verify_signed(
    connection: &mut DbConnection,
    signer: &str,
    action: &SignedAction,
    signature: &Signature,
) -> Result<([u8; 32], [u8; 64]), UseCaseError> {
    let keys = parse_keys(&organizations::active_public_keys(connection, signer)?)?;
    check_signed(&keys, action, signature)
}

/// The stored keys, parsed (one that does not parse is corruption).
pub(crate) fn parse_keys(rows: &[OrganizationKeyRow]) -> Result<Vec<PublicKey>, UseCaseError> {
    rows.iter()
        .map(|row| PublicKey::parse_hex(&row.public_key).map_err(|_| corrupt("public key")))
        .collect()
}

/// [`verify_signed`] with the signer's keys already read.
pub(crate) fn check_signed(
    keys: &[PublicKey],
    action: &SignedAction,
    signature: &Signature,
) -> Result<([u8; 32], [u8; 64]), UseCaseError> {
    let key = verify_with_any(keys, action.canonical_message().as_bytes(), signature).map_err(|error| {
        UseCaseError::refused(
            crate::refusal::Refusal::InvalidSignature,
            format!(
                "the signature is not valid for the canonical {} message by one of the signer's active keys: {error}",
                action.action_name()
            ),
        )
    })?;
    Ok((*key.as_bytes(), signature.to_bytes()))
}

#[cfg(test)]
mod tests {
    use diesel::{Connection, PgConnection, RunQueryDsl};

    use super::*;
    use crate::organizations::{onboard, IdentifierRequest, OrganizationRequest};
    use crate::store::{migrations, DatabaseUrl};

    /// A fresh, migrated database: a temporary SQLite file, or a PostgreSQL
    /// database of its own (dropped afterwards) beside the one
    /// `ANCHORFIN_TEST_DATABASE_URL` names.
    struct FreshDatabase {
        connection: DbConnection,
        postgres: Option<(String, String)>,
        _directory: tempfile::TempDir,
    }

    impl FreshDatabase {
        fn sqlite() -> FreshDatabase {
            let directory = tempfile::tempdir().unwrap();
            let connection = DatabaseUrl::sqlite_in(directory.path()).establish().unwrap();
            FreshDatabase::migrated(connection, None, directory)
        }

        fn postgres() -> Option<FreshDatabase> {
            let admin_url = std::env::var("ANCHORFIN_TEST_DATABASE_URL").ok()?;
            let name = format!("anchorfin_parties_{}", Uuid::new_v4().simple());
            let mut admin = PgConnection::establish(&admin_url).unwrap();
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap();
            let (base, query) = admin_url
                .split_once('?')
                .map_or((admin_url.as_str(), None), |(base, query)| (base, Some(query)));
            let (server, _) = base.rsplit_once('/').unwrap();
            let url = match query {
                Some(query) => format!("{server}/{name}?{query}"),
                None => format!("{server}/{name}"),
            };
            let connection = DatabaseUrl::parse(&url).unwrap().establish().unwrap();
            Some(FreshDatabase::migrated(
                connection,
                Some((admin_url, name)),
                tempfile::tempdir().unwrap(),
            ))
        }

        fn migrated(
            mut connection: DbConnection,
            postgres: Option<(String, String)>,
            directory: tempfile::TempDir,
        ) -> FreshDatabase {
            migrations::run_pending(&mut connection).unwrap();
            FreshDatabase {
                connection,
                postgres,
                _directory: directory,
            }
        }

        /// Onboards a supplier; its id.
        fn onboard(&mut self, legal_id: &str, identifiers: &[(&str, &str)]) -> String {
            let new = OrganizationRequest {
                name: legal_id.to_owned(),
                role: "supplier".to_owned(),
                legal_id: legal_id.to_owned(),
                identifiers: identifiers
                    .iter()
                    .map(|(scheme, value)| IdentifierRequest {
                        scheme: (*scheme).to_owned(),
                        value: (*value).to_owned(),
                    })
                    .collect(),
                public_keys: vec![],
                risk_emails: vec![],
            }
            .parse()
            .unwrap();
            onboard(&mut self.connection, new, None).unwrap().organization.id
        }

        fn resolve(&mut self, references: &[(Option<&str>, &str)]) -> Result<String, String> {
            let references: Vec<PartyReference> = references
                .iter()
                .enumerate()
                .map(|(index, (scheme, value))| PartyReference::new(*scheme, value, &format!("ref{index}")))
                .collect();
            match resolve(&mut self.connection, &references, "buyer") {
                Ok(party) => Ok(party.row.id),
                Err(UseCaseError::InvalidField(error)) => {
                    assert_eq!(error.field, "buyer");
                    Err(error.detail)
                }
                Err(other) => panic!("{other:?}"),
            }
        }
    }

    impl Drop for FreshDatabase {
        fn drop(&mut self) {
            if let Some((admin_url, name)) = &self.postgres {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
                }
            }
        }
    }

    fn on_both_backends(test: fn(&mut FreshDatabase)) {
        test(&mut FreshDatabase::sqlite());
        if let Some(mut database) = FreshDatabase::postgres() {
            test(&mut database);
        }
    }

    const GLN: &str = "7300010000001";

    #[test]
    fn an_identifier_matches_by_scheme_and_value_or_by_value_alone() {
        on_both_backends(|database| {
            let alpha = database.onboard("ALPHA-1", &[("0088", GLN), ("vat", "SE556123456701")]);
            database.onboard("BETA-1", &[("0192", "991234567")]);
            assert_eq!(
                database.resolve(&[(Some("0088"), "7300-0100-00001")]),
                Ok(alpha.clone())
            );
            assert_eq!(
                database.resolve(&[(Some(" Vat "), "se 5561234567 01")]),
                Ok(alpha.clone())
            );
            assert_eq!(database.resolve(&[(None, GLN)]), Ok(alpha.clone()));
            // Another scheme, or one that is no scheme, matches no identifier.
            for scheme in ["0060", "GLN", "88"] {
                let detail = database.resolve(&[(Some(scheme), GLN)]).unwrap_err();
                assert_eq!(
                    detail,
                    format!("no onboarded organisation has any of these identifiers: ref0={scheme}:{GLN}")
                );
            }
        });
    }

    #[test]
    fn a_legal_id_matches_whatever_scheme_the_reference_states() {
        on_both_backends(|database| {
            let beta = database.onboard("HRB 724411", &[]);
            assert_eq!(database.resolve(&[(Some("0204"), "hrb724411")]), Ok(beta.clone()));
            assert_eq!(
                database.resolve(&[(Some("not a scheme"), "HRB-724411")]),
                Ok(beta.clone())
            );
            assert_eq!(database.resolve(&[(None, "HRB 724411")]), Ok(beta));
        });
    }

    #[test]
    fn unknown_and_empty_references_name_nobody() {
        on_both_backends(|database| {
            database.onboard("ALPHA-1", &[("0088", GLN)]);
            assert_eq!(
                database.resolve(&[(Some("0088"), "7300010000002"), (None, "---"), (None, "GAMMA")]),
                Err("no onboarded organisation has any of these identifiers: ref0=0088:7300010000002, ref1=---, ref2=GAMMA"
                    .to_owned())
            );
            assert_eq!(database.resolve(&[]), Err("no identifier given".to_owned()));
            // Nothing left to look up once normalised.
            assert_eq!(
                database.resolve(&[(Some("0088"), "000")]),
                Err("no onboarded organisation has any of these identifiers: ref0=0088:000".to_owned())
            );
        });
    }

    #[test]
    fn references_naming_different_organisations_are_refused() {
        on_both_backends(|database| {
            database.onboard("ALPHA-1", &[("0088", GLN)]);
            database.onboard("BETA-1", &[("VAT", "SE556123456701")]);
            assert_eq!(
                database.resolve(&[(Some("0088"), GLN), (None, "GAMMA"), (Some("VAT"), "SE556123456701")]),
                Err(format!(
                    "these identifiers name different organisations: ref0=0088:{GLN} (legal id ALPHA-1), \
                     ref2=VAT:SE556123456701 (legal id BETA-1)"
                ))
            );
            // One value that is one organisation's identifier and another's
            // legal id names both.
            database.onboard("991234567", &[]);
            let alpha_too = database.onboard("ALPHA-2", &[("0192", "991234567")]);
            let detail = database.resolve(&[(None, "991234567")]).unwrap_err();
            assert!(
                detail.starts_with("these identifiers name different organisations: ref0=991234567 (legal ids "),
                "{detail}"
            );
            assert!(
                detail.contains("991234567 and ALPHA-2") || detail.contains("ALPHA-2 and 991234567"),
                "{detail}"
            );
            // Its scheme settles it only for the identifier: the legal id
            // matches whatever the scheme.
            assert!(database.resolve(&[(Some("0192"), "991234567")]).is_err());
            assert_eq!(database.resolve(&[(Some("0192"), "ALPHA-2")]), Ok(alpha_too));
        });
    }

    #[test]
    fn references_naming_one_organisation_together_are_fine() {
        on_both_backends(|database| {
            let alpha = database.onboard("ALPHA-1", &[("0088", GLN), ("VAT", "SE556123456701")]);
            database.onboard("BETA-1", &[]);
            assert_eq!(
                database.resolve(&[
                    (Some("0088"), GLN),
                    (Some("VAT"), "SE556123456701"),
                    (Some("0007"), "alpha 1"),
                    (None, "UNKNOWN-9"),
                ]),
                Ok(alpha)
            );
        });
    }
}
