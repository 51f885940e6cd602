//! Password reset and e-mail confirmation: single-use tokens that are mailed to an address and
//! stored only as SHA-256 digests, with an expiry.
//!
//! What counts as a user's address here:
//! * The primary address must be confirmed before the user can sign in (with any login):
//!   `signIn` answers `UNCONFIRMED` until then. Creating a user with `skip_confirmation` (REST
//!   also `confirm=false`) confirms it at once; otherwise a confirmation mail is queued.
//! * A secondary address starts unconfirmed (unless an admin skips confirmation) and gets a
//!   confirmation mail. Only once confirmed does it count as the user's: a password reset can be
//!   requested for it. Unconfirmed secondary addresses still reserve the address (the unique index
//!   of `emails` spans every address), as GitLab does.
//! * Resetting the password through a mailed link proves the user reads that address: when the
//!   link went to the current primary address, that address becomes confirmed as well.
//!
//! Every mail is queued in the outbox in the same transaction as the token it carries.

use chrono::Duration;
use entity::{account_token, email, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter,
};

use super::passwords::{self, ChosenBy};
use super::time;
use super::validate::{Errors, normalize_email};
use crate::auth::token::Sealer;
use crate::auth::{password, token as tok};
use crate::error::{AppError, AppResult};
use crate::mail::outbox;
use crate::mail::templates::{Params, Template};
use crate::state::AppState;

/// How long a password reset link works.
pub const RESET_TTL_HOURS: i64 = 24;
/// How long a confirmation link works.
pub const CONFIRM_TTL_HOURS: i64 = 72;
/// At most one reset mail per user in this many seconds (anyone can ask for one).
pub const RESET_REQUEST_INTERVAL_SECS: i64 = 60;

pub const RESET: &str = "reset_password";
pub const CONFIRMATION: &str = "confirmation";

/// At most one confirmation mail per user in this many seconds when one is asked for again.
pub const CONFIRM_REQUEST_INTERVAL_SECS: i64 = 60;
/// What `resendConfirmation` answers, whether or not the address is known or confirmed.
pub const CONFIRMATION_REQUESTED: &str =
    "If this address belongs to an account and is not confirmed yet, a new confirmation link is on its way to it.";

/// What `requestPasswordReset` answers, whether or not the address is known.
pub const RESET_REQUESTED: &str = "If your email address exists in our database, you will receive a password recovery link at your email address in a few minutes.";

/// Where a token goes: the address, and for a confirmation the address row it confirms.
struct Recipient<'a> {
    to: &'a str,
    email_id: Option<i32>,
}

async fn issue(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    u: &user::Model,
    kind: &str,
    Recipient { to, email_id }: Recipient<'_>,
    template: Template,
    ttl_hours: i64,
) -> Result<(), DbErr> {
    let value = tok::generate("");
    let now = time::now();
    account_token::ActiveModel {
        user_id: Set(u.id),
        kind: Set(kind.to_string()),
        token_digest: Set(tok::digest(&value)),
        email: Set(to.to_string()),
        email_id: Set(email_id),
        expires_at: Set(now + Duration::hours(ttl_hours)),
        used_at: Set(None),
        created_at: Set(now),
        auth_epoch: Set(u.auth_epoch),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let params = Params {
        token: value,
        name: u.name.clone(),
        username: u.username.clone(),
        email: to.to_string(),
        valid_hours: ttl_hours,
    };
    outbox::enqueue(db, sealer, Some(u.id), to, template, &params).await?;
    Ok(())
}

/// Queues a reset mail (`AccountCreated` for a new account, `ResetPassword` on request) to `to`.
/// Run it inside the transaction of the change, then wake the mail workers (`AppState::mail`) after the commit.
pub async fn issue_reset(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    u: &user::Model,
    to: &str,
    template: Template,
) -> Result<(), DbErr> {
    let to = Recipient { to, email_id: None };
    issue(db, sealer, u, RESET, to, template, RESET_TTL_HOURS).await
}

/// Queues a confirmation mail for one address row of `u`. Same transaction rule as above.
pub async fn issue_confirmation(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    u: &user::Model,
    address: &email::Model,
) -> Result<(), DbErr> {
    issue(
        db,
        sealer,
        u,
        CONFIRMATION,
        Recipient {
            to: &address.email,
            email_id: Some(address.id),
        },
        Template::ConfirmEmail,
        CONFIRM_TTL_HOURS,
    )
    .await
}

fn invalid() -> AppError {
    AppError::field("token", "is invalid")
}

/// The usable token of `kind` with this value: unknown, used and expired ones are refused with
/// their own message under the field `token`.
async fn usable(db: &impl ConnectionTrait, kind: &str, value: &str) -> AppResult<account_token::Model> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid());
    }
    let digest = tok::digest(value);
    let t = account_token::Entity::find()
        .filter(account_token::Column::TokenDigest.eq(digest.as_str()))
        .filter(account_token::Column::Kind.eq(kind))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if !tok::digest_eq(&t.token_digest, &digest) {
        return Err(invalid());
    }
    if t.used_at.is_some() {
        return Err(AppError::field("token", "has already been used"));
    }
    if t.expires_at <= time::now() {
        return Err(AppError::field("token", "has expired, please request a new one"));
    }
    if !still_valid(db, &t).await? {
        return Err(invalid());
    }
    Ok(t)
}

/// Whether what the token was issued on still holds: the user is active, has not changed their
/// password nor been blocked since (both bump `auth_epoch`), and the address it was mailed to is
/// still theirs (the primary, or a secondary confirmed one; a confirmation's own row is checked
/// by [`confirm_email`]). A deleted user's tokens are deleted with them.
async fn still_valid(db: &impl ConnectionTrait, t: &account_token::Model) -> AppResult<bool> {
    let Some(u) = user::Entity::find_by_id(t.user_id).one(db).await? else {
        return Ok(false);
    };
    if u.state != "active" || u.auth_epoch != t.auth_epoch {
        return Ok(false);
    }
    if t.kind != RESET {
        return Ok(true);
    }
    let addr = normalize_email(&t.email);
    let theirs = email::Entity::find()
        .filter(email::Column::UserId.eq(u.id))
        .filter(email::Column::EmailCanonical.eq(addr.as_str()))
        .one(db)
        .await?
        .is_some_and(|a| a.is_primary || a.confirmed_at.is_some());
    Ok(theirs)
}

/// Marks a token used; false when another request used it first (the caller rolls back).
async fn consume(db: &impl ConnectionTrait, t: &account_token::Model) -> Result<bool, DbErr> {
    let res = account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(time::now()))
        .filter(account_token::Column::Id.eq(t.id))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// `requestPasswordReset`: queues a reset mail when `address` is a user's primary address or
/// one of their confirmed secondary ones and the user is active; does nothing otherwise. The
/// answer is the same either way, so it does not tell whether the address is known.
pub async fn request_password_reset(st: &AppState, address: &str) -> AppResult<()> {
    let (db, sealer) = (&st.db, &st.keys.sealer);
    let Some((address, u)) = address_and_user(db, address).await? else {
        return Ok(());
    };
    if !(address.is_primary || address.confirmed_at.is_some())
        || u.state != "active"
        || issued_recently(db, u.id, RESET, RESET_REQUEST_INTERVAL_SECS).await?
    {
        return Ok(());
    }
    let txn = super::write_txn(db).await?;
    issue_reset(&txn, sealer, &u, &address.email, Template::ResetPassword).await?;
    txn.commit().await?;
    st.mail.wake();
    Ok(())
}

/// Whether a token of `kind` was issued to user `user_id` in the last `secs` seconds.
async fn issued_recently(db: &impl ConnectionTrait, user_id: i32, kind: &str, secs: i64) -> Result<bool, DbErr> {
    let n = account_token::Entity::find()
        .filter(account_token::Column::UserId.eq(user_id))
        .filter(account_token::Column::Kind.eq(kind))
        .filter(account_token::Column::CreatedAt.gt(time::now() - Duration::seconds(secs)))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// The address row with this (normalised, validated) address and its user.
async fn address_and_user(db: &impl ConnectionTrait, address: &str) -> AppResult<Option<(email::Model, user::Model)>> {
    let addr = normalize_email(address);
    let mut e = Errors::default();
    e.email("email", &addr);
    e.into_result()?;
    let found = email::Entity::find()
        .filter(email::Column::EmailCanonical.eq(addr.as_str()))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(a, u)| u.map(|u| (a, u))))
}

/// `resendConfirmation`: queues a new confirmation mail when `address` is a not yet confirmed
/// address (primary or secondary) of a user who is not blocked, unless one went to that user in
/// the last minute; does nothing otherwise. The answer is the same either way. Links sent before
/// keep working until they expire.
pub async fn request_confirmation(st: &AppState, address: &str) -> AppResult<()> {
    let (db, sealer) = (&st.db, &st.keys.sealer);
    let Some((address, u)) = address_and_user(db, address).await? else {
        return Ok(());
    };
    if address.confirmed_at.is_some()
        || u.state != "active"
        || issued_recently(db, u.id, CONFIRMATION, CONFIRM_REQUEST_INTERVAL_SECS).await?
    {
        return Ok(());
    }
    let txn = super::write_txn(db).await?;
    issue_confirmation(&txn, sealer, &u, &address).await?;
    txn.commit().await?;
    st.mail.wake();
    Ok(())
}

/// What the reset page shows before a password is chosen: the token is checked, not used.
pub async fn check_reset_token(db: &impl ConnectionTrait, value: &str) -> AppResult<account_token::Model> {
    usable(db, RESET, value).await
}

/// `resetPassword`: sets the password, uses up the token (and every other reset token of the
/// user), and ends every session: JWTs issued before stop working (`auth_epoch` is bumped). An
/// expired password or a lock from failed sign-ins is cleared.
pub async fn reset_password(db: &DatabaseConnection, value: &str, new_password: &str) -> AppResult<user::Model> {
    let t = usable(db, RESET, value).await?;
    let mut e = Errors::default();
    e.password(new_password);
    e.into_result()?;
    let hash = password::hash(new_password.to_string()).await?;
    let txn = super::write_txn(db).await?;
    if !consume(&txn, &t).await? {
        return Err(AppError::field("token", "has already been used"));
    }
    let u = user::Entity::find_by_id(t.user_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    let now = time::now();
    account_token::Entity::update_many()
        .col_expr(account_token::Column::UsedAt, Expr::value(now))
        .filter(account_token::Column::UserId.eq(u.id))
        .filter(account_token::Column::Kind.eq(RESET))
        .filter(account_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    let confirm_primary = u.confirmed_at.is_none() && normalize_email(&t.email) == u.email;
    let mut m: user::ActiveModel = u.clone().into();
    passwords::set(&mut m, &u, hash, ChosenBy::Owner, now);
    m.failed_attempts = Set(0);
    m.locked_until = Set(None);
    m.updated_at = Set(now);
    if confirm_primary {
        m.confirmed_at = Set(Some(now));
        email::Entity::update_many()
            .col_expr(email::Column::ConfirmedAt, Expr::value(now))
            .filter(email::Column::UserId.eq(u.id))
            .filter(email::Column::IsPrimary.eq(true))
            .filter(email::Column::ConfirmedAt.is_null())
            .exec(&txn)
            .await?;
    }
    let u = m.update(&txn).await?;
    txn.commit().await?;
    Ok(u)
}

/// `confirmEmail` and `GET /users/confirmation`: confirms the address the token was mailed to,
/// and the user when it is their primary address. The token is invalid when the address was
/// deleted or changed since.
pub async fn confirm_email(db: &DatabaseConnection, value: &str) -> AppResult<(email::Model, user::Model)> {
    let t = usable(db, CONFIRMATION, value).await?;
    let txn = super::write_txn(db).await?;
    let address = match t.email_id {
        Some(id) => email::Entity::find_by_id(id).one(&txn).await?,
        None => None,
    };
    let Some(address) = address.filter(|a| a.user_id == t.user_id && a.email_canonical == normalize_email(&t.email))
    else {
        return Err(invalid());
    };
    if !consume(&txn, &t).await? {
        return Err(AppError::field("token", "has already been used"));
    }
    let now = time::now();
    let address = if address.confirmed_at.is_none() {
        let mut am: email::ActiveModel = address.into();
        am.confirmed_at = Set(Some(now));
        am.update(&txn).await?
    } else {
        address
    };
    let u = user::Entity::find_by_id(t.user_id)
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    let u = if address.is_primary && u.confirmed_at.is_none() {
        let mut um: user::ActiveModel = u.into();
        um.confirmed_at = Set(address.confirmed_at);
        um.updated_at = Set(now);
        um.update(&txn).await?
    } else {
        u
    };
    txn.commit().await?;
    Ok((address, u))
}

/// Deletes used and expired tokens older than `age`.
pub async fn prune(db: &impl ConnectionTrait, age: Duration) -> AppResult<u64> {
    let before = time::now() - age;
    let res = account_token::Entity::delete_many()
        .filter(account_token::Column::ExpiresAt.lt(before))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
