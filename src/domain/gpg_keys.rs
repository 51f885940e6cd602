//! GPG keys (OpenPGP public keys): read with a real OpenPGP implementation (`pgp`), never matched
//! by pattern. A key is one armored public key block whose user ids are signed by its primary key;
//! the primary key's id and fingerprint and the e-mails of those user ids are kept with it. Reading
//! a user's keys is public (GitLab's); adding and deleting another user's is for admins.

use entity::gpg_key;
use pgp::composed::{Deserializable, SignedPublicKey};
use pgp::packet::SignatureType;
use pgp::types::{KeyDetails, KeyVersion, Tag};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::owner::{Owner, Target};
use super::time;
use super::viewer::Viewer;
use crate::error::{AppError, AppResult, is_unique_violation};

/// The longest key block accepted, in characters.
pub const MAX_KEY_LEN: usize = 16_000;

const PREFIX: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const SUFFIX: &str = "-----END PGP PUBLIC KEY BLOCK-----";

/// What a key block says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedKey {
    /// The block, surrounding blanks trimmed.
    pub armored: String,
    /// The primary key's 64-bit id, 16 upper-case hex digits.
    pub primary_keyid: String,
    /// The primary key's fingerprint, 40 upper-case hex digits.
    pub fingerprint: String,
    /// The e-mail addresses of the self-signed user ids, lower-cased, in the key's order.
    pub emails: Vec<String>,
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The e-mail address of a user id: the part in angle brackets, or the whole id when it is an
/// address itself.
fn email_of(user_id: &str) -> Option<String> {
    let addr = match (user_id.rfind('<'), user_id.rfind('>')) {
        (Some(a), Some(b)) if a < b => &user_id[a + 1..b],
        _ => user_id.trim(),
    };
    (addr.contains('@') && !addr.contains(char::is_whitespace)).then(|| addr.to_lowercase())
}

/// Reads one armored OpenPGP public key. Errors are the messages for the `key` field.
pub fn parse(key: &str) -> Result<ParsedKey, String> {
    let armored = key.trim();
    if armored.is_empty() {
        return Err("can't be blank".into());
    }
    if armored.chars().count() > MAX_KEY_LEN {
        return Err(format!("is too long (maximum is {MAX_KEY_LEN} characters)"));
    }
    if !armored.starts_with(PREFIX) || !armored.ends_with(SUFFIX) {
        return Err(format!(
            "is invalid. A valid public GPG key begins with '{PREFIX}' and ends with '{SUFFIX}'"
        ));
    }
    // The parser is not expected to panic on any input; should it, the key is refused, not the
    // server's worker.
    std::panic::catch_unwind(|| read(armored)).unwrap_or_else(|_| Err("is not a valid OpenPGP public key".into()))
}

fn read(armored: &str) -> Result<ParsedKey, String> {
    let invalid = |why: &str| format!("is not a valid OpenPGP public key ({why})");
    let (mut keys, _) = SignedPublicKey::from_string_many(armored).map_err(|_| invalid("unreadable block"))?;
    let key = match keys.next() {
        Some(Ok(k)) => k,
        Some(Err(_)) => return Err(invalid("unreadable key")),
        None => return Err(invalid("no key in the block")),
    };
    if keys.next().is_some() {
        return Err(invalid("more than one key in the block"));
    }
    if key.version() != KeyVersion::V4 {
        return Err(invalid("only version 4 keys are supported"));
    }
    let primary = &key.primary_key;
    let mut emails = Vec::new();
    let mut signed_ids = 0;
    for u in &key.details.users {
        let self_signed = u.signatures.iter().any(|sig| {
            matches!(
                sig.typ(),
                Some(
                    SignatureType::CertGeneric
                        | SignatureType::CertPersona
                        | SignatureType::CertCasual
                        | SignatureType::CertPositive
                )
            ) && sig.verify_certification(primary, Tag::UserId, &u.id).is_ok()
        });
        if !self_signed {
            continue;
        }
        signed_ids += 1;
        if let Some(e) = email_of(&String::from_utf8_lossy(u.id.id()))
            && !emails.contains(&e)
        {
            emails.push(e);
        }
    }
    if signed_ids == 0 {
        return Err(invalid("no user id signed by the key"));
    }
    Ok(ParsedKey {
        armored: armored.to_string(),
        primary_keyid: upper_hex(key.legacy_key_id().as_ref()),
        fingerprint: upper_hex(key.fingerprint().as_bytes()),
        emails,
    })
}

/// Adds a key for the viewer, or (admins) for a given user. Order: 401, a missing key, 403,
/// 404, 400 (an unreadable key, one registered already).
pub async fn add(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    target: &Target,
    key: Option<String>,
) -> AppResult<gpg_key::Model> {
    viewer.user()?;
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Err(AppError::missing(&["key"]));
    };
    let owner = Owner::resolve(db, viewer, target).await?;
    let parsed = parse(&key).map_err(|msg| AppError::field("key", msg))?;
    if let Some(refusal) = taken(db, &parsed).await? {
        return Err(refusal);
    }
    let row = gpg_key::ActiveModel {
        user_id: Set(owner.id()),
        key: Set(parsed.armored.clone()),
        primary_keyid: Set(parsed.primary_keyid.clone()),
        fingerprint: Set(parsed.fingerprint.clone()),
        emails: Set(parsed.emails.join("\n")),
        created_at: Set(time::now()),
        ..Default::default()
    };
    match super::retry_deadlocks(|| row.clone().insert(db)).await {
        Ok(m) => Ok(m),
        Err(e) if is_unique_violation(&e) => Err(taken(db, &parsed)
            .await?
            .unwrap_or_else(|| AppError::field("fingerprint", "has already been taken"))),
        Err(e) => Err(e.into()),
    }
}

/// The confirmed addresses (primary and secondary) of several users, lower-cased, by user: what a
/// key's user ids are checked against.
pub async fn confirmed_addresses(
    db: &impl ConnectionTrait,
    user_ids: &[i32],
) -> Result<Vec<(i32, String)>, sea_orm::DbErr> {
    use entity::email;
    use sea_orm::{QueryOrder, QuerySelect};
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    email::Entity::find()
        .select_only()
        .column(email::Column::UserId)
        .column(email::Column::EmailCanonical)
        .filter(super::any_of(db, email::Column::UserId, user_ids))
        .filter(email::Column::ConfirmedAt.is_not_null())
        .order_by_asc(email::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

/// The addresses of `key`'s user ids that are confirmed addresses of its owner (`confirmed`), in
/// the key's order: GitLab's verified e-mails of a key. A key is verified when one is.
pub fn verified_emails<'k>(key: &'k gpg_key::Model, confirmed: &[String]) -> Vec<&'k str> {
    key.emails
        .lines()
        .filter(|e| !e.is_empty() && confirmed.iter().any(|c| c == e))
        .collect()
}

/// Why `parsed` cannot be added when it is registered already: the very block again (GitLab's
/// uniqueness of `key`), or the same key otherwise written (of its fingerprint).
async fn taken(db: &impl ConnectionTrait, parsed: &ParsedKey) -> AppResult<Option<AppError>> {
    let existing = gpg_key::Entity::find()
        .filter(gpg_key::Column::Fingerprint.eq(parsed.fingerprint.as_str()))
        .one(db)
        .await?;
    Ok(existing.map(|k| match k.key == parsed.armored {
        true => AppError::field("key", "has already been taken"),
        false => AppError::field("fingerprint", "has already been taken"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_emails() {
        assert_eq!(email_of("Alice <Alice@Example.com>"), Some("alice@example.com".into()));
        assert_eq!(email_of("bob@example.com"), Some("bob@example.com".into()));
        assert_eq!(email_of("Carol"), None);
        assert_eq!(email_of("Dave <not an address>"), None);
    }

    #[test]
    fn refuses_what_is_not_a_key() {
        assert_eq!(parse("  "), Err("can't be blank".into()));
        assert!(
            parse("garbage")
                .unwrap_err()
                .starts_with("is invalid. A valid public GPG key begins with")
        );
        let fake = format!("{PREFIX}\n\nbm90IGEga2V5\n{SUFFIX}");
        assert!(
            parse(&fake)
                .unwrap_err()
                .starts_with("is not a valid OpenPGP public key")
        );
        let long = format!("{PREFIX}\n{}\n{SUFFIX}", "A".repeat(MAX_KEY_LEN));
        assert_eq!(
            parse(&long),
            Err(format!("is too long (maximum is {MAX_KEY_LEN} characters)"))
        );
    }
}
