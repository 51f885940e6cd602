//! Root queries.

use async_graphql::{Context, Enum, ID, InputObject, MergedObject, Object, Result};
use chrono::{DateTime, Utc};

use super::connection::{OffsetCursor, Relay};
use super::context::CtxExt;
use super::types::user::User;
use crate::auth::Viewer;
use crate::domain::users::{self, SortDir, UserFilter, UserOrder, UserRef};
use crate::error::AppError;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(UserQuery, super::account::AccountQuery);

/// Fields to order users by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum UserOrderBy {
    #[default]
    Id,
    Name,
    Username,
    CreatedAt,
    UpdatedAt,
}

impl From<UserOrderBy> for UserOrder {
    fn from(o: UserOrderBy) -> Self {
        match o {
            UserOrderBy::Id => UserOrder::Id,
            UserOrderBy::Name => UserOrder::Name,
            UserOrderBy::Username => UserOrder::Username,
            UserOrderBy::CreatedAt => UserOrder::CreatedAt,
            UserOrderBy::UpdatedAt => UserOrder::UpdatedAt,
        }
    }
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

impl From<SortDirection> for SortDir {
    fn from(s: SortDirection) -> Self {
        match s {
            SortDirection::Asc => SortDir::Asc,
            SortDirection::Desc => SortDir::Desc,
        }
    }
}

/// Filters of the users list; all given filters must match.
#[derive(InputObject, Default, Clone)]
pub struct UsersFilter {
    /// Case-insensitive substring of the username or name (and e-mail, for admins).
    pub search: Option<String>,
    /// Exact username, case-insensitive.
    pub username: Option<String>,
    /// Only active users when true.
    #[graphql(default)]
    pub active: bool,
    /// Only blocked users when true.
    #[graphql(default)]
    pub blocked: bool,
    /// Only external users when true (applied for admins only).
    #[graphql(default)]
    pub external: bool,
    /// Users linked to this external uid (admin only; needs `provider`).
    pub extern_uid: Option<String>,
    /// Provider of `externUid` (admin only).
    pub provider: Option<String>,
    /// Users created after this time (admins only).
    pub created_after: Option<DateTime<Utc>>,
    /// Users created before this time (admins only).
    pub created_before: Option<DateTime<Utc>>,
}

impl From<UsersFilter> for UserFilter {
    fn from(f: UsersFilter) -> Self {
        UserFilter {
            search: f.search,
            username: f.username,
            active: f.active,
            blocked: f.blocked,
            external: f.external,
            extern_uid: f.extern_uid,
            provider: f.provider,
            created_after: f.created_after,
            created_before: f.created_before,
        }
    }
}

/// Extra fields of the users connection.
pub struct UserConnectionFields {
    filter: UserFilter,
    viewer: Viewer,
    total: Option<u64>,
}

#[Object]
impl UserConnectionFields {
    /// Number of users matching the filters (counted only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        if let Some(t) = self.total {
            return Ok(t);
        }
        Ok(users::count(&ctx.state()?.db, &self.viewer, &self.filter).await?)
    }
}

pub type UserConnection = async_graphql::connection::Connection<OffsetCursor, User, UserConnectionFields>;

pub(crate) fn parse_id(field: &str, id: &ID) -> Result<i32, AppError> {
    id.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::field(field, "is not a valid id"))
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user; null for anonymous callers.
    async fn current_user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(ctx.viewer()?.user.as_deref().map(|u| User(u.clone())))
    }

    /// One user, by id or by username (exactly one of them); null when there is none.
    async fn user(&self, ctx: &Context<'_>, id: Option<ID>, username: Option<String>) -> Result<Option<User>> {
        let r = match (id, username) {
            (Some(id), None) => UserRef::Id(parse_id("id", &id)?),
            (None, Some(u)) => UserRef::Username(u),
            _ => {
                return Err(AppError::BadParams("Provide either a single username or id".into()).into());
            }
        };
        let st = ctx.state()?;
        match users::get(&st.db, ctx.viewer()?, &r).await {
            Ok(u) => Ok(Some(User(u))),
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
        #[graphql(default)] filter: UsersFilter,
        #[graphql(default)] order_by: UserOrderBy,
        #[graphql(default)] sort: SortDirection,
        #[graphql(desc = "Returns the first n users (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Returns users after this cursor.")] after: Option<String>,
        #[graphql(desc = "Returns the last n users (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Returns users before this cursor.")] before: Option<String>,
    ) -> Result<UserConnection> {
        let st = ctx.state()?;
        let viewer = ctx.viewer()?;
        let filter: UserFilter = filter.into();
        let relay = Relay::new(first, after, last, before);
        let total = if relay.needs_total() {
            Some(users::count(&st.db, viewer, &filter).await?)
        } else {
            None
        };
        let window = relay.window(total)?;
        let mut fetch = window;
        fetch.limit += 1;
        let rows = users::list(&st.db, viewer, &filter, order_by.into(), sort.into(), fetch).await?;
        let extra = UserConnectionFields {
            filter,
            viewer: viewer.clone(),
            total,
        };
        Ok(relay.connection(window, rows.into_iter().map(User).collect(), extra))
    }
}
