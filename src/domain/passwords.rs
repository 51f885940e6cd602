//! What changing a password does, by any path (an admin's update, a reset link, a sign-in with
//! an expired password): every JWT issued so far stops working, and the new password expires at
//! once when an admin set it for someone else (it must be changed at the next sign-in).

use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::ActiveValue::Set;

/// Who chose the new password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChosenBy {
    /// The user themself: it does not expire.
    Owner,
    /// An admin for someone else: it expires `now`.
    Admin,
}

/// Puts the new password `hash` of `u` into `m`.
pub fn set(m: &mut user::ActiveModel, u: &user::Model, hash: String, by: ChosenBy, now: DateTime<Utc>) {
    m.password_hash = Set(hash);
    m.auth_epoch = Set(u.auth_epoch + 1);
    m.password_expires_at = Set((by == ChosenBy::Admin).then_some(now));
}

/// Whether `u`'s password has expired at `now` (sign-in then asks for a new one).
pub fn expired(u: &user::Model, now: DateTime<Utc>) -> bool {
    u.password_expires_at.is_some_and(|t| t <= now)
}
