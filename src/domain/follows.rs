//! Following users (today's GitLab): a user follows up to 300 others; anyone signed in may see
//! whom a user follows and who follows them (active users only, as GitLab's lists).

use entity::{user, user_follow as follow};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, Statement, Value,
};

use super::fields::{FollowCounts, UserRow};
use super::page::{Listed, PageRequest, Window};
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    super::policy::may_list_follows(viewer, them.subject())?;
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

impl Side {
    /// (the column naming the user whose list it is, the column naming the listed users).
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Side::Followers => ("followee_id", "follower_id"),
            Side::Following => ("follower_id", "followee_id"),
        }
    }
}

/// The condition that the listed user of follow row `f` (its column `listed`) is active. Written
/// as EXISTS so that every plan starts from `user_follows` (its indexes) and only looks users up
/// by id: as a join, SQLite's planner (without statistics) may scan the active users instead.
fn listed_active(listed: &str) -> String {
    format!("EXISTS (SELECT 1 FROM users u WHERE u.id = f.{listed} AND u.state = 'active')")
}

/// `?` or `$n` placeholders for `n` values starting at `from` (1-based).
fn placeholders(backend: DatabaseBackend, from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| match backend {
            DatabaseBackend::Postgres => format!("${i}"),
            _ => "?".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The same window (`w`) of the followers or followees of several users at once: one statement
/// numbering each user's list by id (`ROW_NUMBER() OVER (PARTITION BY ...)`), and one reading
/// the users listed. Active users only, as the lists. Pairs (whose list, the listed user) in
/// list order.
pub async fn windows_of(
    db: &impl ConnectionTrait,
    user_ids: &[i32],
    side: Side,
    w: Window,
) -> Result<Vec<(i32, UserRow)>, DbErr> {
    if user_ids.is_empty() || w.limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let (owner, listed) = side.columns();
    let n = user_ids.len();
    let sql = format!(
        "SELECT t.owner_id, t.listed_id FROM (
            SELECT f.{owner} AS owner_id, f.{listed} AS listed_id,
                   ROW_NUMBER() OVER (PARTITION BY f.{owner} ORDER BY f.{listed}) AS rn
            FROM user_follows f
            WHERE f.{owner} IN ({ids}) AND {active}
        ) t WHERE t.rn > {lo} AND t.rn <= {hi} ORDER BY t.owner_id, t.listed_id",
        ids = placeholders(backend, 1, n),
        active = listed_active(listed),
        lo = placeholders(backend, n + 1, 1),
        hi = placeholders(backend, n + 2, 1),
    );
    let mut values: Vec<Value> = user_ids.iter().map(|id| Value::from(*id)).collect();
    values.push(Value::from(w.offset as i64));
    values.push(Value::from(w.offset.saturating_add(w.limit) as i64));
    let pairs: Vec<(i32, i32)> = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index::<i32>(0)?, r.try_get_by_index::<i32>(1)?)))
        .collect::<Result<_, DbErr>>()?;
    let mut ids: Vec<i32> = pairs.iter().map(|(_, l)| *l).collect();
    ids.sort_unstable();
    ids.dedup();
    let users: std::collections::HashMap<i32, user::Model> =
        users::by_ids(db, &ids).await?.into_iter().map(|u| (u.id, u)).collect();
    Ok(pairs
        .into_iter()
        .filter_map(|(o, l)| users.get(&l).map(|u| (o, UserRow::full(u.clone()))))
        .collect())
}

/// How long each user's list is (active users only), for several users.
pub async fn lengths_of(db: &impl ConnectionTrait, user_ids: &[i32], side: Side) -> Result<Vec<(i32, u64)>, DbErr> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let (owner, listed) = side.columns();
    let sql = format!(
        "SELECT f.{owner}, COUNT(*) FROM user_follows f
         WHERE f.{owner} IN ({ids}) AND {active} GROUP BY f.{owner}",
        ids = placeholders(backend, 1, user_ids.len()),
        active = listed_active(listed),
    );
    let values: Vec<Value> = user_ids.iter().map(|id| Value::from(*id)).collect();
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|r| Ok((r.try_get_by_index::<i32>(0)?, r.try_get_by_index::<i64>(1)? as u64)))
        .collect()
}

/// `user` with how many follow them, how many they follow and whether the viewer is among their
/// followers, when the viewer is shown these (`policy::sees_follow_counts`); one statement.
pub async fn with_counts(db: &impl ConnectionTrait, viewer: &Viewer, user: UserRow) -> AppResult<UserRow> {
    if !super::policy::sees_follow_counts(viewer, user.subject()) {
        return Ok(user);
    }
    let backend = db.get_database_backend();
    let p = |i| placeholders(backend, i, 1);
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM user_follows f WHERE f.followee_id = {} AND {}),
                (SELECT COUNT(*) FROM user_follows f WHERE f.follower_id = {} AND {}),
                (SELECT COUNT(*) FROM user_follows f WHERE f.follower_id = {} AND f.followee_id = {})",
        p(1),
        listed_active("follower_id"),
        p(2),
        listed_active("followee_id"),
        p(3),
        p(4),
    );
    let me = viewer.user.as_ref().map_or(0, |u| u.id);
    let values: Vec<Value> = [user.id(), user.id(), me, user.id()]
        .into_iter()
        .map(Value::from)
        .collect();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("follow counts".into()))?;
    let count = |i| row.try_get_by_index::<i64>(i).map(|n| n.max(0) as u64);
    let counts = FollowCounts {
        followers: count(0)?,
        following: count(1)?,
        is_followed: viewer.user.as_ref().map(|_| count(2)).transpose()?.map(|n| n > 0),
    };
    Ok(user.with_follow_counts(counts))
}
