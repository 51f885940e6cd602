//! Root subscriptions, served over WebSocket at `/graphql/ws` (see [`super::ws`]). The rules —
//! who may watch what, what is checked before each item — are the domain's
//! ([`crate::domain::watch`]); this only turns its watchers into streams.

use async_graphql::{Context, ID, Result, Subscription as GraphQLSubscription};
use futures_util::Stream;

use super::context::CtxExt;
use super::inputs::parse_user_id;
use super::types::change::UserChange;
use super::types::user::Event;
use crate::auth::extract::Credentials;
use crate::domain::watch::{self, Watcher};
use crate::error::AppError;
use crate::state::AppState;

/// The credentials a WebSocket connection was opened with: every delivered item authenticates
/// them again.
#[derive(Clone, Debug, Default)]
pub struct SubscriberCredentials(pub Credentials);

/// What can be watched, over WebSocket at `/graphql/ws` (graphql-transport-ws or graphql-ws).
#[derive(Default)]
pub struct Subscription;

/// Items of one watcher until it ends; after an error, nothing more.
fn stream_of<T, F, Fut>(st: AppState, watcher: Watcher, next: F) -> impl Stream<Item = Result<T>>
where
    F: Fn(AppState, Watcher) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<(Result<T, AppError>, AppState, Watcher)>> + Send,
    T: Send,
{
    futures_util::stream::unfold(Some((st, watcher)), move |state| {
        let step = state.map(|(st, w)| next(st, w));
        async move {
            let (item, st, w) = step?.await?;
            match item {
                Ok(v) => Some((Ok(v), Some((st, w)))),
                Err(e) => Some((Err(e.into()), None)),
            }
        }
    })
}

fn watched(ctx: &Context<'_>, field: &str, id: Option<ID>) -> Result<(AppState, Credentials, Option<i32>)> {
    let st = ctx.state()?.clone();
    let creds = ctx
        .data_opt::<SubscriberCredentials>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let id = id.as_ref().map(|i| parse_user_id(field, i)).transpose()?;
    Ok((st, creds, id))
}

/// What can be watched, over WebSocket at `/graphql/ws` (graphql-transport-ws or graphql-ws):
/// send the token in the `connection_init` payload, e.g. `{"Authorization": "Bearer <token>"}`.
#[GraphQLSubscription]
impl Subscription {
    /// Each change to a user — created, updated, blocked, unblocked, deleted — once committed,
    /// through any server instance on PostgreSQL. Administrators may watch any user, or every
    /// user when `id` is omitted; other users only themselves (FORBIDDEN otherwise). The
    /// subscription's credentials are checked again before each change is delivered: when they no
    /// longer allow it (revoked token, blocked user, admin rights removed) the subscription ends
    /// with that error.
    async fn user_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user to watch; every user when omitted (administrators only).")] id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<UserChange>>> {
        let (st, creds, id) = watched(ctx, "id", id)?;
        let watcher = watch::watch_users(&st.changes, ctx.viewer()?, creds, id)?;
        Ok(stream_of(st, watcher, |st, mut w| async move {
            let item = w.next_user(&st.db, &st.keys, &st.cfg).await?;
            let item = item.map(|d| UserChange {
                action: d.action.into(),
                user_id: d.user_id,
                user: d.user,
            });
            Some((item, st, w))
        }))
    }

    /// Each contribution event of a user as it is created (`createEvent`), through any server
    /// instance on PostgreSQL. Administrators may watch any user, or every user when `userId` is
    /// omitted; other users only themselves. Checked again before each event, as `userChanged`.
    async fn user_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The author to watch; every author when omitted (administrators only).")] user_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<Event>>> {
        let (st, creds, id) = watched(ctx, "userId", user_id)?;
        let watcher = watch::watch_events(&st.changes, ctx.viewer()?, creds, id)?;
        Ok(stream_of(st, watcher, |st, mut w| async move {
            let item = w.next_event(&st.db, &st.keys, &st.cfg).await?;
            Some((item.map(Event), st, w))
        }))
    }
}
