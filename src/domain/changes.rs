//! The change bus: after a change commits, the domain tells every subscriber what changed.
//!
//! A [`Change`] names what changed by id, with the action; subscribers load fresh rows when they
//! deliver (see [`super::watch`]), so authorization reads current state and PostgreSQL's limit on
//! notification payloads never matters. The one exception is a deleted user: no row is left to
//! load, so [`Change::User`] carries the user as it was (the columns the declared fields read,
//! no secrets: `fields::snapshot`).
//!
//! - **PostgreSQL**: [`ChangeBus::publish`] runs `SELECT pg_notify('usergraph_changes', <json>)`,
//!   and every instance runs a listener task (`LISTEN usergraph_changes` on a connection of its
//!   pool) that forwards each notification into the instance's broadcast channel. A change made
//!   through any instance reaches the subscribers of every instance on the same database, the
//!   publishing one included (it hears its own notifications, so all instances see one order).
//! - **SQLite, MySQL/MariaDB**: publish goes straight into the broadcast channel; subscribers
//!   see the changes made through their own instance.
//!
//! Delivery is best effort and at most once: notifications sent while a listener reconnects are
//! lost, and a subscriber more than [`CAPACITY`] changes behind skips what it missed (logged).

use std::sync::Arc;
use std::time::Duration;

use entity::user;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "usergraph_changes";

/// How many changes a subscriber may fall behind before it skips some.
pub const CAPACITY: usize = 1024;

/// PostgreSQL refuses a notification payload of 8000 bytes or more.
const PAYLOAD_LIMIT: usize = 7999;

/// What happened to a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserAction {
    Created,
    Updated,
    Blocked,
    Unblocked,
    Deleted,
    Deactivated,
    Activated,
    Banned,
    Unbanned,
    Approved,
    /// The user's status was set or cleared.
    StatusChanged,
}

/// One committed change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    User {
        id: i32,
        action: UserAction,
        /// For [`UserAction::Deleted`]: the user as it was. `None` when it would not fit in a
        /// PostgreSQL notification (never for values the API accepts, in practice).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        was: Option<Map<String, Json>>,
    },
    Event {
        id: i32,
        author_id: i32,
    },
}

impl Change {
    pub fn user(id: i32, action: UserAction) -> Self {
        Change::User { id, action, was: None }
    }

    pub fn user_deleted(u: &user::Model) -> Self {
        Change::User {
            id: u.id,
            action: UserAction::Deleted,
            was: Some(super::fields::snapshot(u)),
        }
    }

    /// The JSON sent as a notification payload, short enough for PostgreSQL: a snapshot that
    /// would not fit is left out.
    fn payload(&mut self) -> Option<String> {
        let json = serde_json::to_string(self).ok()?;
        if json.len() <= PAYLOAD_LIMIT {
            return Some(json);
        }
        if let Change::User { id, was, .. } = self {
            tracing::warn!(
                user_id = *id,
                bytes = json.len(),
                "change too large to notify: the deleted user's snapshot is left out"
            );
            *was = None;
        }
        serde_json::to_string(self).ok().filter(|j| j.len() <= PAYLOAD_LIMIT)
    }
}

struct Inner {
    tx: broadcast::Sender<Change>,
    via_postgres: bool,
    listener: Option<AbortHandle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(l) = &self.listener {
            l.abort();
        }
    }
}

/// The bus of one instance; cheap to clone. The PostgreSQL listener stops with the last clone.
#[derive(Clone)]
pub struct ChangeBus {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ChangeBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeBus")
            .field("via_postgres", &self.inner.via_postgres)
            .field("subscribers", &self.subscribers())
            .finish()
    }
}

impl ChangeBus {
    /// A bus that stays inside this process (SQLite, MySQL/MariaDB).
    pub fn in_process() -> Self {
        ChangeBus {
            inner: Arc::new(Inner {
                tx: broadcast::channel(CAPACITY).0,
                via_postgres: false,
                listener: None,
            }),
        }
    }

    /// The bus for `db`. On PostgreSQL it is listening when this returns, so every change
    /// committed afterwards, through any instance, reaches this instance's subscribers.
    pub async fn start(db: &DatabaseConnection) -> anyhow::Result<Self> {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Self::in_process());
        }
        use sea_orm::sqlx::postgres::PgListener;
        let mut listener = PgListener::connect_with(db.get_postgres_connection_pool()).await?;
        listener.listen(CHANNEL).await?;
        let tx = broadcast::channel(CAPACITY).0;
        let task = tokio::spawn(forward(listener, tx.clone()));
        Ok(ChangeBus {
            inner: Arc::new(Inner {
                tx,
                via_postgres: true,
                listener: Some(task.abort_handle()),
            }),
        })
    }

    /// A receiver of every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.tx.subscribe()
    }

    /// How many receivers are open (subscriptions being served by this instance).
    pub fn subscribers(&self) -> usize {
        self.inner.tx.receiver_count()
    }

    /// Tells subscribers about a committed change. Never fails the caller: the change is made
    /// whether or not anyone hears of it (a failure to notify is logged).
    pub async fn publish(&self, db: &impl ConnectionTrait, change: Change) {
        if self.inner.via_postgres {
            notify_postgres(db, change).await;
        } else {
            // An error only means that nobody is subscribed.
            let _ = self.inner.tx.send(change);
        }
    }
}

/// `pg_notify` on `db` (the pool, or a transaction: then it is sent when that commits).
async fn notify_postgres(db: &impl ConnectionTrait, mut change: Change) {
    let Some(payload) = change.payload() else {
        tracing::warn!(?change, "change not notified: it does not fit in a notification");
        return;
    };
    let stmt = Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    );
    if let Err(e) = db.execute_raw(stmt).await {
        tracing::warn!(error = %e, ?change, "pg_notify failed: subscribers miss this change");
    }
}

/// The listener task: notifications -> the broadcast channel, until the pool closes.
async fn forward(mut listener: sea_orm::sqlx::postgres::PgListener, tx: broadcast::Sender<Change>) {
    loop {
        match listener.recv().await {
            Ok(n) => match serde_json::from_str::<Change>(n.payload()) {
                Ok(change) => {
                    let _ = tx.send(change);
                }
                Err(e) => tracing::warn!(error = %e, payload = n.payload(), "unreadable change notification"),
            },
            Err(sea_orm::sqlx::Error::PoolClosed) => return,
            Err(e) => {
                // recv() reconnects by itself on the next call; don't spin while the server is away.
                tracing::warn!(error = %e, "change listener: PostgreSQL connection lost; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> user::Model {
        user::Model {
            password_hash: "$argon2id$secret".into(),
            auth_epoch: 3,
            ..crate::domain::fields::fixture(7)
        }
    }

    #[test]
    fn payloads_round_trip_without_secrets() {
        let mut c = Change::user_deleted(&model());
        let json = c.payload().unwrap();
        assert!(!json.contains("argon2"), "{json}");
        assert!(
            json.starts_with(r#"{"kind":"user","id":7,"action":"deleted","was":{"#),
            "{json}"
        );
        let back: Change = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);

        let mut e = Change::Event { id: 3, author_id: 7 };
        assert_eq!(e.payload().unwrap(), r#"{"kind":"event","id":3,"author_id":7}"#);
        let mut u = Change::user(7, UserAction::Blocked);
        assert_eq!(u.payload().unwrap(), r#"{"kind":"user","id":7,"action":"blocked"}"#);
    }

    #[test]
    fn an_oversized_snapshot_is_left_out() {
        use sea_orm::{Iterable, ModelTrait, Value};
        // Every text column at its longest, in four-byte characters.
        let mut m = model();
        for c in user::Column::iter() {
            if matches!(m.get(c), Value::String(_)) {
                m.set(c, Value::String(Some("\u{1F600}".repeat(255))));
            }
        }
        let mut c = Change::user_deleted(&m);
        let json = c.payload().unwrap();
        assert_eq!(json, r#"{"kind":"user","id":7,"action":"deleted"}"#);
    }

    #[tokio::test]
    async fn in_process_bus_delivers_to_every_receiver() {
        let bus = ChangeBus::in_process();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        assert_eq!(bus.subscribers(), 2);
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        bus.publish(&db, Change::user(1, UserAction::Created)).await;
        assert_eq!(a.recv().await.unwrap(), Change::user(1, UserAction::Created));
        assert_eq!(b.recv().await.unwrap(), Change::user(1, UserAction::Created));
    }
}
