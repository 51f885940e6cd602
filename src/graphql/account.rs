//! Root fields for SSH keys, e-mails, tokens, events and activities.

use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::connection::{Counting, Relay, wants_total};
use super::context::CtxExt;
use super::declared::{AccessToken, Email, SshKey, UserActivity};
use super::inputs::{parse_id, parse_user_id};
use super::scalars::Date;
use super::types::account::{TokenFilterInput, TokenSort, TokenState};
use super::types::event::{EventAction, EventTargetType};
use super::types::gpg_key::GpgKey;
use super::types::user::Event;
use crate::domain::activities;
use crate::domain::emails::{self, NewEmail};
use crate::domain::events::{self, NewEvent};
use crate::domain::gpg_keys;
use crate::domain::owned;
use crate::domain::owner::Owner;
use crate::domain::owner::Target;
use crate::domain::ssh_keys::{self, NewKey};
use crate::domain::tokens::{self, Kind, NewToken, TokenFilter, Which};
use crate::domain::users::UserRef;
use crate::error::AppError;

fn target(user_id: &Option<ID>) -> Result<Target, AppError> {
    Ok(match user_id {
        Some(id) => Target::User(UserRef::Id(parse_user_id("userId", id)?)),
        None => Target::Me,
    })
}

/// A token named by id, or the calling token when none is named.
fn which(id: &Option<ID>) -> Result<Which, AppError> {
    Ok(match id {
        Some(id) => Which::Id(parse_id("id", id)?),
        None => Which::Current,
    })
}

/// One page of an owner's tokens of one kind.
async fn token_list(
    ctx: &Context<'_>,
    owner: Owner,
    kind: Kind,
    filter: TokenFilter,
    relay: Relay,
) -> Result<Counting<AccessToken>> {
    let st = ctx.state()?;
    let listed = tokens::list(
        &st.db,
        &st.keys,
        owner,
        kind,
        filter,
        relay.request()?,
        wants_total(ctx),
    )
    .await?;
    Ok(relay.page(listed.map(AccessToken::new)))
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// One SSH key, for its owner or an admin; null otherwise.
    async fn ssh_key(&self, ctx: &Context<'_>, #[graphql(desc = "The key's id.")] id: ID) -> Result<Option<SshKey>> {
        let id = parse_id("id", &id)?;
        match owned::find::<entity::ssh_key::Entity>(&ctx.state()?.db, ctx.viewer()?, id).await {
            Ok(k) => Ok(Some(SshKey::new(k))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The SSH key with this fingerprint, MD5 (`aa:bb:...`) or SHA256 (`SHA256:<base64>`), of any
    /// user; null when none is registered. Admin only.
    async fn ssh_key_by_fingerprint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's fingerprint.")] fingerprint: String,
    ) -> Result<Option<SshKey>> {
        match ssh_keys::find_by_fingerprint(&ctx.state()?.db, ctx.viewer()?, &fingerprint).await {
            Ok((k, _)) => Ok(Some(SshKey::new(k))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// One secondary e-mail, for its owner or an admin; null otherwise.
    async fn email(&self, ctx: &Context<'_>, #[graphql(desc = "The address's id.")] id: ID) -> Result<Option<Email>> {
        let id = parse_id("id", &id)?;
        match owned::find::<entity::email::Entity>(&ctx.state()?.db, ctx.viewer()?, id).await {
            Ok(e) => Ok(Some(Email::new(e))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A user's impersonation tokens, with their values. Admin only.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn impersonation_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user\'s id.")] user_id: ID,
        #[graphql(desc = "Which tokens: all (default), active or inactive.")] state: Option<TokenState>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Counting<AccessToken>> {
        let st = ctx.state()?;
        let t = Target::User(UserRef::Id(parse_user_id("userId", &user_id)?));
        let owner = tokens::owner(&st.db, ctx.viewer()?, Kind::Impersonation, &t).await?;
        token_list(
            ctx,
            owner,
            Kind::Impersonation,
            TokenFilterInput::default().into_filter(state, None),
            Relay::new(ctx, first, after, last, before),
        )
        .await
    }

    /// One impersonation token of a user, with its value. Admin only.
    async fn impersonation_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] user_id: ID,
        #[graphql(desc = "The token's id.")] id: ID,
    ) -> Result<AccessToken> {
        let st = ctx.state()?;
        let t = Target::User(UserRef::Id(parse_user_id("userId", &user_id)?));
        let owner = tokens::owner(&st.db, ctx.viewer()?, Kind::Impersonation, &t).await?;
        let m = tokens::get(&st.db, &owner, Kind::Impersonation, parse_id("id", &id)?).await?;
        Ok(AccessToken::new(tokens::shown(&st.keys, m)))
    }

    /// Personal access tokens of the caller, or (admins) of `userId`. Values are not shown.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn personal_access_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Another user\'s id (admins only); the caller when omitted.")] user_id: Option<ID>,
        #[graphql(desc = "Which tokens: all (default), active or inactive.")] state: Option<TokenState>,
        #[graphql(desc = "More filters.")] filter: Option<TokenFilterInput>,
        #[graphql(desc = "Order (default: oldest id first).")] sort: Option<TokenSort>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Counting<AccessToken>> {
        let st = ctx.state()?;
        let owner = tokens::owner(&st.db, ctx.viewer()?, Kind::Personal, &target(&user_id)?).await?;
        token_list(
            ctx,
            owner,
            Kind::Personal,
            filter.unwrap_or_default().into_filter(state, sort),
            Relay::new(ctx, first, after, last, before),
        )
        .await
    }

    /// One personal access token (or an impersonation token, for admins): the caller's own, any
    /// for an admin; null otherwise. Without `id`, the token the request is signed with.
    async fn personal_access_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's id; the calling token when omitted.")] id: Option<ID>,
    ) -> Result<Option<AccessToken>> {
        let st = ctx.state()?;
        let which = which(&id)?;
        match tokens::find(&st.db, &st.keys, ctx.viewer()?, which).await {
            Ok(t) => Ok(Some(AccessToken::new(t))),
            Err(AppError::NotFound(_) | AppError::NotFoundMessage(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Users active since `from` (default: six months ago), oldest activity first. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn user_activities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day to include (default: six months ago).")] from: Option<Date>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Counting<UserActivity>> {
        let st = ctx.state()?;
        let relay = Relay::new(ctx, first, after, last, before);
        let listed = activities::list(
            &st.db,
            ctx.viewer()?,
            from.map(|d| d.0),
            relay.request()?,
            wants_total(ctx),
        )
        .await?;
        Ok(relay.page(listed.map(UserActivity::new)))
    }
}

/// A new SSH key.
#[derive(InputObject)]
pub struct AddSshKeyInput {
    /// Title of the key.
    pub title: String,
    /// The public key, one line in OpenSSH form.
    pub key: String,
    /// When the key stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Add the key for this user instead of the caller (admins only).
    pub user_id: Option<ID>,
}

/// An SSH key to delete.
#[derive(InputObject)]
pub struct DeleteSshKeyInput {
    /// The key's id.
    pub id: ID,
    /// The key's owner, when an admin deletes another user's key.
    pub user_id: Option<ID>,
}

/// Result of `addSshKey`.
#[derive(SimpleObject)]
pub struct AddSshKeyPayload {
    /// The new key.
    pub key: SshKey,
}

/// Result of `deleteSshKey`.
#[derive(SimpleObject)]
pub struct DeleteSshKeyPayload {
    /// The deleted key; null when the caller's own key was already gone.
    pub key: Option<SshKey>,
}

/// A new GPG key.
#[derive(InputObject)]
pub struct AddGpgKeyInput {
    /// The armored OpenPGP public key block (`-----BEGIN PGP PUBLIC KEY BLOCK-----` ...).
    pub key: String,
    /// Add the key for this user instead of the caller (admins only).
    pub user_id: Option<ID>,
}

/// A GPG key to delete.
#[derive(InputObject)]
pub struct DeleteGpgKeyInput {
    /// The key's id.
    pub id: ID,
    /// The key's owner, when an admin deletes another user's key.
    pub user_id: Option<ID>,
}

/// Result of `addGpgKey` and `deleteGpgKey`.
#[derive(SimpleObject)]
pub struct GpgKeyPayload {
    /// The key added or deleted.
    pub key: GpgKey,
}

impl From<entity::gpg_key::Model> for GpgKeyPayload {
    fn from(k: entity::gpg_key::Model) -> Self {
        GpgKeyPayload { key: GpgKey(k) }
    }
}

/// A new secondary e-mail.
#[derive(InputObject)]
pub struct AddEmailInput {
    /// The address.
    pub email: String,
    /// Add the address for this user instead of the caller (admins only).
    pub user_id: Option<ID>,
    /// Confirm the address at once (admins only).
    #[graphql(default)]
    pub skip_confirmation: bool,
}

/// A secondary e-mail to delete.
#[derive(InputObject)]
pub struct DeleteEmailInput {
    /// The address's id.
    pub id: ID,
    /// The owner, when an admin deletes another user's address.
    pub user_id: Option<ID>,
}

/// Result of `addEmail`.
#[derive(SimpleObject)]
pub struct AddEmailPayload {
    /// The new address.
    pub email: Email,
}

/// Result of `deleteEmail`.
#[derive(SimpleObject)]
pub struct DeleteEmailPayload {
    /// The deleted address; null when the caller's own address was already gone.
    pub email: Option<Email>,
}

/// A new impersonation token.
#[derive(InputObject)]
pub struct CreateImpersonationTokenInput {
    /// The user the token acts as.
    pub user_id: ID,
    /// Name of the token.
    pub name: String,
    /// The last day the token works.
    pub expires_at: Option<Date>,
    /// Scopes (GitLab's names: `api`, `read_api`, `read_user`, `self_rotate`, ...; `sudo` and
    /// `admin_mode` for admins' tokens).
    pub scopes: Vec<String>,
    /// What the token is for (at most 255 characters).
    pub description: Option<String>,
}

/// An impersonation token to revoke.
#[derive(InputObject)]
pub struct RevokeImpersonationTokenInput {
    /// The user the token acts as.
    pub user_id: ID,
    /// The token's id.
    pub id: ID,
}

/// A new personal access token.
#[derive(InputObject)]
pub struct CreatePersonalAccessTokenInput {
    /// Name of the token.
    pub name: String,
    /// Scopes (GitLab's names: `api`, `read_api`, `read_user`, `self_rotate`, ...; `sudo` and
    /// `admin_mode` for admins' tokens).
    pub scopes: Vec<String>,
    /// What the token is for (at most 255 characters).
    pub description: Option<String>,
    /// The last day the token works.
    pub expires_at: Option<Date>,
    /// Create the token for this user instead of the caller (admins only).
    pub user_id: Option<ID>,
}

/// A personal access token to revoke.
#[derive(InputObject)]
pub struct RevokePersonalAccessTokenInput {
    /// The token's id.
    pub id: ID,
    /// The token's owner, when an admin revokes another user's token.
    pub user_id: Option<ID>,
}

/// A personal access token to rotate.
#[derive(InputObject)]
pub struct RotatePersonalAccessTokenInput {
    /// The token's id (the caller's own, any for an admin); the calling token when omitted.
    pub id: Option<ID>,
    /// The last day the new token works (default: a week from today).
    pub expires_at: Option<Date>,
}

/// Result of the token mutations.
#[derive(SimpleObject)]
pub struct AccessTokenPayload {
    /// The token; at creation its `token` field holds the value, shown only now for personal
    /// access tokens.
    pub token: AccessToken,
}

/// An event to ingest from an external source.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// The author's id.
    pub author_id: ID,
    /// What the author did.
    pub action: EventAction,
    /// What kind of thing it was done to.
    pub target_type: Option<EventTargetType>,
    /// Id of the target.
    pub target_id: Option<i32>,
    /// Title of the target.
    pub target_title: Option<String>,
    /// The project it happened in.
    pub project_id: Option<i32>,
    /// A title.
    pub title: Option<String>,
    /// Push data and other details (a JSON object).
    pub data: Option<Json<Value>>,
    /// The note of a `commented` event (a JSON object).
    pub note: Option<Json<Value>>,
    /// When it happened (default: now; never in the future).
    pub created_at: Option<DateTime<Utc>>,
}

/// Result of `createEvent`.
#[derive(SimpleObject)]
pub struct CreateEventPayload {
    /// The stored event.
    pub event: Event,
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Adds an SSH key for the caller, or (admins) for `userId`.
    async fn add_ssh_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: AddSshKeyInput,
    ) -> Result<AddSshKeyPayload> {
        let st = ctx.state()?;
        let new = NewKey {
            title: Some(input.title),
            key: Some(input.key),
            expires_at: input.expires_at,
        };
        let k = ssh_keys::add(
            &st.db,
            ssh_keys::KeyRules::from_config(&st.cfg),
            ctx.viewer()?,
            &target(&input.user_id)?,
            new,
        )
        .await?;
        Ok(AddSshKeyPayload { key: SshKey::new(k) })
    }

    /// Deletes an SSH key. Deleting one's own key that is already gone is not an error; an admin
    /// naming `userId` gets NOT_FOUND for a missing user or key.
    async fn delete_ssh_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: DeleteSshKeyInput,
    ) -> Result<DeleteSshKeyPayload> {
        let st = ctx.state()?;
        let id = parse_id("id", &input.id)?;
        let k = owned::delete::<entity::ssh_key::Entity>(&st.db, ctx.viewer()?, &target(&input.user_id)?, id).await?;
        Ok(DeleteSshKeyPayload {
            key: k.map(SshKey::new),
        })
    }

    /// Adds a GPG key for the caller, or (admins) for `userId`. BAD_USER_INPUT for a block that is
    /// not one OpenPGP public key with a self-signed user id, or a key registered already.
    async fn add_gpg_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: AddGpgKeyInput,
    ) -> Result<GpgKeyPayload> {
        let st = ctx.state()?;
        let k = gpg_keys::add(&st.db, ctx.viewer()?, &target(&input.user_id)?, Some(input.key)).await?;
        Ok(GpgKeyPayload { key: GpgKey(k) })
    }

    /// Deletes a GPG key of the caller, or (admins) of `userId`; NOT_FOUND when there is none.
    async fn delete_gpg_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: DeleteGpgKeyInput,
    ) -> Result<GpgKeyPayload> {
        let st = ctx.state()?;
        let id = parse_id("id", &input.id)?;
        // A missing key is NOT_FOUND (the domain says so for this kind), so one was deleted.
        let k = owned::delete::<entity::gpg_key::Entity>(&st.db, ctx.viewer()?, &target(&input.user_id)?, id).await?;
        k.map(GpgKeyPayload::from)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a deleted GPG key went missing")).into())
    }

    /// Adds a secondary e-mail for the caller, or (admins) for `userId`.
    async fn add_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: AddEmailInput,
    ) -> Result<AddEmailPayload> {
        let st = ctx.state()?;
        let new = NewEmail {
            email: Some(input.email),
            skip_confirmation: input.skip_confirmation,
        };
        let e = emails::add(st, ctx.viewer()?, &target(&input.user_id)?, new).await?;
        Ok(AddEmailPayload { email: Email::new(e) })
    }

    /// Deletes a secondary e-mail, with the same rules as `deleteSshKey`.
    async fn delete_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: DeleteEmailInput,
    ) -> Result<DeleteEmailPayload> {
        let st = ctx.state()?;
        let id = parse_id("id", &input.id)?;
        let e = owned::delete::<entity::email::Entity>(&st.db, ctx.viewer()?, &target(&input.user_id)?, id).await?;
        Ok(DeleteEmailPayload {
            email: e.map(Email::new),
        })
    }

    /// Creates an impersonation token for a user. Admin only.
    async fn create_impersonation_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: CreateImpersonationTokenInput,
    ) -> Result<AccessTokenPayload> {
        let st = ctx.state()?;
        let t = Target::User(UserRef::Id(parse_user_id("userId", &input.user_id)?));
        let new = NewToken {
            name: Some(input.name),
            scopes: Some(input.scopes),
            expires_at: input.expires_at.map(|d| d.0),
            description: input.description,
        };
        let c = tokens::create(&st.db, &st.keys, ctx.viewer()?, Kind::Impersonation, &t, new).await?;
        Ok(AccessTokenPayload {
            token: AccessToken::new(c),
        })
    }

    /// Revokes an impersonation token (revoking again is fine). Admin only.
    async fn revoke_impersonation_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: RevokeImpersonationTokenInput,
    ) -> Result<AccessTokenPayload> {
        let st = ctx.state()?;
        let t = Target::User(UserRef::Id(parse_user_id("userId", &input.user_id)?));
        let owner = tokens::owner(&st.db, ctx.viewer()?, Kind::Impersonation, &t).await?;
        let m = tokens::revoke(&st.db, &owner, Kind::Impersonation, parse_id("id", &input.id)?).await?;
        Ok(AccessTokenPayload {
            token: AccessToken::new(tokens::shown(&st.keys, m)),
        })
    }

    /// Creates a personal access token for the caller, or (admins) for `userId`. The value is
    /// in the payload and never shown again.
    async fn create_personal_access_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: CreatePersonalAccessTokenInput,
    ) -> Result<AccessTokenPayload> {
        let st = ctx.state()?;
        let new = NewToken {
            name: Some(input.name),
            scopes: Some(input.scopes),
            expires_at: input.expires_at.map(|d| d.0),
            description: input.description,
        };
        let c = tokens::create(
            &st.db,
            &st.keys,
            ctx.viewer()?,
            Kind::Personal,
            &target(&input.user_id)?,
            new,
        )
        .await?;
        Ok(AccessTokenPayload {
            token: AccessToken::new(c),
        })
    }

    /// Revokes a personal access token of the caller, or (admins) of `userId`.
    async fn revoke_personal_access_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: RevokePersonalAccessTokenInput,
    ) -> Result<AccessTokenPayload> {
        let st = ctx.state()?;
        let owner = tokens::owner(&st.db, ctx.viewer()?, Kind::Personal, &target(&input.user_id)?).await?;
        let m = tokens::revoke(&st.db, &owner, Kind::Personal, parse_id("id", &input.id)?).await?;
        Ok(AccessTokenPayload {
            token: AccessToken::new(tokens::shown(&st.keys, m)),
        })
    }

    /// Rotates a personal access token: revokes it and answers its successor (same name, scopes
    /// and description) with the value, shown this once. A revoked token is BAD_USER_INPUT.
    async fn rotate_personal_access_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: RotatePersonalAccessTokenInput,
    ) -> Result<AccessTokenPayload> {
        let st = ctx.state()?;
        let which = which(&input.id)?;
        let t = tokens::rotate(&st.db, &st.keys, ctx.viewer()?, which, input.expires_at.map(|d| d.0)).await?;
        Ok(AccessTokenPayload {
            token: AccessToken::new(t),
        })
    }

    /// Ingests a contribution event from an external source. Admin only.
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: CreateEventInput,
    ) -> Result<CreateEventPayload> {
        let st = ctx.state()?;
        let new = NewEvent {
            author: Some(UserRef::Id(parse_user_id("authorId", &input.author_id)?)),
            action: Some(input.action.as_str().to_string()),
            target_type: input.target_type.map(|t| t.as_str().to_string()),
            target_id: input.target_id,
            target_title: input.target_title,
            project_id: input.project_id,
            title: input.title,
            data: input.data.map(|j| j.0),
            note: input.note.map(|j| j.0),
            created_at: input.created_at,
        };
        let e = events::create(&st.db, &st.changes, ctx.viewer()?, new).await?;
        Ok(CreateEventPayload { event: Event(e) })
    }
}
