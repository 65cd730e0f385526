//! Secret keys on disk — ed25519 seeds, and the platform's fingerprint
//! secret — as 32 bytes in 64 hex characters, file mode 0600, never
//! overwritten.

use std::fs;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::SigningKey;
use rand_core::OsRng;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot write key file {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot read key file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("key file {path} does not hold a 32-byte secret in hex")]
    Malformed { path: String },
    #[error("key file {path} is readable by other users (mode {mode:o}); run chmod 600 on it")]
    TooOpen { path: String, mode: u32 },
}

/// Writes a fresh key to `path`, refusing to replace an existing file.
pub fn generate(path: &Path) -> Result<SigningKey, KeyFileError> {
    let mut seed = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut seed);
    write_secret(path, &seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `secret` to a new file at `path` (mode 0600).
fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<(), KeyFileError> {
    let write_error = |source| KeyFileError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(write_error)?;
    file.write_all(hex::encode(secret).as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(write_error)?;
    Ok(())
}

/// Writes `key` to a new file at `path` (mode 0600), refusing to replace
/// an existing file.
pub fn save(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    write_secret(path, &key.to_bytes())
}

pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    load_secret(path).map(|seed| SigningKey::from_bytes(&seed))
}

/// [`load`], or `None` when there is no file at `path`.
pub fn load_if_present(path: &Path) -> Result<Option<SigningKey>, KeyFileError> {
    match load(path) {
        Ok(key) => Ok(Some(key)),
        Err(KeyFileError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Reads a 32-byte secret, refusing a file others may read.
fn load_secret(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let shown = || path.display().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = fs::metadata(path).map_err(|source| KeyFileError::Read { path: shown(), source })?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::TooOpen { path: shown(), mode });
        }
    }
    let text = fs::read_to_string(path).map_err(|source| KeyFileError::Read { path: shown(), source })?;
    hex::decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| KeyFileError::Malformed { path: shown() })
}

/// The platform key: loaded if present, created (0600) on first start.
pub fn load_or_generate(path: &Path) -> Result<SigningKey, KeyFileError> {
    match generate(path) {
        Ok(key) => Ok(key),
        Err(KeyFileError::Write { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => load(path),
        Err(error) => Err(error),
    }
}

/// A 32-byte secret (the fingerprint key): loaded if present, created
/// (0600) on first start.
pub fn load_or_generate_secret(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let mut secret = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut secret);
    match write_secret(path, &secret) {
        Ok(()) => Ok(secret),
        Err(KeyFileError::Write { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
            load_secret(path)
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_loads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = generate(&path).unwrap();
        assert_eq!(load(&path).unwrap().to_bytes(), key.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(generate(&path).is_err(), "an existing key must never be overwritten");
        assert!(save(&path, &SigningKey::from_bytes(&[1; 32])).is_err());
        assert_eq!(
            load_if_present(&path).unwrap().map(|key| key.to_bytes()),
            Some(key.to_bytes())
        );
        assert!(load_if_present(&dir.path().join("none")).unwrap().is_none());
        assert_eq!(load_or_generate(&path).unwrap().to_bytes(), key.to_bytes());
    }

    #[test]
    fn a_world_readable_or_malformed_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, "zz").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(load(&path), Err(KeyFileError::TooOpen { .. })));
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert!(matches!(load(&path), Err(KeyFileError::Malformed { .. })));
    }
}
