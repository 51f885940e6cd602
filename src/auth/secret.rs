//! The server secret: from configuration, or generated once into a file only its owner can read.
//! Sub-keys for JWT signing and token encryption are derived from it, so one value configures
//! every instance alike.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::jwt::JwtKeys;
use super::token::Sealer;

#[derive(Clone, Debug)]
pub struct Keys {
    pub jwt: JwtKeys,
    pub sealer: Sealer,
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update(label);
            h.update(secret);
            h.finalize().into()
        };
        Ok(Keys {
            jwt: JwtKeys::new(&derive(b"usergraph/jwt/v1"))?,
            sealer: Sealer::new(derive(b"usergraph/aead/v1")),
        })
    }
}

/// The configured secret, or the one stored in `<data_dir>/secret`, created (mode 0600) when
/// missing.
pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = configured {
        anyhow::ensure!(s.len() >= 32, "USERGRAPH_SECRET must be at least 32 characters");
        return Ok(s.as_bytes().to_vec());
    }
    let path = data_dir.join("secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        anyhow::ensure!(
            existing.len() >= 32,
            "{} holds a secret shorter than 32 characters",
            path.display()
        );
        return Ok(existing.into_bytes());
    }
    crate::files::private_dir(data_dir)?;
    let value = super::token::generate("") + &super::token::generate("");
    write_private(&path, &value)?;
    tracing::info!(path = %path.display(), "generated a new server secret");
    Ok(value.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, value: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(value.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, value: &str) -> anyhow::Result<()> {
    std::fs::write(path, value)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_private_and_stable() {
        let dir = std::env::temp_dir().join(format!("ug-secret-{}", super::super::token::generate("")));
        let a = load_or_create(None, &dir).unwrap();
        let b = load_or_create(None, &dir).unwrap();
        assert_eq!(a, b);
        assert!(a.len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
        assert!(load_or_create(Some("short"), Path::new("/nonexistent")).is_err());
    }
}
