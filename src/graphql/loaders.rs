//! Batch loaders, created per request. They fetch by key only: authorization is applied by the
//! resolver before loading, never inside a batch. Keys with no rows get empty vectors.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{email, event, identity, ssh_key, token, user};
use sea_orm::{DatabaseConnection, DbErr};

use crate::domain::events::{self, EventFilter};
use crate::domain::fields::UserRow;
use crate::domain::follows::{self, Side};
use crate::domain::page::Window;
use crate::domain::tokens::{self, Kind, StateFilter};
use crate::domain::{owned, users};
use crate::error::AppError;

pub struct DbLoader {
    pub db: DatabaseConnection,
}

/// The identities of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdentitiesOf(pub i32);

/// The SSH keys of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeysOf(pub i32);

/// The secondary e-mails of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EmailsOf(pub i32);

/// The confirmed addresses of a user (the GPG keys' verification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConfirmedAddressesOf(pub i32);

impl Loader<ConfirmedAddressesOf> for DbLoader {
    type Value = Vec<String>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[ConfirmedAddressesOf],
    ) -> Result<HashMap<ConfirmedAddressesOf, Self::Value>, Self::Error> {
        let rows = crate::domain::gpg_keys::confirmed_addresses(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        let grouped = group(keys, rows, |(user, _)| ConfirmedAddressesOf(*user));
        Ok(grouped
            .into_iter()
            .map(|(k, rows)| (k, rows.into_iter().map(|(_, e)| e).collect()))
            .collect())
    }
}

/// The GPG keys of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GpgKeysOf(pub i32);

impl Loader<GpgKeysOf> for DbLoader {
    type Value = Vec<entity::gpg_key::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[GpgKeysOf]) -> Result<HashMap<GpgKeysOf, Self::Value>, Self::Error> {
        let rows = owned::of_users::<entity::gpg_key::Entity>(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, rows, |r| GpgKeysOf(r.user_id)))
    }
}

/// The custom attributes of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CustomAttributesOf(pub i32);

impl Loader<CustomAttributesOf> for DbLoader {
    type Value = Vec<entity::custom_attribute::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[CustomAttributesOf]) -> Result<HashMap<CustomAttributesOf, Self::Value>, Self::Error> {
        let rows = crate::domain::children::custom_attributes_of(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, rows, |r| CustomAttributesOf(r.user_id)))
    }
}

/// One window of a user's followers or followees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FollowWindow {
    pub user: i32,
    pub side: Side,
    pub offset: u64,
    pub limit: u64,
}

impl Loader<FollowWindow> for DbLoader {
    type Value = Vec<UserRow>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[FollowWindow]) -> Result<HashMap<FollowWindow, Self::Value>, Self::Error> {
        // One statement for each window asked for (every parent of a page usually asks the same).
        let mut out: HashMap<FollowWindow, Vec<UserRow>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        let mut groups: HashMap<(Side, u64, u64), Vec<i32>> = HashMap::new();
        for k in keys {
            groups.entry((k.side, k.offset, k.limit)).or_default().push(k.user);
        }
        for ((side, offset, limit), users) in groups {
            let rows = follows::windows_of(&self.db, &users, side, Window { offset, limit })
                .await
                .map_err(Arc::new)?;
            for (user, row) in rows {
                if let Some(v) = out.get_mut(&FollowWindow {
                    user,
                    side,
                    offset,
                    limit,
                }) {
                    v.push(row);
                }
            }
        }
        Ok(out)
    }
}

/// How long a user's followers or followees list is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FollowLength {
    pub user: i32,
    pub side: Side,
}

impl Loader<FollowLength> for DbLoader {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[FollowLength]) -> Result<HashMap<FollowLength, Self::Value>, Self::Error> {
        let mut out: HashMap<FollowLength, u64> = keys.iter().map(|k| (*k, 0)).collect();
        for side in [Side::Followers, Side::Following] {
            let users: Vec<i32> = keys.iter().filter(|k| k.side == side).map(|k| k.user).collect();
            for (user, n) in follows::lengths_of(&self.db, &users, side).await.map_err(Arc::new)? {
                out.insert(FollowLength { user, side }, n);
            }
        }
        Ok(out)
    }
}

/// The standing status of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatusOf(pub i32);

impl Loader<StatusOf> for DbLoader {
    type Value = entity::user_status::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[StatusOf]) -> Result<HashMap<StatusOf, Self::Value>, Self::Error> {
        let rows = crate::domain::status::of_users(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|r| (StatusOf(r.user_id), r)).collect())
    }
}

/// A user by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserId(pub i32);

pub(crate) fn group<K, T>(keys: &[K], rows: Vec<T>, key_of: impl Fn(&T) -> K) -> HashMap<K, Vec<T>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut map: HashMap<K, Vec<T>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        if let Some(v) = map.get_mut(&key_of(&row)) {
            v.push(row);
        }
    }
    map
}

/// A batch loader's failure, as the fronts report it.
pub(crate) fn loader_error(e: Arc<DbErr>) -> AppError {
    if crate::error::is_unavailable(&e) || matches!(&*e, DbErr::Custom(m) if m == UNAVAILABLE) {
        return AppError::Unavailable;
    }
    AppError::Internal(anyhow::anyhow!("loader: {e}"))
}

/// How an [`AppError::Unavailable`] travels through a loader's error type.
const UNAVAILABLE: &str = "database unavailable";

fn ids<K: Copy>(keys: &[K], f: impl Fn(K) -> i32) -> Vec<i32> {
    keys.iter().map(|k| f(*k)).collect()
}

impl Loader<IdentitiesOf> for DbLoader {
    type Value = Vec<identity::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[IdentitiesOf]) -> Result<HashMap<IdentitiesOf, Self::Value>, Self::Error> {
        let rows = users::identities_of(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, rows, |r| IdentitiesOf(r.user_id)))
    }
}

impl Loader<KeysOf> for DbLoader {
    type Value = Vec<ssh_key::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[KeysOf]) -> Result<HashMap<KeysOf, Self::Value>, Self::Error> {
        let rows = owned::of_users::<ssh_key::Entity>(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, rows, |r| KeysOf(r.user_id)))
    }
}

impl Loader<EmailsOf> for DbLoader {
    type Value = Vec<email::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[EmailsOf]) -> Result<HashMap<EmailsOf, Self::Value>, Self::Error> {
        let rows = owned::of_users::<email::Entity>(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, rows, |r| EmailsOf(r.user_id)))
    }
}

impl Loader<UserId> for DbLoader {
    type Value = user::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, Self::Value>, Self::Error> {
        let rows = users::by_ids(&self.db, &ids(keys, |k| k.0)).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|u| (UserId(u.id), u)).collect())
    }
}

/// Tokens of one kind and state of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokensOf {
    pub user: i32,
    pub kind: Kind,
    pub state: StateFilter,
}

impl Loader<TokensOf> for DbLoader {
    type Value = Vec<token::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[TokensOf]) -> Result<HashMap<TokensOf, Self::Value>, Self::Error> {
        let mut out: HashMap<TokensOf, Vec<token::Model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
        let mut shapes: Vec<(Kind, StateFilter)> = keys.iter().map(|k| (k.kind, k.state)).collect();
        shapes.sort_by_key(|(k, s)| (*k as u8, *s as u8));
        shapes.dedup();
        for (kind, state) in shapes {
            let users: Vec<i32> = keys
                .iter()
                .filter(|k| k.kind == kind && k.state == state)
                .map(|k| k.user)
                .collect();
            for row in tokens::of_users(&self.db, &users, kind, state)
                .await
                .map_err(Arc::new)?
            {
                if let Some(v) = out.get_mut(&TokensOf {
                    user: row.user_id,
                    kind,
                    state,
                }) {
                    v.push(row);
                }
            }
        }
        Ok(out)
    }
}

/// One window of a user's filtered events.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventsOf {
    pub author: i32,
    pub filter: EventFilter,
    pub window: Window,
}

/// How many filtered events a user has.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventCountOf {
    pub author: i32,
    pub filter: EventFilter,
}

/// Keys grouped by everything but the author: one statement per distinct shape.
fn shapes<K, S: Clone + PartialEq>(keys: &[K], shape: impl Fn(&K) -> S) -> Vec<S> {
    let mut out: Vec<S> = Vec::new();
    for k in keys {
        let s = shape(k);
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn internal(e: AppError) -> Arc<DbErr> {
    match e {
        AppError::Internal(e) => Arc::new(DbErr::Custom(e.to_string())),
        AppError::Unavailable => Arc::new(DbErr::Custom(UNAVAILABLE.into())),
        other => Arc::new(DbErr::Custom(other.message())),
    }
}

impl Loader<EventsOf> for DbLoader {
    type Value = Vec<event::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[EventsOf]) -> Result<HashMap<EventsOf, Self::Value>, Self::Error> {
        let mut out: HashMap<EventsOf, Vec<event::Model>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (filter, window) in shapes(keys, |k| (k.filter.clone(), k.window)) {
            let authors: Vec<i32> = keys
                .iter()
                .filter(|k| k.filter == filter && k.window == window)
                .map(|k| k.author)
                .collect();
            let rows = events::list_for_authors(&self.db, &authors, &filter, window)
                .await
                .map_err(internal)?;
            for row in rows {
                let key = EventsOf {
                    author: row.author_id,
                    filter: filter.clone(),
                    window,
                };
                if let Some(v) = out.get_mut(&key) {
                    v.push(row);
                }
            }
        }
        Ok(out)
    }
}

impl Loader<EventCountOf> for DbLoader {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[EventCountOf]) -> Result<HashMap<EventCountOf, Self::Value>, Self::Error> {
        let mut out: HashMap<EventCountOf, u64> = keys.iter().map(|k| (k.clone(), 0)).collect();
        for filter in shapes(keys, |k| k.filter.clone()) {
            let authors: Vec<i32> = keys.iter().filter(|k| k.filter == filter).map(|k| k.author).collect();
            for (author, n) in events::count_for_authors(&self.db, &authors, &filter)
                .await
                .map_err(internal)?
            {
                out.insert(
                    EventCountOf {
                        author,
                        filter: filter.clone(),
                    },
                    n.max(0) as u64,
                );
            }
        }
        Ok(out)
    }
}
