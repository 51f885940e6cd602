//! Following users (today's GitLab): a user follows up to 300 others; anyone signed in may see
//! whom a user follows and who follows them (active users only, as GitLab's lists).

use entity::user_follow as follow;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter,
};

use super::fields::UserRow;
use super::page::{Listed, PageRequest};
use super::time;
use super::users::{self, Read, SortDir, UserFilter, UserOrder, UserRef};
use super::viewer::Viewer;
use crate::error::{AppError, AppResult};

/// How many users one may follow (GitLab's limit).
pub const MAX_FOLLOWEES: u64 = 300;

/// What a follow or unfollow did.
pub struct Followed {
    /// The user followed or unfollowed.
    pub user: UserRow,
    /// Whether anything changed (`false`: already so).
    pub changed: bool,
}

/// The viewer follows `r`. Following oneself changes nothing (as GitLab's, which answers 304);
/// a 301st followee is refused. Concurrent follows of one pair store one row.
pub async fn follow(db: &DatabaseConnection, viewer: &Viewer, r: &UserRef) -> AppResult<Followed> {
    let me = viewer.user()?.id;
    let them = users::get(db, viewer, r).await?;
    if them.id() == me {
        return Ok(Followed {
            user: them,
            changed: false,
        });
    }
    let txn = super::write_txn(db).await?;
    // The follower's row is the lock: two follows of one user count in turn.
    users::lock_row(&txn, me).await?;
    // The limit first, as GitLab's: at the limit even a follow already made is refused.
    let count = follow::Entity::find()
        .filter(follow::Column::FollowerId.eq(me))
        .count(&txn)
        .await?;
    if count >= MAX_FOLLOWEES {
        txn.rollback().await?;
        return Err(AppError::BadRequest(format!(
            "You can't follow more than {MAX_FOLLOWEES} users. To follow more users, unfollow some others."
        )));
    }
    let exists = follow::Entity::find_by_id((me, them.id())).one(&txn).await?.is_some();
    if exists {
        txn.rollback().await?;
        return Ok(Followed {
            user: them,
            changed: false,
        });
    }
    follow::ActiveModel {
        follower_id: Set(me),
        followee_id: Set(them.id()),
        created_at: Set(time::now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Followed {
        user: them,
        changed: true,
    })
}

/// The viewer stops following `r`.
pub async fn unfollow(db: &impl ConnectionTrait, viewer: &Viewer, r: &UserRef) -> AppResult<Followed> {
    let me = viewer.user()?.id;
    let them = users::get(db, viewer, r).await?;
    let res = follow::Entity::delete_by_id((me, them.id())).exec(db).await?;
    Ok(Followed {
        user: them,
        changed: res.rows_affected > 0,
    })
}

/// Which of a user's lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Who follows them.
    Followers,
    /// Whom they follow.
    Following,
}

/// One page of a user's followers or followees, in the basic representation, by id.
pub async fn list(
    db: &DatabaseConnection,
    viewer: &Viewer,
    r: &UserRef,
    side: Side,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<UserRow>> {
    if viewer.user.is_none() {
        return Err(AppError::forbidden("Not authorized!"));
    }
    let them = users::get(db, viewer, r).await?;
    let filter = UserFilter {
        followers_of: (side == Side::Followers).then_some(them.id()),
        followed_by: (side == Side::Following).then_some(them.id()),
        active: true,
        ..Default::default()
    };
    users::list(
        db,
        viewer,
        &filter,
        UserOrder::Id,
        SortDir::Asc,
        Read::default(),
        page,
        total,
    )
    .await
}

/// How many follow a user and how many they follow, for several users.
pub async fn counts(db: &impl ConnectionTrait, user_ids: &[i32]) -> Result<Vec<(i32, i64, i64)>, sea_orm::DbErr> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let followers: Vec<(i32, i64)> = follow::Entity::find()
        .select_only()
        .column(follow::Column::FolloweeId)
        .column_as(Expr::col(follow::Column::FollowerId).count(), "n")
        .filter(super::any_of(db, follow::Column::FolloweeId, user_ids))
        .group_by(follow::Column::FolloweeId)
        .into_tuple()
        .all(db)
        .await?;
    let following: Vec<(i32, i64)> = follow::Entity::find()
        .select_only()
        .column(follow::Column::FollowerId)
        .column_as(Expr::col(follow::Column::FolloweeId).count(), "n")
        .filter(super::any_of(db, follow::Column::FollowerId, user_ids))
        .group_by(follow::Column::FollowerId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(user_ids
        .iter()
        .map(|id| {
            let of = |v: &[(i32, i64)]| v.iter().find(|(u, _)| u == id).map_or(0, |(_, n)| *n);
            (*id, of(&followers), of(&following))
        })
        .collect())
}
