//! The outbox: every outgoing mail is a row, inserted in the same transaction as the change that
//! causes it, and delivered by the worker ([`super::MailWorker`]).
//!
//! A row is claimed with one conditional `UPDATE` (portable across SQLite, PostgreSQL and
//! MariaDB, no `SKIP LOCKED` needed): `pending` and due, or `sending` with an expired lease,
//! becomes `sending` with `locked_until = now + lease` and `attempts + 1`. Only the worker whose
//! update changed the row sends it, and it finishes the row only while `attempts` still holds its
//! own value (a fencing token), so an instance that lost its lease cannot overwrite the outcome of
//! the one that took the row over.

use chrono::{DateTime, Duration, Utc};
use entity::outbox;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait};
use sea_orm::{QueryFilter, QueryOrder, QuerySelect};

use super::templates::{Params, Template};
use crate::auth::token::{self as tok, Sealer};
use crate::domain::time;

/// Tells the mail workers of this process that mail was queued: the domain calls
/// [`Wake::wake`] after the commit of a change that queued some. Workers also poll, so a missed
/// wake-up (or a row queued by another instance) only waits for the poll.
#[derive(Clone, Debug)]
pub struct Wake(std::sync::Arc<tokio::sync::watch::Sender<u64>>);

impl Default for Wake {
    fn default() -> Self {
        Wake(std::sync::Arc::new(tokio::sync::watch::channel(0).0))
    }
}

impl Wake {
    pub fn wake(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// What a worker waits on.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }
}

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// What stands before sealed parameters in `params` (rows from before sealing hold plain JSON).
const SEALED: &str = "sealed:";

/// The parameters as stored: sealed with the server secret, so the token a mail carries cannot be
/// read from the database, its write-ahead log or its dead rows.
pub fn seal_params(sealer: &Sealer, params: &Params) -> Result<String, DbErr> {
    let json = serde_json::to_string(params).map_err(|e| DbErr::Custom(format!("mail params: {e}")))?;
    Ok(format!("{SEALED}{}", sealer.seal(&json)))
}

/// The parameters of a stored row; `None` when they cannot be opened with this secret.
pub fn open_params(sealer: &Sealer, stored: &str) -> Option<Params> {
    let json = match stored.strip_prefix(SEALED) {
        Some(sealed) => sealer.open(sealed)?,
        None => stored.to_string(),
    };
    serde_json::from_str(&json).ok()
}

/// Queues one mail to user `user_id`. Call it with the transaction of the change that causes the
/// mail, then [`Wake::wake`] the workers after the commit.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    sealer: &Sealer,
    user_id: Option<i32>,
    recipient: &str,
    template: Template,
    params: &Params,
) -> Result<outbox::Model, DbErr> {
    let now = time::now();
    let params = seal_params(sealer, params)?;
    outbox::ActiveModel {
        user_id: Set(user_id),
        recipient: Set(recipient.to_string()),
        template: Set(template.as_str().to_string()),
        params: Set(Some(params)),
        message_id: Set(tok::generate("").to_lowercase()),
        state: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Rows a worker may claim now.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(outbox::Column::State.eq(PENDING))
                .add(outbox::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(outbox::Column::State.eq(SENDING))
                .add(outbox::Column::LockedUntil.lte(now)),
        )
}

/// Ids of due rows, oldest first.
pub async fn due(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<i32>, DbErr> {
    outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(claimable(time::now()))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .into_tuple::<i32>()
        .all(db)
        .await
}

/// Claims one row for `lease`; `None` when another worker was first or it is no longer due.
pub async fn claim(db: &impl ConnectionTrait, id: i32, lease: Duration) -> Result<Option<outbox::Model>, DbErr> {
    let now = time::now();
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(SENDING))
        .col_expr(outbox::Column::LockedUntil, Expr::value(now + lease))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .filter(outbox::Column::Id.eq(id))
        .filter(claimable(now))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(None);
    }
    outbox::Entity::find_by_id(id).one(db).await
}

/// The row as claimed by this worker: same id, still `sending`, same attempt.
fn mine(row: &outbox::Model) -> Condition {
    Condition::all()
        .add(outbox::Column::Id.eq(row.id))
        .add(outbox::Column::State.eq(SENDING))
        .add(outbox::Column::Attempts.eq(row.attempts))
}

/// Records a delivery and forgets the params (they hold a live token). False when the claim was
/// lost meanwhile (the lease expired and another worker took the row).
pub async fn mark_sent(db: &impl ConnectionTrait, row: &outbox::Model) -> Result<bool, DbErr> {
    let now = time::now();
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(SENT))
        .col_expr(outbox::Column::SentAt, Expr::value(now))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::Params, Expr::value(Option::<String>::None))
        .filter(mine(row))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records a failed attempt: back to `pending` at `retry_at`, or `failed` for good when there is
/// none (the params are forgotten then).
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    row: &outbox::Model,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, DbErr> {
    let error: String = error.chars().take(2000).collect();
    let mut q = outbox::Entity::update_many()
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None));
    q = match retry_at {
        Some(at) => q
            .col_expr(outbox::Column::State, Expr::value(PENDING))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(at)),
        None => q
            .col_expr(outbox::Column::State, Expr::value(FAILED))
            .col_expr(outbox::Column::Params, Expr::value(Option::<String>::None)),
    };
    Ok(q.filter(mine(row)).exec(db).await?.rows_affected == 1)
}

/// Deletes delivered and abandoned rows older than `age`.
pub async fn prune(db: &impl ConnectionTrait, age: Duration) -> Result<u64, DbErr> {
    let res = outbox::Entity::delete_many()
        .filter(outbox::Column::State.is_in([SENT, FAILED]))
        .filter(outbox::Column::CreatedAt.lt(time::now() - age))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Whether a parsed template exists for the row (rows from a newer version may not).
pub fn template_of(row: &outbox::Model) -> Option<Template> {
    Template::parse(&row.template)
}

/// Cancels the mail not sent yet to user `user_id` (the user is being deleted): the rows and the
/// tokens they carry are gone.
pub async fn cancel_for_user(db: &impl ConnectionTrait, user_id: i32) -> Result<u64, DbErr> {
    let res = outbox::Entity::delete_many()
        .filter(outbox::Column::UserId.eq(user_id))
        .filter(outbox::Column::State.is_in([PENDING, SENDING]))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
