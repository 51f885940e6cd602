//! The `User` type: the declared fields (`domain/fields.rs`, resolved by `graphql/declared.rs`)
//! and the relations below, which have selections and arguments of their own; the `Event` type
//! sits beside it, as each names the other.

use std::borrow::Cow;

use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::Field as FieldNode;
use async_graphql::registry::{MetaType, MetaTypeId, Registry};
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ID, Json, Object, OutputType, Positioned, Result, ServerResult, Value,
};
use chrono::{DateTime, Utc};
use entity::event;
use serde_json::Value as JsonValue;

use super::account::TokenState;
use super::event::{EventAction, EventTargetType};
use super::gpg_key::GpgKey;
use crate::domain::events::{self, EventFilter};
use crate::domain::fields::{self, StatusRow, UserRow};
use crate::domain::follows::Side;
use crate::domain::page::{Listed, Window};
use crate::domain::shape::{Env, Field, Who};
use crate::domain::tokens::{self, Kind};
use crate::domain::users;
use crate::graphql::connection::{Counting, Relay, wants_total};
use crate::graphql::context::CtxExt;
use crate::graphql::declared::{self, AccessToken, CustomAttribute, Email, Identity, SshKey, UserStatus};
use crate::graphql::guards;
use crate::graphql::inputs::SortDirection;
use crate::graphql::loaders::{
    CustomAttributesOf, DbLoader, EmailsOf, EventCountOf, EventsOf, FollowLength, FollowWindow, GpgKeysOf,
    IdentitiesOf, KeysOf, StatusOf, TokensOf, UserId, loader_error,
};
use crate::graphql::scalars::Date;

/// A user account. Its output path (`graphql/fast.rs`) answers the common selections in one
/// synchronous pass and hands any other selection to [`UserObject`].
pub struct User(pub UserRow);

/// The `User` object resolved field by field: declared fields from the row, relations by
/// [`UserLinks`].
pub struct UserObject<'a>(pub &'a UserRow);

const USER_DOC: &str = "A user account. Fields marked private read `null`, with a FORBIDDEN error, for anyone but the\nuser themself and administrators.";

impl OutputType for UserObject<'_> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("User")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Object, |registry| {
            let mut fields = declared::user_leaf_fields(registry);
            // The relations, registered apart (an unreachable type the schema drops) and merged
            // in, each described by the declaration where it declares the field.
            if let MetaType::Object { fields: links, .. } = registry.create_fake_output_type::<UserLinks>() {
                for (name, mut f) in links {
                    if let Some(d) = Field::by_graphql(fields::USER, &name) {
                        f.description = Some(d.doc.to_string());
                    }
                    fields.insert(name, f);
                }
            }
            declared::object_type("User", USER_DOC, fields, std::any::type_name::<Self>())
        })
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, _field: &Positioned<FieldNode>) -> ServerResult<Value> {
        async_graphql::resolver_utils::resolve_container(ctx, self).await
    }
}

impl ContainerType for UserObject<'_> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let name = ctx.item.node.name.node.as_str();
        if let Some(f) = Field::by_graphql(fields::USER, name).filter(|f| declared::is_leaf(f)) {
            let external_url = ctx.state().map(|s| s.cfg.external_url()).unwrap_or_default();
            let env = Env {
                external_url: &external_url,
            };
            return Ok(Some(declared::leaf_value(ctx, f, self.0, self.0.subject(), &env)));
        }
        UserLinks(self.0).resolve_field(ctx).await
    }
}

impl async_graphql::ObjectType for UserObject<'_> {}

/// Who may read the declared user field `name`.
fn who(name: &str) -> Who {
    Field::by_graphql(fields::USER, name).map_or(Who::Private, |f| f.who)
}

/// The relations of a user.
struct UserLinks<'a>(&'a UserRow);

#[Object(name = "UserLinks")]
impl UserLinks<'_> {
    // (Described by the declaration.)
    async fn identities(&self, ctx: &Context<'_>) -> Result<Option<Vec<Identity>>> {
        let id = self.0.id();
        if !guards::allow_or_forbid(ctx, declared::may_read(ctx, who("identities"), id)) {
            return Ok(None);
        }
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        let rows = loader.load_one(IdentitiesOf(id)).await?.unwrap_or_default();
        Ok(Some(rows.into_iter().map(Identity::new).collect()))
    }

    // (Described by the declaration.)
    async fn custom_attributes(&self, ctx: &Context<'_>) -> Result<Option<Vec<CustomAttribute>>> {
        let id = self.0.id();
        if !guards::allow_or_forbid(ctx, declared::may_read(ctx, who("customAttributes"), id)) {
            return Ok(None);
        }
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        let rows = loader.load_one(CustomAttributesOf(id)).await?.unwrap_or_default();
        Ok(Some(rows.into_iter().map(CustomAttribute::new).collect()))
    }

    /// The user's status; null when none is set or it has expired. Public.
    async fn status(&self, ctx: &Context<'_>) -> Result<Option<UserStatus>> {
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        let row = loader.load_one(StatusOf(self.0.id())).await?;
        Ok(row.map(|s| UserStatus::new(StatusRow(Some(s)))))
    }

    /// Who follows the user: active users, oldest id first. Signed-in callers who may read the
    /// profile (not private, or their own).
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn followers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Option<Counting<User>>> {
        self.follow_list(ctx, Side::Followers, Relay::new(ctx, first, after, last, before))
            .await
    }

    /// Whom the user follows: active users, oldest id first. Signed-in callers who may read the
    /// profile (not private, or their own).
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn following(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Option<Counting<User>>> {
        self.follow_list(ctx, Side::Following, Relay::new(ctx, first, after, last, before))
            .await
    }

    // (Described by the declaration.)
    async fn private_token(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let id = self.0.id();
        if !guards::allow_or_forbid(ctx, declared::may_read(ctx, who("privateToken"), id)) {
            return Ok(None);
        }
        let st = ctx.state()?;
        Ok(users::private_token(&st.db, &st.keys, id).await?)
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
        if guards::private(ctx, self.0.id(), || ()).is_none() {
            return Ok(None);
        }
        let rows = ctx
            .data::<DataLoader<DbLoader>>()?
            .load_one(KeysOf(self.0.id()))
            .await?
            .unwrap_or_default();
        Ok(Some(
            Relay::new(ctx, first, after, last, before).slice(rows.into_iter().map(SshKey::new).collect())?,
        ))
    }

    /// The user's GPG keys, oldest first. Public (as GitLab's).
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn gpg_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Returns the first n items (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns the items after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n items (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns the items before this cursor.")] before: Option<String>,
    ) -> Result<Counting<GpgKey>> {
        let rows = ctx
            .data::<DataLoader<DbLoader>>()?
            .load_one(GpgKeysOf(self.0.id()))
            .await?
            .unwrap_or_default();
        Ok(Relay::new(ctx, first, after, last, before).slice(rows.into_iter().map(GpgKey).collect())?)
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
        if guards::private(ctx, self.0.id(), || ()).is_none() {
            return Ok(None);
        }
        let rows = ctx
            .data::<DataLoader<DbLoader>>()?
            .load_one(EmailsOf(self.0.id()))
            .await?
            .unwrap_or_default();
        Ok(Some(
            Relay::new(ctx, first, after, last, before).slice(rows.into_iter().map(Email::new).collect())?,
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
        let author = self.0.id();
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

impl UserLinks<'_> {
    /// A page of this user's followers or followees, read in one batch with every other user's on
    /// the page; null (and FORBIDDEN) for an anonymous caller, as GitLab's lists.
    async fn follow_list(&self, ctx: &Context<'_>, side: Side, relay: Relay) -> Result<Option<Counting<User>>> {
        let allowed = crate::domain::policy::may_list_follows(ctx.viewer()?, self.0.subject()).is_ok();
        if !guards::allow_or_forbid(ctx, allowed) {
            return Ok(None);
        }
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        let request = relay.request()?;
        let user = self.0.id();
        let length = || async move {
            Ok::<_, async_graphql::Error>(loader.load_one(FollowLength { user, side }).await?.unwrap_or(0))
        };
        // One more than the page: it says whether more follow.
        let window = |w: Window| FollowWindow {
            user,
            side,
            offset: w.offset,
            limit: w.limit + 1,
        };
        // The window and the length are asked for together (one batch round for every user of
        // the page), unless the window can only be placed knowing the length (`last`).
        let (w, total, rows) = if request.needs_total() {
            let total = length().await?;
            let w = request.window(Some(total))?;
            (w, Some(total), loader.load_one(window(w)).await?)
        } else {
            let w = request.window(None)?;
            match wants_total(ctx) {
                true => {
                    let (total, rows) =
                        futures_util::future::try_join(length(), async { Ok(loader.load_one(window(w)).await?) })
                            .await?;
                    (w, Some(total), rows)
                }
                false => (w, None, loader.load_one(window(w)).await?),
            }
        };
        let rows = rows.unwrap_or_default();
        Ok(Some(relay.page(Listed::from_fetched(rows, w, total).map(User))))
    }

    /// A page of this user's tokens, loaded in one batch with every other user's on the page;
    /// null (and FORBIDDEN) when the viewer may not read them.
    async fn tokens(
        &self,
        ctx: &Context<'_>,
        kind: Kind,
        state: Option<TokenState>,
        relay: Relay,
    ) -> Result<Option<Counting<AccessToken>>> {
        let Some(owner) = guards::checked(ctx, tokens::owner_of_loaded(ctx.viewer()?, kind, self.0.id()))? else {
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
        let keys = &ctx.state()?.keys;
        Ok(Some(
            relay.slice(
                rows.into_iter()
                    .map(|m| AccessToken::new(tokens::shown(keys, m)))
                    .collect(),
            )?,
        ))
    }
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
        Ok(loader
            .load_one(UserId(self.0.author_id))
            .await?
            .map(|u| User(UserRow::full(u))))
    }
    /// The author's username.
    async fn author_username(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        Ok(loader.load_one(UserId(self.0.author_id)).await?.map(|u| u.username))
    }
    /// Push data and other details, as ingested.
    async fn data(&self) -> Option<Json<JsonValue>> {
        self.0.data.clone().map(Json)
    }
    /// The note of a `commented` event.
    async fn note(&self) -> Option<Json<JsonValue>> {
        self.0.note.clone().map(Json)
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
