//! Arguments and input objects shared by several fields: orders, filters, ids.

use async_graphql::{Enum, ID, InputObject};
use chrono::{DateTime, Utc};

use crate::domain::users::{SortDir, UserFilter, UserOrder};
use crate::error::AppError;

/// Fields to order users by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum UserOrderBy {
    #[default]
    /// By id (creation order).
    Id,
    /// By full name.
    Name,
    /// By username, case-insensitively.
    Username,
    /// By creation time.
    CreatedAt,
    /// By last change.
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
    /// Ascending.
    Asc,
    /// Descending.
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
    /// Only administrators when true (applied for admins only).
    #[graphql(default)]
    pub admins: bool,
    /// Only users with two-factor authentication on, or off (applied for admins only).
    pub two_factor: Option<TwoFactorFilter>,
    /// Only humans when true (every user is one: usergraph has no bots).
    #[graphql(default)]
    pub humans: bool,
    /// No humans when true (so no user).
    #[graphql(default)]
    pub exclude_humans: bool,
    /// No active users when true.
    #[graphql(default)]
    pub exclude_active: bool,
    /// No external users when true (applied for admins only).
    #[graphql(default)]
    pub exclude_external: bool,
    /// No project bots when true (there are none: usergraph has no bots).
    #[graphql(default)]
    pub without_project_bots: bool,
    /// Users showing this public address (exact, in any case).
    pub public_email: Option<String>,
    /// Only users with each of these custom attributes (applied for admins only).
    pub custom_attributes: Option<Vec<CustomAttributeInput>>,
}

/// A custom attribute's key and value.
#[derive(InputObject, Clone)]
pub struct CustomAttributeInput {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// Whether two-factor authentication is on.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TwoFactorFilter {
    /// On.
    Enabled,
    /// Off.
    Disabled,
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
            admins: f.admins,
            two_factor: f.two_factor.map(|t| t == TwoFactorFilter::Enabled),
            humans: f.humans,
            exclude_humans: f.exclude_humans,
            exclude_active: f.exclude_active,
            exclude_external: f.exclude_external,
            without_project_bots: f.without_project_bots,
            public_email: f.public_email,
            followers_of: None,
            followed_by: None,
            ids: None,
            usernames: None,
            custom_attributes: f
                .custom_attributes
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.key, a.value))
                .collect(),
        }
    }
}

/// A user's id: the number, or GitLab's global id `gid://gitlab/User/<number>`.
pub(crate) fn parse_user_id(field: &str, id: &ID) -> Result<i32, AppError> {
    match id.strip_prefix("gid://gitlab/User/") {
        Some(n) => parse_id(field, &ID(n.to_string())),
        None => parse_id(field, id),
    }
}

pub(crate) fn parse_id(field: &str, id: &ID) -> Result<i32, AppError> {
    id.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::field(field, "is not a valid id"))
}
