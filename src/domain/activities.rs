//! User activity: `last_activity_on`, marked when a user authenticates, at most one write per
//! user per day (a conditional UPDATE, so several instances still write once).

use chrono::NaiveDate;
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::time;

pub async fn touch(db: &impl ConnectionTrait, u: &user::Model) -> Result<(), sea_orm::DbErr> {
    let today = time::today();
    if u.last_activity_on.is_some_and(|d| d >= today) {
        return Ok(());
    }
    mark(db, u.id, today).await
}

pub async fn mark(
    db: &impl ConnectionTrait,
    user_id: i32,
    today: NaiveDate,
) -> Result<(), sea_orm::DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::LastActivityOn, Expr::value(today))
        .filter(user::Column::Id.eq(user_id))
        .filter(
            Condition::any()
                .add(user::Column::LastActivityOn.is_null())
                .add(user::Column::LastActivityOn.lt(today)),
        )
        .exec(db)
        .await?;
    Ok(())
}
