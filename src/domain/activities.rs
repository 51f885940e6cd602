//! User activity: `last_activity_on`, marked when a user authenticates, at most one write per
//! user per day (a conditional UPDATE, so several instances still write once).

use chrono::NaiveDate;
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::fields::ActivityRow;
use super::page::{Listed, Listing, PageRequest, Window};
use super::time;
use super::viewer::Viewer;
use crate::error::AppResult;

pub async fn touch(db: &impl ConnectionTrait, u: &user::Model) -> Result<(), sea_orm::DbErr> {
    let today = time::today();
    if u.last_activity_on.is_some_and(|d| d >= today) {
        return Ok(());
    }
    mark(db, u.id, today).await
}

pub async fn mark(db: &impl ConnectionTrait, user_id: i32, today: NaiveDate) -> Result<(), sea_orm::DbErr> {
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

/// Users active on or after `from` (default: six months back), oldest activity first. Admin only.
pub struct ActivityQuery {
    pub from: NaiveDate,
}

impl ActivityQuery {
    pub fn new(viewer: &Viewer, from: Option<NaiveDate>) -> AppResult<Self> {
        super::policy::require_admin(viewer)?;
        let from = from.unwrap_or_else(|| {
            time::today()
                .checked_sub_months(chrono::Months::new(6))
                .unwrap_or_default()
        });
        Ok(ActivityQuery { from })
    }

    fn select(&self) -> sea_orm::Select<user::Entity> {
        user::Entity::find().filter(user::Column::LastActivityOn.gte(self.from))
    }
}

impl Listing for ActivityQuery {
    type Item = ActivityRow;

    async fn count(&self, db: &DatabaseConnection, up_to: Option<u64>) -> AppResult<u64> {
        super::page::count(db, self.select(), up_to).await
    }

    async fn fetch(&self, db: &DatabaseConnection, w: Window) -> AppResult<Vec<ActivityRow>> {
        use sea_orm::{QueryOrder, QuerySelect};
        let rows = self
            .select()
            .order_by_asc(user::Column::LastActivityOn)
            .order_by_asc(user::Column::Id)
            .offset(w.offset)
            .limit(w.limit)
            .all(db)
            .await?;
        Ok(rows.into_iter().map(ActivityRow).collect())
    }
}

/// One page of the users active since `from` (default: six months ago). Admin only.
pub async fn list(
    db: &DatabaseConnection,
    viewer: &Viewer,
    from: Option<NaiveDate>,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<ActivityRow>> {
    super::page::list(db, &ActivityQuery::new(viewer, from)?, page, total).await
}
