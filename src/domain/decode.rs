//! Row decoding for the hot reads. SeaORM's derived decoder looks each column up by name and,
//! for every NULL in an `Option` column, formats an error message it then throws away; a page of
//! 100 users is 3,500 such cells. These decoders read the same columns by position (a plain
//! `Entity::find()` selects every column in field order) with the same sqlx conversions, and
//! fall back to the derived decoder for anything else (prefixed, joined or mocked rows).
//! `tests::same_as_derived` checks both decoders agree on every backend's rows.

use sea_orm::{DbErr, FromQueryResult, QueryResult};

/// A model decoded by column position.
pub struct ByIndex<M>(pub M);

fn get<'r, R, T>(row: &'r R, idx: usize) -> Result<T, DbErr>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(idx).map_err(|e| DbErr::Type(format!("column {idx}: {e}")))
}

macro_rules! by_index {
    ($model:path { $($field:ident),+ $(,)? }) => {
        impl FromQueryResult for ByIndex<$model> {
            fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
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
                                let $field = get(row, _i)?;
                                _i += 1;
                            )+
                            return Ok(ByIndex(Model { $($field),+ }));
                        }
                    }};
                }
                if let Some(row) = res.try_as_pg_row() {
                    build!(row)
                }
                if let Some(row) = res.try_as_sqlite_row() {
                    build!(row)
                }
                if let Some(row) = res.try_as_mysql_row() {
                    build!(row)
                }
                <$model as FromQueryResult>::from_query_result(res, pre).map(ByIndex)
            }
        }
    };
}

by_index!(entity::user::Model {
    id,
    username,
    username_canonical,
    email,
    name,
    state,
    password_hash,
    admin,
    bio,
    location,
    skype,
    linkedin,
    twitter,
    website_url,
    organization,
    projects_limit,
    can_create_group,
    external,
    two_factor_enabled,
    color_scheme_id,
    auth_epoch,
    failed_attempts,
    locked_until,
    password_expires_at,
    created_at,
    updated_at,
    confirmed_at,
    last_sign_in_at,
    current_sign_in_at,
    last_activity_on,
    created_by_id,
});

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
    Ok(q.into_model::<ByIndex<M>>()
        .all(db)
        .await?
        .into_iter()
        .next()
        .map(|r| r.0))
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
    use sea_orm::{DatabaseBackend, QuerySelect, QueryTrait};
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let mut stmt = q.build(DatabaseBackend::Sqlite);
            stmt.sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
            let rows = E::find().from_raw_sql(stmt).into_model::<ByIndex<M>>().all(db).await?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        }
        _ => all(db, q.offset(offset).limit(limit)).await,
    }
}
