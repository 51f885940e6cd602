//! Enums of the account lists (the record types are declared: `graphql/declared.rs`).

use async_graphql::Enum;

use crate::domain::tokens::StateFilter;

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
