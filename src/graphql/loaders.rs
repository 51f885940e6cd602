//! Batch loaders, created per request. They fetch by key only: authorization is applied by the
//! resolver before loading, never inside a batch. Keys with no rows get empty vectors.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::{email, identity, ssh_key, user};
use sea_orm::{DatabaseConnection, DbErr};

use crate::domain::{emails, ssh_keys, users};

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

/// A user by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserId(pub i32);

fn group<K, T>(keys: &[K], rows: Vec<T>, key_of: impl Fn(&T) -> K) -> HashMap<K, Vec<T>>
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
        let rows = ssh_keys::of_users(&self.db, &ids(keys, |k| k.0))
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, rows, |r| KeysOf(r.user_id)))
    }
}

impl Loader<EmailsOf> for DbLoader {
    type Value = Vec<email::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[EmailsOf]) -> Result<HashMap<EmailsOf, Self::Value>, Self::Error> {
        let rows = emails::of_users(&self.db, &ids(keys, |k| k.0))
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
