//! Enums of the account lists (the record types are declared: `graphql/declared.rs`).

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, Utc};

use crate::domain::tokens::{self, StateFilter};
use crate::graphql::scalars::Date;

/// Which tokens a list shows.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum TokenState {
    /// Every token.
    #[default]
    All,
    /// Tokens that are neither revoked nor expired.
    Active,
    /// Revoked or expired tokens.
    Inactive,
}

impl From<TokenState> for StateFilter {
    fn from(s: TokenState) -> Self {
        match s {
            TokenState::All => StateFilter::All,
            TokenState::Active => StateFilter::Active,
            TokenState::Inactive => StateFilter::Inactive,
        }
    }
}

/// Order of a token list.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum TokenSort {
    /// Oldest id first.
    #[default]
    IdAsc,
    /// Oldest first.
    CreatedAsc,
    /// Newest first.
    CreatedDesc,
    /// Soonest expiry first.
    ExpiresAsc,
    /// Latest expiry first.
    ExpiresDesc,
    /// Least recently used first.
    LastUsedAsc,
    /// Most recently used first.
    LastUsedDesc,
    /// By name, A to Z.
    NameAsc,
    /// By name, Z to A.
    NameDesc,
}

impl From<TokenSort> for tokens::TokenSort {
    fn from(s: TokenSort) -> Self {
        use tokens::TokenSort as T;
        match s {
            TokenSort::IdAsc => T::IdAsc,
            TokenSort::CreatedAsc => T::CreatedAsc,
            TokenSort::CreatedDesc => T::CreatedDesc,
            TokenSort::ExpiresAsc => T::ExpiresAsc,
            TokenSort::ExpiresDesc => T::ExpiresDesc,
            TokenSort::LastUsedAsc => T::LastUsedAsc,
            TokenSort::LastUsedDesc => T::LastUsedDesc,
            TokenSort::NameAsc => T::NameAsc,
            TokenSort::NameDesc => T::NameDesc,
        }
    }
}

/// Filters of a token list (GitLab's of `GET /personal_access_tokens`).
#[derive(InputObject, Default)]
pub struct TokenFilterInput {
    /// Only revoked (true) or only not revoked (false) tokens.
    pub revoked: Option<bool>,
    /// Part of the name, in any case.
    pub search: Option<String>,
    /// Created before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Created after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Last used at or before this time.
    pub last_used_before: Option<DateTime<Utc>>,
    /// Last used at or after this time.
    pub last_used_after: Option<DateTime<Utc>>,
    /// Expiring before this day.
    pub expires_before: Option<Date>,
    /// Expiring on this day or later.
    pub expires_after: Option<Date>,
}

impl TokenFilterInput {
    pub fn into_filter(self, state: Option<TokenState>, sort: Option<TokenSort>) -> tokens::TokenFilter {
        tokens::TokenFilter {
            state: state.unwrap_or_default().into(),
            revoked: self.revoked,
            search: self.search,
            created_before: self.created_before,
            created_after: self.created_after,
            last_used_before: self.last_used_before,
            last_used_after: self.last_used_after,
            expires_before: self.expires_before.map(|d| d.0),
            expires_after: self.expires_after.map(|d| d.0),
            sort: sort.unwrap_or_default().into(),
            ..Default::default()
        }
    }
}
