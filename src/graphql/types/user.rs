//! The `User` type: public fields for everyone, private fields behind the soft guard.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{event, identity, user};
use serde_json::Value;

use super::account::{AccessToken, Email, SshKey, TokenState};
use super::event::{EventAction, EventTargetType};
use crate::domain::events::{self, EventFilter};
use crate::domain::owner::Owner;
use crate::domain::tokens::{self, Kind};
use crate::domain::{policy, users};
use crate::graphql::connection::{Counting, Relay};
use crate::graphql::context::CtxExt;
use crate::graphql::guards;
use crate::graphql::inputs::SortDirection;
use crate::graphql::loaders::{
    DbLoader, EmailsOf, EventCountOf, EventsOf, IdentitiesOf, KeysOf, TokensOf, UserId, loader_error,
};
use crate::graphql::scalars::Date;

/// The state of a user account.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "snake_case")]
pub enum UserState {
    /// The user can sign in and use the API.
    Active,
    /// Blocked by an administrator.
    Blocked,
    /// Blocked by LDAP synchronisation; the API cannot change it.
    LdapBlocked,
}

impl UserState {
    pub fn from_db(s: &str) -> Self {
        match s {
            "blocked" => UserState::Blocked,
            "ldap_blocked" => UserState::LdapBlocked,
            _ => UserState::Active,
        }
    }
}

/// A link between a user and an external authentication provider.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Identity {
    /// Name of the provider, e.g. `github`.
    pub provider: String,
    /// The user's id at the provider.
    pub extern_uid: String,
    #[graphql(skip)]
    pub created: DateTime<Utc>,
}

#[ComplexObject]
impl Identity {
    /// When the identity was linked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.created
    }
}

impl From<identity::Model> for Identity {
    fn from(m: identity::Model) -> Self {
        Identity {
            provider: m.provider,
            extern_uid: m.extern_uid,
            created: m.created_at,
        }
    }
}

/// A user account. Its output path (`graphql/fast.rs`) answers the common selections in one
/// synchronous pass and hands any other selection to [`UserObject`].
pub struct User(pub user::Model);

/// The `User` object as async-graphql derives it: each field resolved on its own.
pub struct UserObject<'a>(pub &'a user::Model);

/// A user account. Fields marked private read `null`, with a FORBIDDEN error, for anyone but the
/// user themself and administrators.
#[Object(name = "User")]
impl UserObject<'_> {
    /// The user's id, the same number the REST API uses.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Unique username.
    async fn username(&self) -> &str {
        &self.0.username
    }

    /// Full name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Account state.
    async fn state(&self) -> UserState {
        UserState::from_db(&self.0.state)
    }

    /// URL of the user's avatar image.
    async fn avatar_url(&self) -> String {
        users::avatar_url(self.0)
    }

    /// URL of the user's profile page.
    async fn web_url(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(users::web_url(&ctx.state()?.cfg.external_url(), self.0))
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Short biography.
    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }

    /// Location.
    async fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
    }

    /// Skype id.
    async fn skype(&self) -> &str {
        &self.0.skype
    }

    /// LinkedIn profile.
    async fn linkedin(&self) -> &str {
        &self.0.linkedin
    }

    /// Twitter account.
    async fn twitter(&self) -> &str {
        &self.0.twitter
    }

    /// Personal website.
    async fn website_url(&self) -> &str {
        &self.0.website_url
    }

    /// Organization.
    async fn organization(&self) -> &str {
        &self.0.organization
    }

    /// Primary e-mail address. Private.
    async fn email(&self, ctx: &Context<'_>) -> Option<String> {
        guards::private(ctx, self.0.id, || self.0.email.clone())
    }

    /// Whether the user is an administrator. Private.
    async fn is_admin(&self, ctx: &Context<'_>) -> Option<bool> {
        let allowed = ctx
            .viewer()
            .map(|v| policy::can_read_admin_flag(v, self.0.id))
            .unwrap_or(false);
        guards::allow_or_forbid(ctx, allowed).then_some(self.0.admin)
    }

    /// When the user last signed in before the current session. Private.
    async fn last_sign_in_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        guards::private(ctx, self.0.id, || self.0.last_sign_in_at).flatten()
    }

    /// When the user signed in most recently. Private.
    async fn current_sign_in_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        guards::private(ctx, self.0.id, || self.0.current_sign_in_at).flatten()
    }

    /// When the primary address was confirmed; null while unconfirmed. Private.
    async fn confirmed_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        guards::private(ctx, self.0.id, || self.0.confirmed_at).flatten()
    }

    /// The last day the user was active. Private.
    async fn last_activity_on(&self, ctx: &Context<'_>) -> Option<Date> {
        guards::private(ctx, self.0.id, || self.0.last_activity_on.map(Date)).flatten()
    }

    /// When the password stops working and must be changed at sign-in. Private.
    async fn password_expires_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        guards::private(ctx, self.0.id, || self.0.password_expires_at).flatten()
    }

    /// Colour scheme of the user's UI. Private.
    async fn color_scheme_id(&self, ctx: &Context<'_>) -> Option<i32> {
        guards::private(ctx, self.0.id, || self.0.color_scheme_id)
    }

    /// How many projects the user may create. Private.
    async fn projects_limit(&self, ctx: &Context<'_>) -> Option<i32> {
        guards::private(ctx, self.0.id, || self.0.projects_limit)
    }

    /// Whether the user may create groups. Private.
    async fn can_create_group(&self, ctx: &Context<'_>) -> Option<bool> {
        guards::private(ctx, self.0.id, || self.0.can_create_group)
    }

    /// Whether the user may create projects. Private.
    async fn can_create_project(&self, ctx: &Context<'_>) -> Option<bool> {
        guards::private(ctx, self.0.id, || self.0.projects_limit > 0)
    }

    /// Whether two-factor authentication is on. Private.
    async fn two_factor_enabled(&self, ctx: &Context<'_>) -> Option<bool> {
        guards::private(ctx, self.0.id, || self.0.two_factor_enabled)
    }

    /// Whether the user is external (sees only what they are given). Private.
    async fn external(&self, ctx: &Context<'_>) -> Option<bool> {
        guards::private(ctx, self.0.id, || self.0.external)
    }

    /// Links to external authentication providers. Private.
    async fn identities(&self, ctx: &Context<'_>) -> Result<Option<Vec<Identity>>> {
        if guards::private(ctx, self.0.id, || ()).is_none() {
            return Ok(None);
        }
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        let rows = loader.load_one(IdentitiesOf(self.0.id)).await?.unwrap_or_default();
        Ok(Some(rows.into_iter().map(Identity::from).collect()))
    }

    /// The user's legacy private token. Private.
    async fn private_token(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let allowed = ctx
            .viewer()
            .map(|v| policy::can_read_private_token(v, self.0.id))
            .unwrap_or(false);
        if !guards::allow_or_forbid(ctx, allowed) {
            return Ok(None);
        }
        let st = ctx.state()?;
        Ok(users::private_token(&st.db, &st.keys, self.0.id).await?)
    }

    /// The user's SSH keys, oldest first. Private.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Option<Counting<SshKey>>> {
        if guards::private(ctx, self.0.id, || ()).is_none() {
            return Ok(None);
        }
        let rows = ctx
            .data::<DataLoader<DbLoader>>()?
            .load_one(KeysOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(Some(
            Relay::new(ctx, first, after, last, before).slice(rows.into_iter().map(SshKey).collect())?,
        ))
    }

    /// The user's secondary e-mail addresses, oldest first. Private.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn emails(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Option<Counting<Email>>> {
        if guards::private(ctx, self.0.id, || ()).is_none() {
            return Ok(None);
        }
        let rows = ctx
            .data::<DataLoader<DbLoader>>()?
            .load_one(EmailsOf(self.0.id))
            .await?
            .unwrap_or_default();
        Ok(Some(
            Relay::new(ctx, first, after, last, before).slice(rows.into_iter().map(Email).collect())?,
        ))
    }

    /// The user's contribution events, newest first unless `sort: ASC`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events with this action.")] action: Option<EventAction>,
        #[graphql(desc = "Only events about this kind of target.")] target_type: Option<EventTargetType>,
        #[graphql(desc = "Only events before the start of this day.")] before_date: Option<Date>,
        #[graphql(desc = "Only events after the end of this day.")] after_date: Option<Date>,
        #[graphql(desc = "By creation time; newest first by default.")] sort: Option<SortDirection>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Counting<Event>> {
        let filter = EventFilter {
            action: action.map(|a| a.as_str().to_string()),
            target_type: target_type.map(|t| t.as_str().to_string()),
            before: before_date.map(|d| d.0),
            after: after_date.map(|d| d.0),
            sort: sort.unwrap_or(SortDirection::Desc).into(),
        };
        filter.check()?;
        let author = self.0.id;
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        let filter = &filter;
        let relay = Relay::new(ctx, first, after, last, before);
        Ok(relay
            .query(
                ctx,
                |window| async move {
                    let key = EventsOf {
                        author,
                        filter: filter.clone(),
                        window,
                    };
                    let rows = loader.load_one(key).await.map_err(loader_error)?.unwrap_or_default();
                    Ok(rows.into_iter().map(Event).collect())
                },
                || async move {
                    let key = EventCountOf {
                        author,
                        filter: filter.clone(),
                    };
                    Ok(loader.load_one(key).await.map_err(loader_error)?.unwrap_or_default())
                },
            )
            .await?)
    }

    /// The user's personal access tokens (values are never shown again). Private.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn personal_access_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which tokens: all (default), active or inactive.")] state: Option<TokenState>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Option<Counting<AccessToken>>> {
        self.tokens(ctx, Kind::Personal, state, Relay::new(ctx, first, after, last, before))
            .await
    }

    /// The user's impersonation tokens, with their values. Admin only.
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn impersonation_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which tokens: all (default), active or inactive.")] state: Option<TokenState>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Option<Counting<AccessToken>>> {
        self.tokens(
            ctx,
            Kind::Impersonation,
            state,
            Relay::new(ctx, first, after, last, before),
        )
        .await
    }
}

impl UserObject<'_> {
    /// A page of this user's tokens, loaded in one batch with every other user's on the page;
    /// null (and FORBIDDEN) when the viewer may not read them.
    async fn tokens(
        &self,
        ctx: &Context<'_>,
        kind: Kind,
        state: Option<TokenState>,
        relay: Relay,
    ) -> Result<Option<Counting<AccessToken>>> {
        let Some(owner) = guards::checked(ctx, tokens::owner_of_loaded(ctx.viewer()?, kind, self.0.id))? else {
            return Ok(None);
        };
        let key = TokensOf {
            user: owner.id(),
            kind,
            state: state.unwrap_or_default().into(),
        };
        let rows = ctx
            .data::<DataLoader<DbLoader>>()?
            .load_one(key)
            .await?
            .unwrap_or_default();
        Ok(Some(relay.slice(
            rows.into_iter().map(|m| AccessToken::listed(ctx, m)).collect(),
        )?))
    }
}

/// One page of an owner's tokens of one kind.
pub async fn token_list(
    ctx: &Context<'_>,
    owner: Owner,
    kind: Kind,
    state: Option<TokenState>,
    relay: Relay,
) -> Result<Counting<AccessToken>> {
    let db = &ctx.state()?.db;
    let state = state.unwrap_or_default().into();
    Ok(relay
        .query(
            ctx,
            |w| async move {
                Ok(tokens::list(db, &owner, kind, state, w)
                    .await?
                    .into_iter()
                    .map(|m| AccessToken::listed(ctx, m))
                    .collect())
            },
            || tokens::count(db, &owner, kind, state),
        )
        .await?)
}

/// A contribution event.
pub struct Event(pub event::Model);

/// A contribution event: something a user did, as ingested or recorded.
#[Object]
impl Event {
    /// The event's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Title, for events that have one.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// The project the event happened in.
    async fn project_id(&self) -> Option<i32> {
        self.0.project_id
    }
    /// The raw action: created, updated, closed, reopened, pushed, commented, merged, joined,
    /// left, destroyed or expired.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The action as GitLab words it, e.g. `pushed to`, `commented on`, `accepted`.
    async fn action_name(&self) -> &str {
        events::action_name(&self.0)
    }
    /// Id of the target.
    async fn target_id(&self) -> Option<i32> {
        self.0.target_id
    }
    /// Type of the target, e.g. `Issue`, `MergeRequest`, `Note`.
    async fn target_type(&self) -> Option<&str> {
        self.0.target_type.as_deref()
    }
    /// Title of the target.
    async fn target_title(&self) -> Option<&str> {
        self.0.target_title.as_deref()
    }
    /// The author's id.
    async fn author_id(&self) -> ID {
        ID(self.0.author_id.to_string())
    }
    /// The author.
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        Ok(loader.load_one(UserId(self.0.author_id)).await?.map(User))
    }
    /// The author's username.
    async fn author_username(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        Ok(loader.load_one(UserId(self.0.author_id)).await?.map(|u| u.username))
    }
    /// Push data and other details, as ingested.
    async fn data(&self) -> Option<Json<Value>> {
        self.0.data.clone().map(Json)
    }
    /// The note of a `commented` event.
    async fn note(&self) -> Option<Json<Value>> {
        self.0.note.clone().map(Json)
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
