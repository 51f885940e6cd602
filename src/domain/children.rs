//! The identities, SSH keys and secondary e-mails of some users in one statement (a `UNION ALL`
//! of the three tables, one row shape), for a reader that wants several of them at once: one
//! round trip and one pooled connection instead of three. Each list comes back in the order its
//! own read gives (`users::identities_of`, `ssh_keys::of_users`, `emails::of_users`: by id), and
//! with the same rows (secondary addresses only).

use entity::{email, identity, ssh_key};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};

/// Which of the three relations to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub identities: bool,
    pub keys: bool,
    pub emails: bool,
}

/// The rows read: `None` for a relation not wanted.
#[derive(Debug, Default, PartialEq)]
pub struct Children {
    pub identities: Option<Vec<identity::Model>>,
    pub keys: Option<Vec<ssh_key::Model>>,
    pub emails: Option<Vec<email::Model>>,
}

/// One row of the union: its first cell says which table it came from.
enum Row {
    Identity(identity::Model),
    Key(ssh_key::Model),
    Email(email::Model),
}

const IDENTITY: i32 = 0;
const KEY: i32 = 1;
const EMAIL: i32 = 2;

/// Reads the `wanted` relations of `user_ids`.
pub async fn of_users(db: &impl ConnectionTrait, user_ids: &[i32], wanted: Wanted) -> Result<Children, DbErr> {
    let mut out = Children {
        identities: wanted.identities.then(Vec::new),
        keys: wanted.keys.then(Vec::new),
        emails: wanted.emails.then(Vec::new),
    };
    if user_ids.is_empty() || wanted == Wanted::default() {
        return Ok(out);
    }
    let backend = db.get_database_backend();
    let stmt = statement(backend, user_ids, wanted);
    for res in db.query_all_raw(stmt).await? {
        match child(&res)? {
            Row::Identity(m) => out.identities.get_or_insert_with(Vec::new).push(m),
            Row::Key(m) => out.keys.get_or_insert_with(Vec::new).push(m),
            Row::Email(m) => out.emails.get_or_insert_with(Vec::new).push(m),
        }
    }
    // Sorted here rather than by the statement: the database would sort the whole union's rows
    // (key bodies and all) in one temporary sorter.
    out.identities.iter_mut().for_each(|v| v.sort_unstable_by_key(|m| m.id));
    out.keys.iter_mut().for_each(|v| v.sort_unstable_by_key(|m| m.id));
    out.emails.iter_mut().for_each(|v| v.sort_unstable_by_key(|m| m.id));
    Ok(out)
}

/// The custom attributes of several users, oldest first, for loaders and lists (authorization
/// is the caller's).
pub async fn custom_attributes_of(
    db: &impl ConnectionTrait,
    user_ids: &[i32],
) -> Result<Vec<entity::custom_attribute::Model>, DbErr> {
    use entity::custom_attribute as attr;
    use sea_orm::{EntityTrait, QueryFilter, QueryOrder};
    attr::Entity::find()
        .filter(super::any_of(db, attr::Column::UserId, user_ids))
        .order_by_asc(attr::Column::Id)
        .all(db)
        .await
}

/// The statement: cells kind, id, user_id, four texts, a nullable time, created_at.
fn statement(backend: DatabaseBackend, user_ids: &[i32], wanted: Wanted) -> Statement {
    let q = |ident: &str| match backend {
        DatabaseBackend::MySql => format!("`{ident}`"),
        _ => format!("\"{ident}\""),
    };
    let mut values: Vec<Value> = Vec::new();
    // `user_id` among the ids: one array parameter on PostgreSQL (see `any_of`), a list elsewhere.
    let among = |values: &mut Vec<Value>| -> String {
        match backend {
            DatabaseBackend::Postgres => {
                if values.is_empty() {
                    values.push(Value::from(user_ids.to_vec()));
                }
                format!("{} = ANY($1)", q("user_id"))
            }
            _ => {
                values.extend(user_ids.iter().map(|id| Value::from(*id)));
                format!("{} IN ({})", q("user_id"), vec!["?"; user_ids.len()].join(", "))
            }
        }
    };
    let mut branches = Vec::new();
    if wanted.identities {
        let cond = among(&mut values);
        branches.push(format!(
            "SELECT {IDENTITY}, {}, {}, {}, {}, NULL, NULL, NULL, NULL, {} FROM {} WHERE {cond}",
            q("id"),
            q("user_id"),
            q("provider"),
            q("extern_uid"),
            q("created_at"),
            q("identities"),
        ));
    }
    if wanted.keys {
        let cond = among(&mut values);
        branches.push(format!(
            "SELECT {KEY}, {}, {}, {}, {}, {}, {}, {}, {}, {} FROM {} WHERE {cond}",
            q("id"),
            q("user_id"),
            q("title"),
            q("key"),
            q("key_type"),
            q("fingerprint_md5"),
            q("fingerprint_sha256"),
            q("expires_at"),
            q("created_at"),
            q("ssh_keys"),
        ));
    }
    if wanted.emails {
        let cond = among(&mut values);
        // Secondary addresses only, as `emails::of_users` reads them.
        branches.push(format!(
            "SELECT {EMAIL}, {}, {}, {}, {}, NULL, NULL, NULL, {}, {} FROM {} WHERE {cond} AND {} = {}",
            q("id"),
            q("user_id"),
            q("email"),
            q("email_canonical"),
            q("confirmed_at"),
            q("created_at"),
            q("emails"),
            q("is_primary"),
            match backend {
                DatabaseBackend::Sqlite => "0",
                _ => "FALSE",
            },
        ));
    }
    Statement::from_sql_and_values(backend, branches.join(" UNION ALL "), values)
}

/// One row of `children::of_users`' union, by its first cell.
fn child(res: &QueryResult) -> Result<Row, DbErr> {
    use super::decode::{get, on_backend_row};
    macro_rules! read {
        ($row:expr) => {{
            let row = $row;
            // A literal is an INT on PostgreSQL and SQLite, a BIGINT on MySQL.
            let kind: i64 = match get::<_, i32>(row, 0) {
                Ok(k) => i64::from(k),
                Err(_) => get::<_, i64>(row, 0)?,
            };
            let (id, user_id) = (get(row, 1)?, get(row, 2)?);
            return match i32::try_from(kind).unwrap_or(-1) {
                IDENTITY => Ok(Row::Identity(entity::identity::Model {
                    id,
                    user_id,
                    provider: get(row, 3)?,
                    extern_uid: get(row, 4)?,
                    created_at: get(row, 9)?,
                })),
                KEY => Ok(Row::Key(entity::ssh_key::Model {
                    id,
                    user_id,
                    title: get(row, 3)?,
                    key: get(row, 4)?,
                    key_type: get(row, 5)?,
                    fingerprint_md5: get(row, 6)?,
                    fingerprint_sha256: get(row, 7)?,
                    expires_at: get(row, 8)?,
                    created_at: get(row, 9)?,
                })),
                EMAIL => Ok(Row::Email(entity::email::Model {
                    id,
                    user_id,
                    email: get(row, 3)?,
                    email_canonical: get(row, 4)?,
                    is_primary: false,
                    confirmed_at: get(row, 8)?,
                    created_at: get(row, 9)?,
                })),
                other => Err(DbErr::Type(format!("a child row of unknown kind {other}"))),
            };
        }};
    }
    on_backend_row!(res, read);
    Err(DbErr::Type("a child row from an unknown backend".into()))
}
