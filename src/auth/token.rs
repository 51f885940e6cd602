//! Token values: generation with a recognisable prefix, SHA-256 digests for look-up, constant-time
//! comparison, and AEAD encryption for the kinds whose value the API shows again.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of personal and impersonation access tokens (GitLab's own).
pub const PAT_PREFIX: &str = "glpat-";
/// Prefix of the per-user legacy private token.
pub const LEGACY_PREFIX: &str = "glptt-";

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A new random token: `prefix` + 24 base62 characters (~142 bits).
pub fn generate(prefix: &str) -> String {
    let mut rng = rand::rng();
    let body: String = (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{body}")
}

/// Hex SHA-256 of a token value: what the database stores and is searched by.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Constant-time equality of two digests.
pub fn digest_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Encrypts and decrypts stored token values with ChaCha20-Poly1305.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// base64(nonce || ciphertext).
    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("ChaCha20-Poly1305 encryption of a short buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        B64.encode(out)
    }

    /// None when the value was sealed with another secret or is damaged.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let raw = B64.decode(sealed).ok()?;
        if raw.len() < 12 {
            return None;
        }
        let (nonce, ct) = raw.split_at(12);
        let pt = self.cipher.decrypt(Nonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(pt).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_prefix_and_are_distinct() {
        let a = generate(PAT_PREFIX);
        let b = generate(PAT_PREFIX);
        assert!(a.starts_with("glpat-"));
        assert_eq!(a.len(), 6 + 24);
        assert_ne!(a, b);
    }

    #[test]
    fn digest_is_stable_hex() {
        assert_eq!(digest("abc").len(), 64);
        assert_eq!(digest("abc"), digest("abc"));
        assert!(digest_eq(&digest("abc"), &digest("abc")));
        assert!(!digest_eq(&digest("abc"), &digest("abd")));
    }

    #[test]
    fn seal_round_trip_and_wrong_key() {
        let s = Sealer::new([7; 32]);
        let sealed = s.seal("glpat-secret");
        assert_eq!(s.open(&sealed).as_deref(), Some("glpat-secret"));
        assert_ne!(s.seal("glpat-secret"), sealed, "nonces differ");
        assert_eq!(Sealer::new([8; 32]).open(&sealed), None);
        assert_eq!(s.open("not base64!"), None);
    }
}
