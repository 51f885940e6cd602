//! Whose keys, e-mails or tokens an operation is about, after the permission check. An [`Owner`]
//! can only be made by checking, so list and count functions that take one cannot be reached
//! without the check.

use sea_orm::ConnectionTrait;

use super::policy;
use super::users::{self, UserRef};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult};

/// The subject named by the request: the viewer (`/user/...`), or a given user (`/users/:id/...`,
/// or a GraphQL `userId`), which is for admins only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Me,
    User(UserRef),
}

impl Target {
    pub fn from_option(user: Option<UserRef>) -> Self {
        user.map(Target::User).unwrap_or(Target::Me)
    }
}

/// A user whose private lists the viewer may read and change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner(i32);

impl Owner {
    pub fn id(&self) -> i32 {
        self.0
    }

    /// 401 anonymous; the viewer named by id or username is themself; for another user 403
    /// unless admin, then 404 when there is no such user.
    pub async fn resolve(db: &impl ConnectionTrait, viewer: &Viewer, target: &Target) -> AppResult<Owner> {
        let me = viewer.user()?;
        match target {
            Target::Me => Ok(Owner(me.id)),
            Target::User(UserRef::Id(id)) if *id == me.id => Ok(Owner(me.id)),
            Target::User(UserRef::Username(name)) if name.eq_ignore_ascii_case(&me.username) => Ok(Owner(me.id)),
            Target::User(r) => {
                policy::require_admin(viewer)?;
                Ok(Owner(users::find(db, r).await?.id))
            }
        }
    }

    /// For a user already loaded whose lists the caller has checked the viewer may read.
    pub(super) fn checked(user_id: i32) -> Owner {
        Owner(user_id)
    }

    /// For a user already loaded: allowed when the viewer may read their private fields.
    pub fn of_loaded(viewer: &Viewer, user_id: i32) -> AppResult<Owner> {
        if policy::can_read_private(viewer, user_id) {
            Ok(Owner(user_id))
        } else {
            Err(AppError::Forbidden(None))
        }
    }
}
