//! SSH keys: parsing and validation with the `ssh-key` crate, fingerprints, and who may list,
//! add and delete whose keys.

use ::ssh_key::{Algorithm, HashAlg, PublicKey};
use chrono::{DateTime, Utc};
use entity::ssh_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

use super::fields::UserRow;
use super::owner::{Owner, Target};
use super::time;
use super::validate::Errors;
use super::{policy, users};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, is_unique_violation};

pub const MAX_KEY_LEN: usize = 5000;

/// GitLab's key restrictions, set by `--ssh-rsa-min-bits` and `--ssh-allow-dsa`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRules {
    pub rsa_min_bits: usize,
    pub allow_dsa: bool,
}

impl Default for KeyRules {
    /// RSA of 2048 bits or more, no DSA (1024-bit DSA, all OpenSSH makes, is broken).
    fn default() -> Self {
        KeyRules {
            rsa_min_bits: 2048,
            allow_dsa: false,
        }
    }
}

impl KeyRules {
    pub fn from_config(cfg: &crate::config::Config) -> Self {
        KeyRules {
            rsa_min_bits: cfg.ssh_rsa_min_bits as usize,
            allow_dsa: cfg.ssh_allow_dsa,
        }
    }
}

const FORBIDDEN_TYPE: &str = "type is forbidden. Must be RSA, ECDSA, ED25519, ECDSA_SK, or ED25519_SK";

/// The key types GitLab accepts.
pub const KEY_TYPES: [&str; 8] = [
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-ed25519",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ssh-ed25519@openssh.com",
];

/// A key that parsed and passed every rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedKey {
    /// `type base64 [comment]`, single-spaced.
    pub normalized: String,
    pub key_type: String,
    pub fingerprint_md5: String,
    pub fingerprint_sha256: String,
}

/// Parses one OpenSSH public key line under the default rules.
pub fn parse(key: &str) -> Result<ParsedKey, String> {
    parse_with(key, KeyRules::default())
}

/// Parses one OpenSSH public key line. Errors are the messages for the `key` field.
pub fn parse_with(key: &str, rules: KeyRules) -> Result<ParsedKey, String> {
    let trimmed = key.trim();
    if trimmed.is_empty() {
        return Err("can't be blank".into());
    }
    if trimmed.chars().count() > MAX_KEY_LEN {
        return Err(format!("is too long (maximum is {MAX_KEY_LEN} characters)"));
    }
    if trimmed.contains(['\n', '\r']) {
        return Err("should be a single line".into());
    }
    let normalized = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
    let kind = normalized.split(' ').next().unwrap_or_default();
    if !KEY_TYPES.contains(&kind) {
        return Err("type is not supported".into());
    }
    let public = PublicKey::from_openssh(&normalized).map_err(|_| "is invalid".to_string())?;
    let algorithm = public.algorithm();
    match &algorithm {
        Algorithm::Dsa if !rules.allow_dsa => return Err(FORBIDDEN_TYPE.into()),
        Algorithm::Dsa
        | Algorithm::Ecdsa { .. }
        | Algorithm::Ed25519
        | Algorithm::SkEcdsaSha2NistP256
        | Algorithm::SkEd25519 => {}
        Algorithm::Rsa { .. } => {
            let rsa = public.key_data().rsa().ok_or("is invalid")?;
            let bytes = rsa.n.as_positive_bytes().ok_or("is invalid")?;
            if modulus_bits(bytes) < rules.rsa_min_bits {
                return Err(format!("must be at least {} bits", rules.rsa_min_bits));
            }
            // An exponent of 1 (or any even one) is no RSA key: "encryption" with e = 1 is the
            // identity, and signatures under it are forgeable by anyone.
            let e = rsa.e.as_positive_bytes().ok_or("is invalid")?;
            let odd = e.last().is_some_and(|b| b & 1 == 1);
            let above_one = e.iter().rev().skip(1).any(|b| *b != 0) || e.last().is_some_and(|b| *b > 1);
            if !odd || !above_one {
                return Err("is invalid: the RSA public exponent must be an odd number greater than 1".into());
            }
        }
        _ => return Err("type is not supported".into()),
    }
    let blob = public.to_bytes().map_err(|_| "is invalid".to_string())?;
    Ok(ParsedKey {
        key_type: algorithm.as_str().to_string(),
        fingerprint_md5: md5_fingerprint(&blob),
        fingerprint_sha256: public.fingerprint(HashAlg::Sha256).to_string(),
        normalized,
    })
}

fn modulus_bits(bytes: &[u8]) -> usize {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    match bytes.get(skip) {
        Some(first) => (bytes.len() - skip - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

/// The legacy `aa:bb:...` MD5 fingerprint of the key blob.
fn md5_fingerprint(blob: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(blob)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub struct NewKey {
    pub title: Option<String>,
    pub key: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Adds a key for the viewer, or (admins) for a given user. Order: 401, missing parameters,
/// 403, 404, 400 (validation, taken fingerprint).
pub async fn add(
    db: &impl ConnectionTrait,
    rules: KeyRules,
    viewer: &Viewer,
    target: &Target,
    input: NewKey,
) -> AppResult<ssh_key::Model> {
    viewer.user()?;
    let mut missing = Vec::new();
    if input.title.as_deref().is_none_or(str::is_empty) {
        missing.push("title");
    }
    if input.key.as_deref().is_none_or(str::is_empty) {
        missing.push("key");
    }
    if !missing.is_empty() {
        return Err(AppError::missing(&missing));
    }
    let owner = Owner::resolve(db, viewer, target).await?;
    let title = input.title.unwrap_or_default();
    let mut e = Errors::default();
    e.max_len("title", &title, 255);
    e.single_line("title", &title);
    let parsed = match parse_with(input.key.as_deref().unwrap_or_default(), rules) {
        Ok(p) => Some(p),
        Err(msg) => {
            e.add("key", msg);
            None
        }
    };
    if let Some(t) = input.expires_at
        && t <= time::now()
    {
        e.add("expires_at", "must be in the future");
    }
    if let Some(t) = input.expires_at
        && db.get_database_backend() == sea_orm::DatabaseBackend::MySql
        && t.timestamp() > i64::from(i32::MAX)
    {
        // MariaDB/MySQL TIMESTAMP ends in 2038; a later value would be stored as zero, a key
        // that never expires.
        e.add("expires_at", "must be before 2038-01-19T03:14:07Z on this database");
    }
    e.into_result()?;
    let parsed = parsed.ok_or_else(|| AppError::field("key", "is invalid"))?;
    let taken = ssh_key::Entity::find()
        .filter(ssh_key::Column::FingerprintSha256.eq(parsed.fingerprint_sha256.as_str()))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(AppError::field("fingerprint", "has already been taken"));
    }
    let row = ssh_key::ActiveModel {
        user_id: Set(owner.id()),
        title: Set(title),
        key: Set(parsed.normalized),
        key_type: Set(parsed.key_type),
        fingerprint_md5: Set(parsed.fingerprint_md5),
        fingerprint_sha256: Set(parsed.fingerprint_sha256),
        expires_at: Set(input.expires_at),
        created_at: Set(time::now()),
        ..Default::default()
    };
    let res = super::retry_deadlocks(|| row.clone().insert(db)).await;
    match res {
        Ok(m) => Ok(m),
        Err(e) if is_unique_violation(&e) => Err(AppError::field("fingerprint", "has already been taken")),
        Err(e) => Err(e.into()),
    }
}

/// Any key by id, with its owner (admin only): GitLab's `GET /keys/:id`, whose missing key is
/// `404 Not found`.
pub async fn find_with_owner(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: i32,
) -> AppResult<(ssh_key::Model, UserRow)> {
    policy::require_admin(viewer)?;
    let key = ssh_key::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFoundMessage("404 Not found".into()))?;
    with_owner(db, key).await
}

/// The key with this fingerprint, MD5 (`aa:bb:...`, 16 bytes) or SHA256 (`SHA256:<base64>`), with
/// its owner (admin only): GitLab's `GET /keys?fingerprint=`. A fingerprint of neither form is
/// `400 Failed to return the key`; none registered, `404 Key Not Found`.
pub async fn find_by_fingerprint(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    fingerprint: &str,
) -> AppResult<(ssh_key::Model, UserRow)> {
    policy::require_admin(viewer)?;
    let bad = || AppError::BadRequest("Failed to return the key".into());
    let q = if let Some(b64) = fingerprint.strip_prefix("SHA256:") {
        use base64::Engine;
        let b64 = b64.trim_end_matches('=');
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| bad())?;
        if raw.len() != 32 {
            return Err(bad());
        }
        ssh_key::Entity::find().filter(ssh_key::Column::FingerprintSha256.eq(format!("SHA256:{b64}")))
    } else {
        let lower = fingerprint.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split(':').collect();
        if parts.len() != 16
            || !parts
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(bad());
        }
        ssh_key::Entity::find().filter(ssh_key::Column::FingerprintMd5.eq(lower))
    };
    let key = q.one(db).await?.ok_or(AppError::NotFound("Key"))?;
    with_owner(db, key).await
}

async fn with_owner(db: &impl ConnectionTrait, key: ssh_key::Model) -> AppResult<(ssh_key::Model, UserRow)> {
    let owner = users::find(db, &users::UserRef::Id(key.user_id)).await?;
    let identities = users::identities_of(db, &[owner.id]).await?;
    Ok((key, UserRow::full(owner).with_identities(identities)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEb72a9o6zaXBpD6CUrdhsHpXR//tXLOR4av4CSipdw6 test@ed25519";

    #[test]
    fn fingerprints_match_ssh_keygen() {
        let p = parse(&format!("  {}  \n", ED.replace(' ', "   "))).unwrap();
        assert_eq!(p.normalized, ED);
        assert_eq!(p.key_type, "ssh-ed25519");
        assert_eq!(p.fingerprint_md5, "dc:82:27:47:99:c8:d3:fd:ea:ac:53:ac:49:88:5c:42");
        assert_eq!(
            p.fingerprint_sha256,
            "SHA256:5qtjFiFWBSurHbLqBWSzvE4hW8VAjqrTePnHufoAETA"
        );
    }

    #[test]
    fn rejects_bad_keys() {
        assert_eq!(parse("ssh-rsa notbase64"), Err("is invalid".into()));
        assert_eq!(parse("garbage"), Err("type is not supported".into()));
        assert_eq!(parse(""), Err("can't be blank".into()));
        assert_eq!(parse(&format!("{ED}\n{ED}")), Err("should be a single line".into()));
        assert_eq!(
            parse(&"a".repeat(5001)),
            Err("is too long (maximum is 5000 characters)".into())
        );
    }

    #[test]
    fn modulus_bit_length() {
        assert_eq!(modulus_bits(&[0x00, 0x80, 0, 0]), 24);
        assert_eq!(modulus_bits(&[0x01, 0xff]), 9);
        assert_eq!(modulus_bits(&[0]), 0);
    }
}
