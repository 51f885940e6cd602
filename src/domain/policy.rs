//! Who may see and do what. One policy for both fronts: GraphQL field guards and REST view
//! selection ask these functions.

use super::shape::{Shape, Subject, Who};
use super::viewer::{Access, Credential, Viewer};
use crate::error::{AppError, AppResult};
use entity::user;

/// May the viewer see the private fields (email, identities, dates, limits, flags) of `user_id`?
pub fn can_read_private(viewer: &Viewer, user_id: i32) -> bool {
    viewer.user.as_ref().is_some_and(|u| u.admin || u.id == user_id)
}

/// May the viewer read the profile of `user` (GitLab's `read_user_profile`)? Anyone when it is
/// public; the user and administrators when it is private (or was not read).
pub fn can_read_profile(viewer: &Viewer, user: Subject) -> bool {
    user.private_profile == Some(false) || can_read_private(viewer, user.id)
}

/// May the viewer list who follows `user` and whom they follow? Signed-in callers (403 `Not
/// authorized!` otherwise) who may read the profile (a private one is `404 User Not Found`, as
/// if there were no such user).
pub fn may_list_follows(viewer: &Viewer, user: Subject) -> AppResult<()> {
    if viewer.user.is_none() {
        return Err(AppError::forbidden("Not authorized!"));
    }
    if !can_read_profile(viewer, user) {
        return Err(AppError::NotFound("User"));
    }
    Ok(())
}

/// Is the viewer shown how many follow `user`, how many they follow, and whether the viewer is
/// among them? When they may read the profile, and never on themselves.
pub fn sees_follow_counts(viewer: &Viewer, user: Subject) -> bool {
    can_read_profile(viewer, user) && viewer.user.as_ref().is_none_or(|u| u.id != user.id)
}

/// May the viewer read a field of `who` of a record owned by `owner` (see the declaration)?
pub fn may_read(viewer: &Viewer, who: Who, owner: impl Into<Subject>) -> bool {
    let owner = owner.into();
    let owner_id = owner.id;
    match who {
        Who::Public => true,
        Who::Profile => can_read_profile(viewer, owner),
        Who::Private => can_read_private(viewer, owner_id),
        Who::AdminFlag => can_read_admin_flag(viewer, owner_id),
        Who::PrivateToken => can_read_private_token(viewer, owner_id),
        Who::Admin => viewer.is_admin(),
    }
}

/// May the viewer see whether `user_id` is an admin? Admins always; users for themselves.
pub fn can_read_admin_flag(viewer: &Viewer, user_id: i32) -> bool {
    can_read_private(viewer, user_id)
}

/// May the viewer see the legacy private token of `user_id`? Admins (also through sudo, as
/// GitLab's `GET /user` shows it), and the user themself with a credential that can already do
/// everything the token can: never a read-only or an impersonation token, which would otherwise
/// trade up for full access.
pub fn can_read_private_token(viewer: &Viewer, user_id: i32) -> bool {
    let Some(u) = viewer.user.as_ref() else { return false };
    u.admin
        || viewer.sudo_by.is_some()
        || (u.id == user_id && viewer.scopes.api && viewer.credential != Credential::Impersonation)
}

/// Does the viewer get the admin representation of other users (every private field, in lists
/// too)? Admins only; everyone else gets the public shapes.
pub fn sees_admin_view(viewer: &Viewer) -> bool {
    viewer.is_admin()
}

/// Which of GitLab's representations of other users the viewer gets: admins the full one;
/// everyone else the single one for one user and the basic one in lists.
pub fn user_shape(viewer: &Viewer, one_user: bool) -> Shape {
    match (sees_admin_view(viewer), one_user) {
        (true, _) => Shape::Admin,
        (false, true) => Shape::Single,
        (false, false) => Shape::Basic,
    }
}

/// The representation of `user` a viewer gets: [`user_shape`], cut to the basic one (who the user
/// is, not their profile) when the user keeps a private profile the viewer may not read.
pub fn user_shape_of(viewer: &Viewer, one_user: bool, user: Subject) -> Shape {
    let shape = user_shape(viewer, one_user);
    match can_read_profile(viewer, user) {
        true => shape,
        false => shape.min(Shape::Basic),
    }
}

/// The representation of the viewer themself (`GET /user`): the full one, or the admin's one
/// for an admin.
pub fn own_shape(viewer: &Viewer) -> Shape {
    match sees_admin_view(viewer) {
        true => Shape::Admin,
        false => Shape::Full,
    }
}

/// May the viewer read a user's impersonation tokens? Admins only.
pub fn can_read_impersonation_tokens(viewer: &Viewer) -> bool {
    viewer.is_admin()
}

/// May the viewer add an address for someone and mark it confirmed at once? Admins only.
pub fn may_skip_confirmation(viewer: &Viewer) -> bool {
    viewer.is_admin()
}

/// May `user` act as someone else through sudo? Admins only (the credential needs the `sudo`
/// scope besides).
pub fn may_sudo(user: &user::Model) -> bool {
    user.admin
}

/// May `viewer` watch the changes of `subject` (a user id; `None` for every user)? Admins any
/// user and everyone; users themselves only.
pub fn may_watch(viewer: &Viewer, subject: Option<i32>) -> AppResult<()> {
    let me = viewer.user()?;
    viewer.check_access(Access::Read)?;
    match subject {
        _ if me.admin => Ok(()),
        Some(id) if id == me.id => Ok(()),
        Some(_) => Err(AppError::forbidden("Only administrators may watch other users")),
        None => Err(AppError::forbidden("Only administrators may watch every user")),
    }
}

/// May `viewer` read the tokens of `owner`: personal ones with the owner's private fields,
/// impersonation ones (whose values are shown) as an admin only.
pub fn can_read_tokens(viewer: &Viewer, owner: i32, impersonation: bool) -> bool {
    match impersonation {
        true => can_read_impersonation_tokens(viewer),
        false => can_read_private(viewer, owner),
    }
}

/// A signed-in admin, else 401 (anonymous) or 403.
pub fn require_admin(viewer: &Viewer) -> AppResult<&user::Model> {
    let u = viewer.user()?;
    if !u.admin {
        return Err(AppError::Forbidden(None));
    }
    Ok(u)
}
