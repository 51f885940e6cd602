//! Row decoding for the hot reads. SeaORM's derived decoder looks each column up by name and,
//! for every NULL in an `Option` column, formats an error message it then throws away; a page of
//! 100 users is 3,500 such cells. These decoders read the same columns by position (a plain
//! `Entity::find()` selects every column in field order) with the same sqlx conversions, and
//! fall back to the derived decoder for anything else (prefixed, joined or mocked rows).
//! `tests::same_as_derived` checks both decoders agree on every backend's rows.

use sea_orm::{DbErr, FromQueryResult};

/// A model decoded by column position.
pub struct ByIndex<M>(pub M);

/// The cell at `idx`, decoded without sqlx's check that the column's declared type is one `T`
/// accepts: the columns of these reads are the migrations' own, and that check (a clone and a
/// comparison of type descriptions per cell) was about 4% of the server's CPU on a 100-user page.
/// Decoding still fails on a value of the wrong size or encoding (`same_as_derived` and the
/// column tests read every column on every backend).
pub(crate) fn get<'r, R, T>(row: &'r R, idx: usize) -> Result<T, DbErr>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database>,
{
    row.try_get_unchecked(idx)
        .map_err(|e| DbErr::Type(format!("column {idx}: {e}")))
}

/// Runs the macro `$read` on `$res`'s row as the backend's own row type (sqlx's typed rows, which
/// decode by position); `$read` returns from the enclosing function. Falls through for a row of
/// no backend (a mocked one).
macro_rules! on_backend_row {
    ($res:expr, $read:ident) => {
        if let Some(row) = $res.try_as_pg_row() {
            $read!(row)
        }
        if let Some(row) = $res.try_as_sqlite_row() {
            $read!(row)
        }
        if let Some(row) = $res.try_as_mysql_row() {
            $read!(row)
        }
    };
}
pub(crate) use on_backend_row;

macro_rules! by_index {
    ($model:path { $($field:ident),+ $(,)? }) => {
        impl sea_orm::FromQueryResult for $crate::domain::decode::ByIndex<$model> {
            fn from_query_result(res: &sea_orm::QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
                const COLUMNS: usize = [$(stringify!($field)),+].len();
                type Model = $model;
                // Where this model's columns start: a plain select holds only them; a two-model
                // select (`find_also_related`) holds the first model's (`A_`) then the second's
                // (`B_`). Any other shape goes to the derived decoder.
                macro_rules! build {
                    ($row:expr) => {{
                        let row = $row;
                        let len = sqlx::Row::len(row);
                        let start = match pre {
                            "" if len == COLUMNS => Some(0),
                            "A_" if len > COLUMNS => Some(0),
                            "B_" if len > COLUMNS => Some(len - COLUMNS),
                            _ => None,
                        };
                        if let Some(start) = start {
                            let mut _i = start;
                            $(
                                let $field = $crate::domain::decode::get(row, _i)?;
                                _i += 1;
                            )+
                            return Ok($crate::domain::decode::ByIndex(Model { $($field),+ }));
                        }
                    }};
                }
                $crate::domain::decode::on_backend_row!(res, build);
                <$model as sea_orm::FromQueryResult>::from_query_result(res, pre).map($crate::domain::decode::ByIndex)
            }
        }
    };
}
pub(crate) use by_index;

by_index!(entity::token::Model {
    id,
    user_id,
    kind,
    name,
    token_digest,
    token_encrypted,
    scopes,
    expires_at,
    revoked,
    last_used_at,
    created_at,
    description,
    previous_token_id,
});

by_index!(entity::identity::Model {
    id,
    user_id,
    provider,
    extern_uid,
    created_at
});

by_index!(entity::ssh_key::Model {
    id,
    user_id,
    title,
    key,
    key_type,
    fingerprint_md5,
    fingerprint_sha256,
    expires_at,
    created_at,
});

by_index!(entity::gpg_key::Model {
    id,
    user_id,
    key,
    primary_keyid,
    fingerprint,
    emails,
    created_at,
});

by_index!(entity::email::Model {
    id,
    user_id,
    email,
    email_canonical,
    is_primary,
    confirmed_at,
    created_at,
});

/// Every row of `q`, decoded by position.
pub async fn all<E, M>(db: &impl sea_orm::ConnectionTrait, q: sea_orm::Select<E>) -> Result<Vec<M>, DbErr>
where
    E: sea_orm::EntityTrait<Model = M>,
    ByIndex<M>: FromQueryResult + Send + Sync,
{
    Ok(q.into_model::<ByIndex<M>>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.0)
        .collect())
}

/// The row of `q`, a lookup by a unique key, decoded by position. No `LIMIT`: SQLite (3.45 and
/// later) plans `LIMIT ?` with the bound value and so prepares such a statement again on every
/// execution (two extra prepares per request were seen with a uprobe on sqlite3LockAndPrepare),
/// and a unique key gives one row at most anyway.
pub async fn unique<E, M>(db: &impl sea_orm::ConnectionTrait, q: sea_orm::Select<E>) -> Result<Option<M>, DbErr>
where
    E: sea_orm::EntityTrait<Model = M>,
    ByIndex<M>: FromQueryResult + Send + Sync,
{
    Ok(all(db, q).await?.into_iter().next())
}

/// The rows of `q` from `offset`, at most `limit`, decoded by position. On SQLite the bounds are
/// written into the SQL as numbers: a bound `LIMIT ?` makes SQLite prepare the statement again
/// on every execution (see [`unique`]).
pub async fn window<E, M>(
    db: &impl sea_orm::ConnectionTrait,
    q: sea_orm::Select<E>,
    offset: u64,
    limit: u64,
) -> Result<Vec<M>, DbErr>
where
    E: sea_orm::EntityTrait<Model = M>,
    M: FromQueryResult + Send + Sync,
    ByIndex<M>: FromQueryResult + Send + Sync,
{
    let stmt = window_statement(db.get_database_backend(), q, offset, limit);
    let rows = E::find().from_raw_sql(stmt).into_model::<ByIndex<M>>().all(db).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// `q` from `offset`, at most `limit` rows; on SQLite with the bounds written as numbers.
pub(crate) fn window_statement<E: sea_orm::EntityTrait>(
    backend: sea_orm::DatabaseBackend,
    q: sea_orm::Select<E>,
    offset: u64,
    limit: u64,
) -> sea_orm::Statement {
    use sea_orm::{DatabaseBackend, QuerySelect, QueryTrait};
    match backend {
        DatabaseBackend::Sqlite => {
            let mut stmt = q.build(backend);
            stmt.sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
            stmt
        }
        _ => q.offset(offset).limit(limit).build(backend),
    }
}
