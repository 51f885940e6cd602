//! Root queries.

use async_graphql::{Context, ID, MergedObject, Object, Result};

use super::connection::{Counting, Relay, wants_total};
use super::context::CtxExt;
use super::fast::Prefetch;
use super::inputs::{SortDirection, UserOrderBy, UsersFilter, parse_id};
use super::types::user::User;

use crate::domain::fields::UserRow;
use crate::domain::users::{self, Read, UserRef};
use crate::error::AppError;

/// What can be read.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(UserQuery, super::account::AccountQuery);

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user; null for anonymous callers.
    async fn current_user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(ctx.viewer()?.user.as_deref().map(|u| User(UserRow::full(u.clone()))))
    }

    /// One user, by id or by username (exactly one of them); null when there is none.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's id.")] id: Option<ID>,
        #[graphql(desc = "The user's username, in any case.")] username: Option<String>,
    ) -> Result<Option<User>> {
        let r = match (id, username) {
            (Some(id), None) => UserRef::Id(parse_id("id", &id)?),
            (None, Some(u)) => UserRef::Username(u),
            _ => {
                return Err(AppError::BadParams("Provide either a single username or id".into()).into());
            }
        };
        let st = ctx.state()?;
        match users::get(&st.db, ctx.viewer()?, &r).await {
            Ok(u) => {
                Prefetch::user(ctx, &u).await?;
                Ok(Some(User(u)))
            }
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Users, as a Relay connection. Anonymous callers must filter by username.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::graphql::connection::page_complexity(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default, desc = "Filters; all given ones must match.")] filter: UsersFilter,
        #[graphql(default, desc = "What to order by (then by id).")] order_by: UserOrderBy,
        #[graphql(default, desc = "Ascending or descending.")] sort: SortDirection,
        #[graphql(desc = "Returns the first n users (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns users after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n users (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns users before this cursor.")] before: Option<String>,
    ) -> Result<Counting<User>> {
        let db = &ctx.state()?.db;
        let relay = Relay::new(ctx, first, after, last, before);
        let read = Read {
            columns: Prefetch::user_columns(ctx),
            identities: false,
        };
        let listed = users::list(
            db,
            ctx.viewer()?,
            &filter.into(),
            order_by.into(),
            sort.into(),
            read,
            relay.request()?,
            wants_total(ctx),
        )
        .await?;
        Prefetch::users(ctx, &listed.items).await?;
        Ok(relay.page(listed.map(User)))
    }
}
