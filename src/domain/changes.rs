//! The change bus: after a change commits, the domain tells every subscriber what changed.
//!
//! A [`Change`] names what changed by id, with the action; subscribers load fresh rows when they
//! deliver (see [`super::watch`]), so authorization reads current state and PostgreSQL's limit on
//! notification payloads never matters. The one exception is a deleted user: no row is left to
//! load, so [`Change::User`] carries the user as it was ([`UserSnapshot`], no secrets).
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

use chrono::{DateTime, NaiveDate, Utc};
use entity::user;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
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
        was: Option<Box<UserSnapshot>>,
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
            was: Some(Box::new(UserSnapshot::from(u))),
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

/// A deleted user as it was: every column the API shows, none of the secrets (password hash,
/// sign-in counters, the JWT epoch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSnapshot {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub name: String,
    pub state: String,
    pub admin: bool,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub skype: String,
    pub linkedin: String,
    pub twitter: String,
    pub website_url: String,
    pub organization: String,
    pub projects_limit: i32,
    pub can_create_group: bool,
    pub external: bool,
    pub two_factor_enabled: bool,
    pub color_scheme_id: i32,
    pub password_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub current_sign_in_at: Option<DateTime<Utc>>,
    pub last_activity_on: Option<NaiveDate>,
    pub created_by_id: Option<i32>,
}

impl From<&user::Model> for UserSnapshot {
    fn from(u: &user::Model) -> Self {
        UserSnapshot {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            state: u.state.clone(),
            admin: u.admin,
            bio: u.bio.clone(),
            location: u.location.clone(),
            skype: u.skype.clone(),
            linkedin: u.linkedin.clone(),
            twitter: u.twitter.clone(),
            website_url: u.website_url.clone(),
            organization: u.organization.clone(),
            projects_limit: u.projects_limit,
            can_create_group: u.can_create_group,
            external: u.external,
            two_factor_enabled: u.two_factor_enabled,
            color_scheme_id: u.color_scheme_id,
            password_expires_at: u.password_expires_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
            confirmed_at: u.confirmed_at,
            last_sign_in_at: u.last_sign_in_at,
            current_sign_in_at: u.current_sign_in_at,
            last_activity_on: u.last_activity_on,
            created_by_id: u.created_by_id,
        }
    }
}

impl UserSnapshot {
    /// The row as it was, with the secrets blank.
    pub fn into_model(self) -> user::Model {
        user::Model {
            id: self.id,
            username_canonical: self.username.to_lowercase(),
            username: self.username,
            email: self.email,
            name: self.name,
            state: self.state,
            password_hash: String::new(),
            admin: self.admin,
            bio: self.bio,
            location: self.location,
            skype: self.skype,
            linkedin: self.linkedin,
            twitter: self.twitter,
            website_url: self.website_url,
            organization: self.organization,
            projects_limit: self.projects_limit,
            can_create_group: self.can_create_group,
            external: self.external,
            two_factor_enabled: self.two_factor_enabled,
            color_scheme_id: self.color_scheme_id,
            auth_epoch: 0,
            failed_attempts: 0,
            locked_until: None,
            password_expires_at: self.password_expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            confirmed_at: self.confirmed_at,
            last_sign_in_at: self.last_sign_in_at,
            current_sign_in_at: self.current_sign_in_at,
            last_activity_on: self.last_activity_on,
            created_by_id: self.created_by_id,
        }
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
        let now = crate::domain::time::now();
        user::Model {
            username: "Jane".into(),
            username_canonical: "jane".into(),
            email: "jane@example.com".into(),
            name: "Jane Doe".into(),
            password_hash: "$argon2id$secret".into(),
            bio: Some("hi".into()),
            auth_epoch: 3,
            failed_attempts: 2,
            confirmed_at: Some(now),
            created_by_id: Some(1),
            ..crate::domain::fixtures::user(7)
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
        let Change::User { was: Some(was), .. } = back else {
            panic!("{json}")
        };
        let m = was.into_model();
        assert_eq!(
            (m.username.as_str(), m.password_hash.as_str(), m.auth_epoch),
            ("Jane", "", 0)
        );

        let mut e = Change::Event { id: 3, author_id: 7 };
        assert_eq!(e.payload().unwrap(), r#"{"kind":"event","id":3,"author_id":7}"#);
        let mut u = Change::user(7, UserAction::Blocked);
        assert_eq!(u.payload().unwrap(), r#"{"kind":"user","id":7,"action":"blocked"}"#);
    }

    #[test]
    fn an_oversized_snapshot_is_left_out() {
        let mut m = model();
        m.bio = Some("\u{1F600}".repeat(255));
        m.location = Some("\u{1F600}".repeat(255));
        m.organization = "\u{1F600}".repeat(255);
        m.website_url = "\u{1F600}".repeat(255);
        m.twitter = "\u{1F600}".repeat(255);
        m.linkedin = "\u{1F600}".repeat(255);
        m.skype = "\u{1F600}".repeat(255);
        m.name = "\u{1F600}".repeat(255);
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
