//! API keys: `afk_<id>_<secret>`. The id (16 hex characters) finds the row;
//! the secret (32 random bytes, base64url) is stored only as its SHA-256 and
//! compared in constant time. The secrets are random, not passwords, so a
//! plain SHA-256 is the right hash: no dictionary can guess them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "afk_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A freshly generated key: the plaintext (shown once) and what is stored.
pub struct GeneratedApiKey {
    pub plaintext: SecretString,
    pub id: String,
    pub secret_sha256: [u8; 32],
}

pub fn generate() -> GeneratedApiKey {
    let mut id = [0u8; ID_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = URL_SAFE_NO_PAD.encode(secret);
    GeneratedApiKey {
        plaintext: SecretString::from(format!("{PREFIX}{id}_{secret}")),
        secret_sha256: hash_secret(&secret),
        id,
    }
}

/// A presented key split into its id and secret, if it has our shape.
pub struct PresentedApiKey<'a> {
    pub id: &'a str,
    secret: &'a str,
}

impl<'a> PresentedApiKey<'a> {
    pub fn parse(token: &'a str) -> Option<Self> {
        let rest = token.strip_prefix(PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let id_ok = id.len() == ID_BYTES * 2 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let secret_ok = URL_SAFE_NO_PAD
            .decode(secret)
            .is_ok_and(|bytes| bytes.len() == SECRET_BYTES);
        (id_ok && secret_ok).then_some(Self { id, secret })
    }

    /// Constant-time comparison against the stored hash.
    pub fn matches(&self, stored_sha256: &[u8]) -> bool {
        hash_secret(self.secret).ct_eq(stored_sha256).into()
    }
}

fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl std::fmt::Debug for GeneratedApiKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("GeneratedApiKey")
            .field("id", &self.id)
            .field("plaintext", &"[REDACTED]")
            .finish()
    }
}

/// The plaintext of a generated key, for the one answer that shows it.
pub fn reveal(key: &GeneratedApiKey) -> String {
    key.plaintext.expose_secret().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_and_matches_only_its_own_hash() {
        let key = generate();
        let plaintext = reveal(&key);
        let presented = PresentedApiKey::parse(&plaintext).unwrap();
        assert_eq!(presented.id, key.id);
        assert!(presented.matches(&key.secret_sha256));
        assert!(!presented.matches(&generate().secret_sha256));
        assert!(!presented.matches(&[]));
    }

    #[test]
    fn malformed_keys_are_not_parsed() {
        let plaintext = reveal(&generate());
        for bad in [
            "",
            "afk_",
            "Bearer x",
            &plaintext[..plaintext.len() - 1],
            &plaintext.replacen("afk_", "xyz_", 1),
            &plaintext.to_uppercase(),
        ] {
            assert!(PresentedApiKey::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = generate();
        assert!(!format!("{key:?}").contains(&reveal(&key)[4..]));
    }
}
