//! ed25519 secret keys on disk: a 32-byte seed as 64 hex characters, file
//! mode 0600, never overwritten.

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
    #[error("key file {path} does not hold a 32-byte ed25519 seed in hex")]
    Malformed { path: String },
    #[error("key file {path} is readable by other users (mode {mode:o}); run chmod 600 on it")]
    TooOpen { path: String, mode: u32 },
}

/// Writes a fresh key to `path`, refusing to replace an existing file.
pub fn generate(path: &Path) -> Result<SigningKey, KeyFileError> {
    let key = SigningKey::generate(&mut OsRng);
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
    file.write_all(hex::encode(key.to_bytes()).as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(write_error)?;
    Ok(key)
}

pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
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
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| KeyFileError::Malformed { path: shown() })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The platform key: loaded if present, created (0600) on first start.
pub fn load_or_generate(path: &Path) -> Result<SigningKey, KeyFileError> {
    match generate(path) {
        Ok(key) => Ok(key),
        Err(KeyFileError::Write { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => load(path),
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
