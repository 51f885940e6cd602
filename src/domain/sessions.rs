//! Signing in with a login (username or primary e-mail) and a password, for a JWT. Failed
//! passwords are counted in the database; ten in a row lock the account for ten minutes. Users
//! whose primary address is not confirmed yet are refused (`UNCONFIRMED`), whichever login they
//! use; see `account_tokens` for what counts as a user's address.

use chrono::Duration;
use entity::{email, user};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::changes::{Change, UserAction};
use super::passwords::{self, ChosenBy};
use super::states;
use super::validate::{Errors, normalize_email};
use super::{activities, time};
use std::net::IpAddr;

use crate::auth::password;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const MAX_FAILED_ATTEMPTS: i32 = 10;
pub const LOCK_MINUTES: i64 = 10;

pub struct SignIn {
    pub login: String,
    pub password: String,
    /// Required when the password has expired (set by an admin): becomes the new password.
    pub new_password: Option<String>,
}

pub struct Session {
    pub token: String,
    pub expires_at: i64,
    pub user: user::Model,
}

fn invalid() -> AppError {
    AppError::SignIn {
        code: "UNAUTHENTICATED",
        message: "Invalid login or password.".into(),
    }
}

/// Signs in. The per-address budget, then the per-login cap on passwords checked at once (both
/// the same for known and unknown logins), then one attempt counted in the database *before* the
/// password is checked: an attempt past the limit is refused unchecked, however many arrive at
/// once. A locked account answers as a wrong password does (nothing tells a locked account from
/// an unknown one), after the same work.
pub async fn sign_in(st: &AppState, client: Option<IpAddr>, input: SignIn) -> AppResult<Session> {
    st.signin.check(client)?;
    let login = input.login.trim();
    let _checking = st.signin.enter_login(&login.to_lowercase())?;
    let (db, keys, ttl_secs) = (&st.db, &*st.keys, st.cfg.jwt_ttl_secs);
    let found = if login.contains('@') {
        let addr = normalize_email(login);
        email::Entity::find()
            .filter(email::Column::EmailCanonical.eq(addr))
            .filter(email::Column::IsPrimary.eq(true))
            .find_also_related(user::Entity)
            .one(db)
            .await?
            .and_then(|(_, u)| u)
    } else {
        user::Entity::find()
            .filter(user::Column::UsernameCanonical.eq(login.to_lowercase()))
            .one(db)
            .await?
    };
    let Some(u) = found else {
        // Spend the same effort as a real check, so timing does not reveal unknown logins.
        st.metrics.record_password_check();
        let _ = password::verify(input.password, DUMMY_HASH.to_string()).await;
        return Err(invalid());
    };
    if !count_attempt(db, u.id).await? {
        // Locked: the same work and answer as a wrong password, the password unchecked.
        let _ = password::verify(String::new(), DUMMY_HASH.to_string()).await;
        return Err(invalid());
    }
    st.metrics.record_password_check();
    if !password::verify(input.password, u.password_hash.clone()).await {
        lock_when_spent(db, u.id).await?;
        return Err(invalid());
    }
    let now = time::now();
    // A deactivated account comes back by signing in; any other that is not active stays out.
    let u = match u.state.as_str() {
        states::DEACTIVATED => {
            match super::users::transition(db, &u, &[states::DEACTIVATED], states::ACTIVE, false).await? {
                Some(active) => {
                    st.changes
                        .publish(db, Change::user(active.id, UserAction::Activated))
                        .await;
                    active
                }
                None => u,
            }
        }
        _ => u,
    };
    if let Some(reason) = states::denied_reason(&u.state, &st.cfg.external_url()) {
        return Err(AppError::forbidden(reason));
    }
    if u.confirmed_at.is_none() {
        return Err(AppError::SignIn {
            code: "UNCONFIRMED",
            message: "You have to confirm your email address before continuing.".into(),
        });
    }
    let mut m: user::ActiveModel = u.clone().into();
    if passwords::expired(&u, now) {
        let Some(new_password) = input.new_password else {
            return Err(AppError::SignIn {
                code: "PASSWORD_EXPIRED",
                message: "Your password has expired. Sign in again with newPassword to set a new one.".into(),
            });
        };
        let mut e = Errors::default();
        e.password(&new_password);
        if let Err(AppError::Validation(mut f)) = e.into_result() {
            let msgs = f.remove("password").unwrap_or_default();
            return Err(AppError::Validation([("newPassword".to_string(), msgs)].into()));
        }
        let hash = password::hash(new_password).await?;
        passwords::set(&mut m, &u, hash, ChosenBy::Owner, now);
    }
    m.failed_attempts = Set(0);
    m.locked_until = Set(None);
    m.last_sign_in_at = Set(u.current_sign_in_at);
    m.current_sign_in_at = Set(Some(now));
    let u = m.update(db).await?;
    activities::mark(db, u.id, time::today()).await?;
    let (token, expires_at) = keys.jwt.issue(u.id, u.auth_epoch, ttl_secs)?;
    Ok(Session {
        token,
        expires_at,
        user: u,
    })
}

/// The account is not locked at `now`.
fn unlocked(now: chrono::DateTime<chrono::Utc>) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(user::Column::LockedUntil.is_null())
        .add(user::Column::LockedUntil.lte(now))
}

/// Counts one attempt in one conditional statement (safe across instances and concurrent
/// requests), before the password is checked; `false` when the account is locked or its
/// attempts are spent (then it is locked, if it was not yet). A successful sign-in sets the
/// count back to 0.
async fn count_attempt(db: &DatabaseConnection, user_id: i32) -> AppResult<bool> {
    let now = time::now();
    let counted = user::Entity::update_many()
        .col_expr(
            user::Column::FailedAttempts,
            Expr::col(user::Column::FailedAttempts).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::FailedAttempts.lt(MAX_FAILED_ATTEMPTS))
        .filter(unlocked(now))
        .exec(db)
        .await?;
    if counted.rows_affected == 1 {
        return Ok(true);
    }
    lock_when_spent(db, user_id).await?;
    Ok(false)
}

/// Locks the account for [`LOCK_MINUTES`] when its attempts are spent and it is not locked.
async fn lock_when_spent(db: &DatabaseConnection, user_id: i32) -> AppResult<()> {
    let now = time::now();
    user::Entity::update_many()
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(now + Duration::minutes(LOCK_MINUTES)),
        )
        .col_expr(user::Column::FailedAttempts, Expr::value(0))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::FailedAttempts.gte(MAX_FAILED_ATTEMPTS))
        .filter(unlocked(now))
        .exec(db)
        .await?;
    Ok(())
}

/// An argon2id hash of a random string, used to keep unknown-login answers as slow as real ones.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3WyWmrYnPVGfDfzI6n7x3Gm2aOYQxZc4m1gmWTl2X4U";
