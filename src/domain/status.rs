//! A user's status (today's GitLab): an emoji, a message of up to 100 characters and an
//! availability, set by the user for themself and cleared by hand or at a time chosen with it.
//! Everyone may read it; an expired status reads as none.

use chrono::Duration;
use entity::user_status as status;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::changes::{Change, ChangeBus, UserAction};
use super::fields::StatusRow;
use super::users::{self, UserRef};
use super::validate::Errors;
use super::{time, viewer::Viewer};
use crate::error::AppResult;

/// The emoji of a status given without one.
pub const DEFAULT_EMOJI: &str = "speech_balloon";
/// The longest message, in characters.
pub const MAX_MESSAGE: usize = 100;
/// GitLab's availabilities.
pub const AVAILABILITIES: &[&str] = &["not_set", "busy"];
/// GitLab's `clear_status_after` values and how long each is.
pub const CLEAR_AFTER: &[(&str, i64)] = &[
    ("30_minutes", 30),
    ("3_hours", 3 * 60),
    ("8_hours", 8 * 60),
    ("1_day", 24 * 60),
    ("3_days", 3 * 24 * 60),
    ("7_days", 7 * 24 * 60),
    ("30_days", 30 * 24 * 60),
];

/// The names `clear_status_after` takes.
pub fn clear_after_names() -> Vec<&'static str> {
    CLEAR_AFTER.iter().map(|(n, _)| *n).collect()
}

/// What a `PUT` (every part; a part left out is cleared) or a `PATCH` (only the parts given)
/// asks for.
#[derive(Clone, Debug, Default)]
pub struct StatusInput {
    pub emoji: Option<String>,
    pub message: Option<String>,
    pub availability: Option<String>,
    pub clear_status_after: Option<String>,
}

/// Whether the status still stands at this moment.
fn standing(m: &status::Model) -> bool {
    m.clear_status_at.is_none_or(|t| t > time::now())
}

/// The status of a user, `None` when there is none or it has expired.
pub async fn of(db: &impl ConnectionTrait, user_id: i32) -> Result<StatusRow, DbErr> {
    let m = status::Entity::find_by_id(user_id).one(db).await?;
    Ok(StatusRow(m.filter(standing)))
}

/// The standing statuses of several users, for loaders (statuses are public).
pub async fn of_users(db: &impl ConnectionTrait, user_ids: &[i32]) -> Result<Vec<status::Model>, DbErr> {
    let rows = status::Entity::find()
        .filter(super::any_of(db, status::Column::UserId, user_ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().filter(standing).collect())
}

/// `GET /users/:id_or_username/status`: anyone may read anyone's (404 for no such user).
pub async fn of_user(db: &impl ConnectionTrait, viewer: &Viewer, r: &UserRef) -> AppResult<StatusRow> {
    let u = users::get(db, viewer, r).await?;
    Ok(of(db, u.id()).await?)
}

/// Sets the viewer's status: `replace` (PUT) takes every part from `input`, a part left out
/// being cleared; otherwise (PATCH) the parts left out keep their values. No emoji, no message
/// and no availability clears the status. The new status, `None` when cleared; subscribers hear
/// of it (STATUS_CHANGED).
pub async fn set(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    input: StatusInput,
    replace: bool,
) -> AppResult<StatusRow> {
    let me = viewer.user()?.id;
    let mut e = Errors::default();
    if let Some(emoji) = input.emoji.as_deref().filter(|s| !s.is_empty())
        && emojis::get_by_shortcode(emoji).is_none()
    {
        e.add("emoji", "is not a valid emoji name");
    }
    if let Some(m) = &input.message {
        e.max_len("message", m, MAX_MESSAGE);
        e.single_line("message", m);
    }
    if let Some(a) = &input.availability
        && !AVAILABILITIES.contains(&a.as_str())
    {
        e.add("availability", "does not have a valid value");
    }
    let clear_after = match input.clear_status_after.as_deref() {
        None | Some("") => None,
        Some(name) => match CLEAR_AFTER.iter().find(|(n, _)| *n == name) {
            Some((_, minutes)) => Some(*minutes),
            None => {
                e.add("clear_status_after", "does not have a valid value");
                None
            }
        },
    };
    e.into_result()?;
    let current = match replace {
        true => None,
        false => of(db, me).await?.0,
    };
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let emoji = nonempty(input.emoji).or_else(|| current.as_ref().map(|c| c.emoji.clone()));
    let message = match input.message {
        Some(m) => nonempty(Some(m)),
        None => current.as_ref().and_then(|c| c.message.clone()),
    };
    let availability = input
        .availability
        .or_else(|| current.as_ref().map(|c| c.availability.clone()))
        .unwrap_or_else(|| "not_set".into());
    let now = time::now();
    let clear_status_at = match clear_after {
        Some(minutes) => Some(now + Duration::minutes(minutes)),
        None if replace => None,
        None => current.as_ref().and_then(|c| c.clear_status_at),
    };
    let cleared = emoji.is_none() && message.is_none() && availability == "not_set";
    let row = if cleared {
        status::Entity::delete_by_id(me).exec(db).await?;
        None
    } else {
        let m = status::Model {
            user_id: me,
            emoji: emoji.unwrap_or_else(|| DEFAULT_EMOJI.into()),
            message,
            availability,
            clear_status_at,
            updated_at: now,
        };
        let am: status::ActiveModel = m.clone().into();
        status::Entity::insert(am)
            .on_conflict(
                OnConflict::column(status::Column::UserId)
                    .update_columns([
                        status::Column::Emoji,
                        status::Column::Message,
                        status::Column::Availability,
                        status::Column::ClearStatusAt,
                        status::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        Some(m)
    };
    changes.publish(db, Change::user(me, UserAction::StatusChanged)).await;
    Ok(StatusRow(row))
}
