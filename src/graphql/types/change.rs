//! What the subscriptions deliver.

use crate::domain::fields::UserRow;
use async_graphql::{Enum, ID, Object};

use super::user::User;
use crate::domain::changes::UserAction;

/// What happened to a user.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UserChangeAction {
    /// The user was created.
    Created,
    /// The user's attributes changed (`updateUser`, or `PUT /api/v4/users/:id`).
    Updated,
    /// The user was blocked.
    Blocked,
    /// The user was unblocked.
    Unblocked,
    /// The user was deleted, with their identities, keys, e-mails, tokens and events.
    Deleted,
    /// The user was deactivated (dormant).
    Deactivated,
    /// The user was activated again (by an administrator, or by signing in).
    Activated,
    /// The user was banned.
    Banned,
    /// The user's ban was lifted.
    Unbanned,
    /// The user's sign-up was approved.
    Approved,
    /// The user's status was set or cleared.
    StatusChanged,
}

impl From<UserAction> for UserChangeAction {
    fn from(a: UserAction) -> Self {
        match a {
            UserAction::Created => UserChangeAction::Created,
            UserAction::Updated => UserChangeAction::Updated,
            UserAction::Blocked => UserChangeAction::Blocked,
            UserAction::Unblocked => UserChangeAction::Unblocked,
            UserAction::Deleted => UserChangeAction::Deleted,
            UserAction::Deactivated => UserChangeAction::Deactivated,
            UserAction::Activated => UserChangeAction::Activated,
            UserAction::Banned => UserChangeAction::Banned,
            UserAction::Unbanned => UserChangeAction::Unbanned,
            UserAction::Approved => UserChangeAction::Approved,
            UserAction::StatusChanged => UserChangeAction::StatusChanged,
        }
    }
}

/// A change to a user, as `userChanged` delivers it.
pub struct UserChange {
    pub action: UserChangeAction,
    pub user_id: i32,
    pub user: Option<UserRow>,
}

/// A change to a user, as `userChanged` delivers it.
#[Object]
impl UserChange {
    /// What happened.
    async fn action(&self) -> UserChangeAction {
        self.action
    }

    /// The id of the user that changed (also when the user is gone).
    async fn user_id(&self) -> ID {
        ID(self.user_id.to_string())
    }

    /// The user as read when the change is delivered (so several quick changes may show the
    /// same, latest state). For DELETED, the user as it was just before the deletion; its keys,
    /// e-mails, tokens and events are gone with it. Null only when a deleted user's last state
    /// could not be carried between server instances.
    async fn user(&self) -> Option<User> {
        self.user.clone().map(User)
    }
}
