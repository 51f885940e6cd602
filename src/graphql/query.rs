//! Root queries.

use async_graphql::{Context, ID, MergedObject, Object, Result};

use super::connection::{Counting, Relay, wants_total};
use super::context::CtxExt;
use super::fast::Prefetch;
use super::inputs::{SortDirection, UserOrderBy, UsersFilter, parse_user_id};
use super::types::user::User;

use crate::domain::fields::UserRow;
use crate::domain::users::{self, Read, UserFilter, UserRef};
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
            (Some(id), None) => UserRef::Id(parse_user_id("id", &id)?),
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
        #[graphql(desc = "Only these users: ids or GitLab's global ids (`gid://gitlab/User/42`), at most 100.")]
        ids: Option<Vec<ID>>,
        #[graphql(desc = "Only these usernames, in any case; at most 100.")] usernames: Option<Vec<String>>,
        #[graphql(desc = "Only administrators when true (applied for admins only); as `filter.admins`.")]
        admins: Option<bool>,
        #[graphql(desc = "As `filter.search`: a case-insensitive substring of the username or name.")] search: Option<
            String,
        >,
        #[graphql(default, desc = "What to order by (then by id).")] order_by: UserOrderBy,
        #[graphql(default, desc = "Ascending or descending.")] sort: SortDirection,
        #[graphql(desc = "Returns the first n users (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns users after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n users (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns users before this cursor.")] before: Option<String>,
    ) -> Result<Counting<User>> {
        let db = &ctx.state()?.db;
        let relay = Relay::new(ctx, first, after, last, before);
        let mut filter: UserFilter = filter.into();
        if let Some(ids) = ids {
            if ids.len() > 100 {
                return Err(AppError::field("ids", "must hold at most 100 ids").into());
            }
            filter.ids = Some(
                ids.iter()
                    .map(|id| parse_user_id("ids", id))
                    .collect::<Result<_, _>>()?,
            );
        }
        if let Some(names) = usernames {
            if names.len() > 100 {
                return Err(AppError::field("usernames", "must hold at most 100 usernames").into());
            }
            filter.usernames = Some(names);
        }
        if let Some(a) = admins {
            filter.admins = a;
        }
        if search.is_some() {
            filter.search = search;
        }
        let read = Read {
            columns: Prefetch::user_columns(ctx),
            identities: false,
            custom_attributes: false,
        };
        let listed = users::list(
            db,
            ctx.viewer()?,
            &filter,
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
