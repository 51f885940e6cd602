//! Custom attributes: keys and values administrators keep on users (GitLab's
//! `/users/:id/custom_attributes`). Admins only, to read and to write; others never see them, and
//! the `custom_attributes[key]=value` filter is ignored for them.

use entity::custom_attribute as attr;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::users::{self, UserRef};
use super::validate::Errors;
use super::viewer::Viewer;
use super::{policy, time};
use crate::error::{AppError, AppResult, is_unique_violation};

/// The user named by `r`, for an admin: `404 Not Found` (GitLab's words here) when missing.
async fn owner(db: &impl ConnectionTrait, viewer: &Viewer, r: &UserRef) -> AppResult<i32> {
    policy::require_admin(viewer)?;
    match users::find_ref(db, r).await? {
        Some(u) => Ok(u.id),
        None => Err(AppError::NotFoundMessage("404 Not Found".into())),
    }
}

/// A user's attributes, oldest first.
pub async fn list(db: &impl ConnectionTrait, viewer: &Viewer, r: &UserRef) -> AppResult<Vec<attr::Model>> {
    let user = owner(db, viewer, r).await?;
    Ok(super::children::custom_attributes_of(db, &[user]).await?)
}

/// One attribute of a user; `404 Not found` when the user has no such key.
pub async fn get(db: &impl ConnectionTrait, viewer: &Viewer, r: &UserRef, key: &str) -> AppResult<attr::Model> {
    let user = owner(db, viewer, r).await?;
    attr::Entity::find()
        .filter(attr::Column::UserId.eq(user))
        .filter(attr::Column::Key.eq(key))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFoundMessage("404 Not found".into()))
}

/// Sets an attribute (creates it or changes its value). `value` is required; keys and values are
/// single lines of at most 191 and 255 characters.
pub async fn set(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    r: &UserRef,
    key: &str,
    value: Option<String>,
) -> AppResult<attr::Model> {
    viewer.user()?;
    let Some(value) = value else {
        return Err(AppError::missing(&["value"]));
    };
    let user = owner(db, viewer, r).await?;
    let mut e = Errors::default();
    if key.trim().is_empty() {
        e.add("key", "can't be blank");
    }
    e.max_len("key", key, 191);
    e.single_line("key", key);
    e.max_len("value", &value, 255);
    e.single_line("value", &value);
    e.into_result()?;
    // An update, else an insert; when a concurrent request inserted first, the update again.
    for _ in 0..2 {
        if let Some(m) = update(db, user, key, &value).await? {
            return Ok(m);
        }
        let now = time::now();
        let res = attr::ActiveModel {
            user_id: Set(user),
            key: Set(key.to_string()),
            value: Set(value.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await;
        match res {
            Ok(m) => return Ok(m),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    update(db, user, key, &value)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("custom attribute {key} vanished while being set")))
}

async fn update(db: &impl ConnectionTrait, user: i32, key: &str, value: &str) -> Result<Option<attr::Model>, DbErr> {
    attr::Entity::update_many()
        .col_expr(attr::Column::Value, Expr::value(value))
        .col_expr(attr::Column::UpdatedAt, Expr::value(time::now()))
        .filter(attr::Column::UserId.eq(user))
        .filter(attr::Column::Key.eq(key))
        .exec(db)
        .await?;
    // Read back rather than trust the count: MariaDB counts changed rows only, and a value set
    // to what it was changes none.
    attr::Entity::find()
        .filter(attr::Column::UserId.eq(user))
        .filter(attr::Column::Key.eq(key))
        .one(db)
        .await
}

/// Deletes an attribute; `404 Custom attribute Not Found` when there is none.
pub async fn delete(db: &impl ConnectionTrait, viewer: &Viewer, r: &UserRef, key: &str) -> AppResult<attr::Model> {
    let user = owner(db, viewer, r).await?;
    let found = attr::Entity::find()
        .filter(attr::Column::UserId.eq(user))
        .filter(attr::Column::Key.eq(key))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("Custom attribute"))?;
    let res = attr::Entity::delete_by_id(found.id).exec(db).await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("Custom attribute"));
    }
    Ok(found)
}
