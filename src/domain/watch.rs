//! Watching changes (the GraphQL subscriptions): who may watch what, and what a watcher is
//! given. Checked twice:
//!
//! - **when subscribing** ([`watch_users`], [`watch_events`]): a signed-in viewer whose credential
//!   may read (`api` or `read_user`); admins may watch any user, or every user when none is
//!   named; anyone else only themselves (FORBIDDEN otherwise).
//! - **before every delivered item** ([`Watcher::next_user`], [`Watcher::next_event`]): the
//!   subscription's credentials are authenticated again, exactly as a new request would be, and
//!   the rule above is applied to the result. A revoked or expired token, a JWT of a blocked user
//!   or of a changed password, a blocked or deleted viewer, or an admin who lost the flag ends the
//!   subscription with that error (UNAUTHENTICATED or FORBIDDEN) instead of the item.
//!
//! Items are read from the database when delivered, so they show current state: a user who no
//! longer exists by then is skipped (its DELETED change follows), and a deleted user is shown as
//! it was just before deletion.
//!
//! A watcher sees every change committed after it subscribed. On PostgreSQL it may also see a
//! few committed just before (their notifications were still on the way to this instance):
//! harmless, as every item shows current state, but a client must not assume that the first
//! item is newer than what it read before subscribing.

use entity::event;
use sea_orm::{ConnectionTrait, EntityTrait};
use tokio::sync::broadcast;

use super::changes::{Change, ChangeBus, UserAction};
use super::fields::UserRow;
use super::policy;
use super::users::{self, UserRef};
use crate::auth::Keys;
use crate::auth::extract::Credentials;
use crate::config::Config;
use crate::domain::viewer::Viewer;
use crate::error::AppResult;

/// One subscription: what it watches, and the credentials it was made with.
pub struct Watcher {
    rx: broadcast::Receiver<Change>,
    creds: Credentials,
    subject: Option<i32>,
}

/// A user change, ready to deliver.
#[derive(Debug)]
pub struct UserDelivery {
    pub action: UserAction,
    pub user_id: i32,
    /// The user now; for [`UserAction::Deleted`], as it was (`None` if that was not carried).
    pub user: Option<UserRow>,
}

/// Starts watching changes to `user_id` (every user when `None`). Subscribes at once: every
/// change committed after this returns is seen.
pub fn watch_users(bus: &ChangeBus, viewer: &Viewer, creds: Credentials, user_id: Option<i32>) -> AppResult<Watcher> {
    policy::may_watch(viewer, user_id)?;
    Ok(Watcher {
        rx: bus.subscribe(),
        creds,
        subject: user_id,
    })
}

/// Starts watching the events authored by `user_id` (every author when `None`).
pub fn watch_events(bus: &ChangeBus, viewer: &Viewer, creds: Credentials, user_id: Option<i32>) -> AppResult<Watcher> {
    watch_users(bus, viewer, creds, user_id)
}

impl Watcher {
    async fn recv(&mut self) -> Option<Change> {
        loop {
            match self.rx.recv().await {
                Ok(c) => return Some(c),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "a subscriber fell behind and skips changes");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn concerns(&self, user_id: i32) -> bool {
        self.subject.is_none_or(|s| s == user_id)
    }

    /// The credentials still name a viewer who may watch this subject.
    async fn recheck(&self, db: &impl ConnectionTrait, keys: &Keys, cfg: &Config) -> AppResult<()> {
        let viewer = crate::domain::caller::authenticate(db, keys, cfg, &self.creds).await?;
        policy::may_watch(&viewer, self.subject)
    }

    /// The next change to the watched user(s). `None` when the bus is gone; an error ends the
    /// subscription.
    pub async fn next_user(
        &mut self,
        db: &impl ConnectionTrait,
        keys: &Keys,
        cfg: &Config,
    ) -> Option<AppResult<UserDelivery>> {
        loop {
            let Change::User { id, action, was } = self.recv().await? else {
                continue;
            };
            if !self.concerns(id) {
                continue;
            }
            if let Err(e) = self.recheck(db, keys, cfg).await {
                return Some(Err(e));
            }
            let user = if action == UserAction::Deleted {
                was.as_ref().map(super::fields::from_snapshot)
            } else {
                match users::find_ref(db, &UserRef::Id(id)).await {
                    Ok(Some(u)) => Some(UserRow::full(u)),
                    Ok(None) => continue,
                    Err(e) => return Some(Err(e.into())),
                }
            };
            return Some(Ok(UserDelivery {
                action,
                user_id: id,
                user,
            }));
        }
    }

    /// The next event authored by the watched user(s).
    pub async fn next_event(
        &mut self,
        db: &impl ConnectionTrait,
        keys: &Keys,
        cfg: &Config,
    ) -> Option<AppResult<event::Model>> {
        loop {
            let Change::Event { id, author_id } = self.recv().await? else {
                continue;
            };
            if !self.concerns(author_id) {
                continue;
            }
            if let Err(e) = self.recheck(db, keys, cfg).await {
                return Some(Err(e));
            }
            match event::Entity::find_by_id(id).one(db).await {
                Ok(Some(e)) => return Some(Ok(e)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e.into())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::viewer::{Credential, Scopes};
    use crate::error::AppError;

    fn viewer(id: i32, admin: bool, scopes: Scopes) -> Viewer {
        let mut u = crate::domain::fields::fixture(id);
        u.admin = admin;
        Viewer {
            user: Some(Arc::new(u)),
            scopes,
            credential: Credential::Personal,
            sudo_by: None,
            token_id: None,
        }
    }

    #[test]
    fn who_may_watch_what() {
        let all = Scopes::all();
        let admin = viewer(1, true, all);
        let user = viewer(2, false, all);
        assert!(policy::may_watch(&admin, None).is_ok());
        assert!(policy::may_watch(&admin, Some(2)).is_ok());
        assert!(policy::may_watch(&user, Some(2)).is_ok());
        assert!(matches!(policy::may_watch(&user, Some(1)), Err(AppError::Forbidden(_))));
        assert!(matches!(policy::may_watch(&user, None), Err(AppError::Forbidden(_))));
        assert!(matches!(
            policy::may_watch(&Viewer::anonymous(), Some(2)),
            Err(AppError::Unauthorized)
        ));
        let sudo_only = viewer(
            2,
            false,
            Scopes {
                sudo: true,
                ..Default::default()
            },
        );
        assert!(matches!(
            policy::may_watch(&sudo_only, Some(2)),
            Err(AppError::InsufficientScope(_))
        ));
        let read_only = viewer(
            2,
            false,
            Scopes {
                read_user: true,
                ..Default::default()
            },
        );
        assert!(policy::may_watch(&read_only, Some(2)).is_ok());
    }
}
