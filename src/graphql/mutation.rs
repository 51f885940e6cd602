//! Root mutations. Each takes one `input` and returns a payload object, as GitLab's GraphQL API.

use async_graphql::{Context, ID, InputObject, MergedObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::ClientAddr;
use super::context::CtxExt;
use super::declared::{CreateUserInput, CustomAttribute, UpdateUserInput, UserStatus};
use super::inputs::parse_user_id;
use super::types::user::User;
use crate::domain::custom_attributes;
use crate::domain::fields::UserRow;
use crate::domain::follows;
use crate::domain::sessions::{self, SignIn};
use crate::domain::status::{self, StatusInput};
use crate::domain::users::{self, UserRef};

/// What can be changed.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(
    UserMutation,
    SessionMutation,
    super::account::AccountMutation,
    super::mail::MailMutation,
);

/// Names a user by id.
#[derive(InputObject)]
pub struct UserIdInput {
    /// The user's id.
    pub id: ID,
}

/// Result of `createUser`.
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    /// The new user.
    pub user: User,
}

/// Result of `updateUser`.
#[derive(SimpleObject)]
pub struct UpdateUserPayload {
    /// The user after the change.
    pub user: User,
}

/// Result of `deleteUser`.
#[derive(SimpleObject)]
pub struct DeleteUserPayload {
    /// The deleted user; null when there was no such user (deleting is idempotent).
    pub user: Option<User>,
}

/// An external identity to unlink from a user.
#[derive(InputObject)]
pub struct DeleteUserIdentityInput {
    /// The user's id.
    pub user_id: ID,
    /// The provider, e.g. `github`.
    pub provider: String,
}

/// Result of `deleteUserIdentity` and `disableTwoFactor`.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The user after the change.
    pub user: User,
}

/// A custom attribute to set on a user.
#[derive(InputObject)]
pub struct SetCustomAttributeInput {
    /// The user's id.
    pub user_id: ID,
    /// The key (at most 191 characters).
    pub key: String,
    /// The value (at most 255 characters).
    pub value: String,
}

/// A custom attribute to delete.
#[derive(InputObject)]
pub struct DeleteCustomAttributeInput {
    /// The user's id.
    pub user_id: ID,
    /// The key.
    pub key: String,
}

/// Result of `setCustomAttribute` and `deleteCustomAttribute`.
#[derive(SimpleObject)]
pub struct CustomAttributePayload {
    /// The attribute as set, or as it was before it was deleted.
    pub custom_attribute: CustomAttribute,
}

/// Result of `blockUser` and `unblockUser`.
#[derive(SimpleObject)]
pub struct UserStatePayload {
    /// The user after the change.
    pub user: User,
    /// Whether the state changed (false when it already was as asked).
    pub changed: bool,
}

/// A new account, made by the person it is for.
#[derive(InputObject)]
pub struct SignUpInput {
    /// Unique username.
    pub username: String,
    /// E-mail address (a confirmation link is mailed to it).
    pub email: String,
    /// Full name.
    pub name: String,
    /// Password (at least 8 characters).
    pub password: String,
}

/// Credentials for `signIn`.
#[derive(InputObject)]
pub struct SignInInput {
    /// Username or primary e-mail address.
    pub login: String,
    /// Password.
    pub password: String,
    /// A new password, required when the current one has expired.
    pub new_password: Option<String>,
}

/// Result of `signIn`.
#[derive(SimpleObject)]
pub struct SignInPayload {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The signed-in user.
    pub user: User,
}

#[derive(Default)]
pub struct UserMutation;

/// The caller's new status; every part left out is cleared, and nothing at all clears the status.
#[derive(InputObject)]
pub struct SetUserStatusInput {
    /// An emoji's name (GitLab's names, e.g. `coffee`); `speech_balloon` when a message is set
    /// without one.
    pub emoji: Option<String>,
    /// At most 100 characters.
    pub message: Option<String>,
    /// `not_set` (default) or `busy`.
    pub availability: Option<String>,
    /// Clears the status after `30_minutes`, `3_hours`, `8_hours`, `1_day`, `3_days`, `7_days` or
    /// `30_days`; never when left out.
    pub clear_status_after: Option<String>,
}

/// Result of `followUser` and `unfollowUser`.
#[derive(SimpleObject)]
pub struct FollowPayload {
    /// The user followed or unfollowed.
    pub user: User,
    /// Whether anything changed (false: it was so already, or the caller named themself).
    pub changed: bool,
}

/// Result of `setUserStatus`.
#[derive(SimpleObject)]
pub struct UserStatusPayload {
    /// The status; null when it was cleared.
    pub status: Option<UserStatus>,
}

#[Object]
impl UserMutation {
    /// Creates a user. Admin only.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let st = ctx.state()?;
        let u = users::create(st, ctx.viewer()?, input.0).await?;
        Ok(CreateUserPayload { user: User(u) })
    }

    /// Changes a user. Admin only.
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UpdateUserInput,
    ) -> Result<UpdateUserPayload> {
        let st = ctx.state()?;
        let id = parse_user_id("id", &input.id)?;
        let u = users::update(&st.db, &st.changes, ctx.viewer()?, &UserRef::Id(id), input.attrs.attrs).await?;
        Ok(UpdateUserPayload { user: User(u) })
    }

    /// Deletes a user with their identities, keys, e-mails, tokens and events. Admin only.
    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<DeleteUserPayload> {
        let st = ctx.state()?;
        let id = parse_user_id("id", &input.id)?;
        let u = users::delete(&st.db, &st.changes, ctx.viewer()?, &UserRef::Id(id)).await?;
        Ok(DeleteUserPayload { user: u.map(User) })
    }

    /// Blocks a user: they can no longer sign in or use their tokens. Admin only.
    async fn block_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserStatePayload> {
        let st = ctx.state()?;
        let id = parse_user_id("id", &input.id)?;
        let (changed, u) = users::block(&st.db, &st.changes, ctx.viewer()?, &UserRef::Id(id)).await?;
        Ok(UserStatePayload { user: User(u), changed })
    }

    /// Unlinks a user from an external authentication provider. Admin only; NOT_FOUND for a
    /// missing user or identity.
    async fn delete_user_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: DeleteUserIdentityInput,
    ) -> Result<UserPayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("userId", &input.user_id)?);
        let u = users::delete_identity(&st.db, &st.changes, ctx.viewer()?, &r, &input.provider).await?;
        Ok(UserPayload { user: User(u) })
    }

    /// Sets the caller's status (GitLab's `PUT /user/status`). Subscribers of `userChanged` hear
    /// of it (STATUS_CHANGED).
    async fn set_user_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: SetUserStatusInput,
    ) -> Result<UserStatusPayload> {
        let st = ctx.state()?;
        let new = StatusInput {
            emoji: input.emoji,
            message: input.message,
            availability: input.availability,
            clear_status_after: input.clear_status_after,
        };
        let row = status::set(&st.db, &st.changes, ctx.viewer()?, new, true).await?;
        Ok(UserStatusPayload {
            status: row.0.is_some().then(|| UserStatus::new(row)),
        })
    }

    /// Follows a user (at most 300). Following oneself changes nothing.
    async fn follow_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<FollowPayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let f = follows::follow(&st.db, ctx.viewer()?, &r).await?;
        Ok(FollowPayload {
            user: User(f.user),
            changed: f.changed,
        })
    }

    /// Stops following a user.
    async fn unfollow_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<FollowPayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let f = follows::unfollow(&st.db, ctx.viewer()?, &r).await?;
        Ok(FollowPayload {
            user: User(f.user),
            changed: f.changed,
        })
    }

    /// Turns a user's two-factor authentication off. Admin only; not for administrators;
    /// BAD_USER_INPUT when it is not on.
    async fn disable_two_factor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserPayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let u = users::disable_two_factor(&st.db, &st.changes, ctx.viewer()?, &r).await?;
        Ok(UserPayload { user: User(u) })
    }

    /// Sets a custom attribute of a user (creates it, or changes its value). Admin only.
    async fn set_custom_attribute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: SetCustomAttributeInput,
    ) -> Result<CustomAttributePayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("userId", &input.user_id)?);
        let a = custom_attributes::set(&st.db, ctx.viewer()?, &r, &input.key, Some(input.value)).await?;
        Ok(CustomAttributePayload {
            custom_attribute: CustomAttribute::new(a),
        })
    }

    /// Deletes a custom attribute of a user. Admin only; NOT_FOUND when there is none.
    async fn delete_custom_attribute(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: DeleteCustomAttributeInput,
    ) -> Result<CustomAttributePayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("userId", &input.user_id)?);
        let a = custom_attributes::delete(&st.db, ctx.viewer()?, &r, &input.key).await?;
        Ok(CustomAttributePayload {
            custom_attribute: CustomAttribute::new(a),
        })
    }

    /// Deactivates a dormant user (no activity in the last 90 days); signing in again reactivates
    /// them. `changed` is false when they already were. Admin only.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserStatePayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let (changed, u) = users::deactivate(&st.db, &st.changes, ctx.viewer()?, &r).await?;
        Ok(UserStatePayload { user: User(u), changed })
    }

    /// Activates a deactivated user. Admin only.
    async fn activate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserStatePayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let (changed, u) = users::activate(&st.db, &st.changes, ctx.viewer()?, &r).await?;
        Ok(UserStatePayload { user: User(u), changed })
    }

    /// Bans an active user. Admin only.
    async fn ban_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserStatePayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let (changed, u) = users::ban(&st.db, &st.changes, ctx.viewer()?, &r).await?;
        Ok(UserStatePayload { user: User(u), changed })
    }

    /// Lifts a user's ban. Admin only.
    async fn unban_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserStatePayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let (changed, u) = users::unban(&st.db, &st.changes, ctx.viewer()?, &r).await?;
        Ok(UserStatePayload { user: User(u), changed })
    }

    /// Approves a user who signed up and waits for approval: the account becomes active. Admin
    /// only; CONFLICT when the user is not pending approval.
    async fn approve_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserPayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let u = users::approve(&st.db, &st.changes, ctx.viewer()?, &r).await?;
        Ok(UserPayload { user: User(u) })
    }

    /// Rejects a user who signed up and waits for approval: the account is deleted and the person
    /// is told by mail. Admin only; CONFLICT when the user is not pending approval.
    async fn reject_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserPayload> {
        let st = ctx.state()?;
        let r = UserRef::Id(parse_user_id("id", &input.id)?);
        let u = users::reject(st, ctx.viewer()?, &r).await?;
        Ok(UserPayload { user: User(u) })
    }

    /// Unblocks a user. Admin only.
    async fn unblock_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: UserIdInput,
    ) -> Result<UserStatePayload> {
        let st = ctx.state()?;
        let id = parse_user_id("id", &input.id)?;
        let (changed, u) = users::unblock(&st.db, &st.changes, ctx.viewer()?, &UserRef::Id(id)).await?;
        Ok(UserStatePayload { user: User(u), changed })
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// Creates an account for oneself, when the server allows sign-up (FORBIDDEN otherwise). The
    /// address must be confirmed before signing in, and where the server says so an
    /// administrator must approve the account first (state `blocked_pending_approval`).
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: SignUpInput,
    ) -> Result<UserPayload> {
        let st = ctx.state()?;
        let client = ctx.data::<ClientAddr>().map(|c| c.0).unwrap_or(None);
        let attrs = users::UserAttrs {
            username: Some(input.username),
            email: Some(input.email),
            name: Some(input.name),
            password: Some(input.password),
            ..Default::default()
        };
        let u = users::sign_up(st, client, attrs).await?;
        Ok(UserPayload { user: User(u) })
    }

    /// Signs in with a username or e-mail and a password; returns a JWT.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: SignInInput,
    ) -> Result<SignInPayload> {
        let st = ctx.state()?;
        let client = ctx.data::<ClientAddr>().map(|c| c.0).unwrap_or(None);
        let s = sessions::sign_in(
            st,
            client,
            SignIn {
                login: input.login,
                password: input.password,
                new_password: input.new_password,
            },
        )
        .await?;
        let expires_at = DateTime::from_timestamp(s.expires_at, 0).unwrap_or_default();
        Ok(SignInPayload {
            token: s.token,
            expires_at,
            user: User(UserRow::full(s.user)),
        })
    }
}
