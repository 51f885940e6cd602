//! Secondary e-mail addresses. The `emails` table also holds each user's primary address, so one
//! unique index makes an address unique across primary and secondary e-mails. A new address is
//! unconfirmed (unless an admin skips that) and gets a confirmation mail, queued in the same
//! transaction; see `account_tokens` for what a confirmed address allows.

use entity::{email, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter,
};

use super::account_tokens;
use super::owner::{Owner, Target};
use super::policy;
use super::time;
use super::validate::{Errors, normalize_email};
use crate::auth::token::Sealer;
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::state::AppState;

pub struct NewEmail {
    pub email: Option<String>,
    /// Confirm at once (admins adding for a user).
    pub skip_confirmation: bool,
}

/// Adds a secondary address. Order: 401, missing, 403, 404, 400 (format, taken).
pub async fn add(st: &AppState, viewer: &Viewer, target: &Target, input: NewEmail) -> AppResult<email::Model> {
    let (db, sealer) = (&st.db, &st.keys.sealer);
    viewer.user()?;
    let Some(raw) = input.email.filter(|e| !e.is_empty()) else {
        return Err(AppError::missing(&["email"]));
    };
    let owner = Owner::resolve(db, viewer, target).await?;
    let addr = normalize_email(&raw);
    let mut e = Errors::default();
    e.email("email", &addr);
    e.into_result()?;
    let taken = email::Entity::find()
        .filter(email::Column::EmailCanonical.eq(addr.as_str()))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(AppError::field("email", "has already been taken"));
    }
    let skip = input.skip_confirmation && policy::may_skip_confirmation(viewer);
    let res = super::retry_deadlocks(|| insert(db, sealer, owner, &addr, skip)).await;
    let m = match res {
        Ok(m) => m,
        Err(e) if is_unique_violation(&e) => return Err(AppError::field("email", "has already been taken")),
        Err(DbErr::RecordNotFound(_)) => return Err(AppError::NotFound("User")),
        Err(e) => return Err(e.into()),
    };
    st.mail.wake();
    Ok(m)
}

/// Inserts the address and, unless it is confirmed at once, queues its confirmation mail, in one
/// transaction.
async fn insert(
    db: &DatabaseConnection,
    sealer: &Sealer,
    owner: Owner,
    addr: &str,
    confirmed: bool,
) -> Result<email::Model, DbErr> {
    let now = time::now();
    let txn = super::write_txn(db).await?;
    let m = email::ActiveModel {
        user_id: Set(owner.id()),
        email: Set(addr.to_owned()),
        email_canonical: Set(addr.to_owned()),
        is_primary: Set(false),
        confirmed_at: Set(confirmed.then_some(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if m.confirmed_at.is_none() {
        let u = user::Entity::find_by_id(owner.id())
            .one(&txn)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("User".into()))?;
        account_tokens::issue_confirmation(&txn, sealer, &u, &m).await?;
    }
    txn.commit().await?;
    Ok(m)
}
