//! Batch loaders, created per request. They fetch by key only: authorization is applied by the
//! resolver after loading, never inside a batch. Keys with no rows get empty vectors.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entity::identity;
use sea_orm::{DatabaseConnection, DbErr};

use crate::domain::users;

pub struct DbLoader {
    pub db: DatabaseConnection,
}

/// The identities of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdentitiesOf(pub i32);

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

impl Loader<IdentitiesOf> for DbLoader {
    type Value = Vec<identity::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[IdentitiesOf],
    ) -> Result<HashMap<IdentitiesOf, Self::Value>, Self::Error> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let rows = users::identities_of(&self.db, &ids)
            .await
            .map_err(Arc::new)?;
        Ok(group(keys, rows, |r| IdentitiesOf(r.user_id)))
    }
}
