//! The rules. One module per aggregate; every validation, permission check and database access
//! of usergraph lives here, and both fronts (GraphQL and REST) call the same functions.

pub mod account_tokens;
pub mod activities;
pub mod caller;
pub mod changes;
pub mod children;
pub mod custom_attributes;
pub mod decode;
pub mod emails;
pub mod events;
pub mod fields;
pub mod follows;
pub mod gpg_keys;
pub mod limits;
pub mod owned;
pub mod owner;
pub mod page;
pub mod passwords;
pub mod policy;
pub mod sessions;
pub mod shape;
pub mod ssh_keys;
pub mod states;
pub mod status;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod viewer;
pub mod watch;

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later fails at once
/// with "database is locked" when another connection wrote meanwhile, instead of waiting its turn.
/// Other backends ignore the mode.
pub async fn write_txn(db: &sea_orm::DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Runs `op` (one transaction, or one statement) again when the database rolled it back as the
/// victim of a deadlock: on MariaDB an insert that checks its user's row and the deletion of that
/// user deadlock now and then. The retry sees the world as it is then (the user gone: a foreign
/// key violation, answered 404). At most three runs in all, a few milliseconds apart.
pub async fn retry_deadlocks<T, F, Fut>(mut op: F) -> Result<T, sea_orm::DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sea_orm::DbErr>>,
{
    let mut runs = 1;
    loop {
        match op().await {
            Err(e) if runs < 3 && crate::error::is_deadlock(&e) => {
                tokio::time::sleep(std::time::Duration::from_millis(5 * runs)).await;
                runs += 1;
            }
            res => return res,
        }
    }
}

/// `col IN (ids)` for the batch reads. On PostgreSQL it is `col = ANY($1)` with one array
/// parameter: one bind and one cached generic plan whatever the number of ids, where a list of
/// 100 parameters is planned again on every execution (and planned into a sequential scan when the
/// only index on the column is a composite one). Other backends get the list.
pub fn any_of<C: sea_orm::ColumnTrait>(
    db: &impl sea_orm::ConnectionTrait,
    col: C,
    ids: &[i32],
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::extension::postgres::PgFunc;
    use sea_orm::sea_query::{Expr, ExprTrait};
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => Expr::col(col.as_column_ref()).eq(PgFunc::any(Expr::val(ids.to_vec()))),
        _ => col.is_in(ids.iter().copied()),
    }
}

/// Time as the domain stores it: UTC, truncated to milliseconds so every backend round-trips it.
pub mod time {
    use chrono::{DateTime, NaiveDate, Timelike, Utc};

    pub fn now() -> DateTime<Utc> {
        let t = Utc::now();
        t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(t)
    }

    pub fn today() -> NaiveDate {
        Utc::now().date_naive()
    }

    /// The zone of the tz database named `name` (`Europe/Berlin`, `UTC`), exactly as spelled.
    pub fn zone(name: &str) -> Option<chrono_tz::Tz> {
        name.parse().ok()
    }

    /// The time of day now in zone `name`, as GitLab's `local_time` shows it (`3:07 PM`); none
    /// without a zone, or for a name the tz database no longer has.
    pub fn local_time(name: Option<&str>, at: DateTime<Utc>) -> Option<String> {
        let tz = zone(name?)?;
        Some(at.with_timezone(&tz).format("%-I:%M %p").to_string())
    }
}
