//! SSH keys, e-mails, access tokens and activity records.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{email, ssh_key, token, user};

use crate::domain::tokens::{self, StateFilter};
use crate::graphql::context::CtxExt;
use crate::graphql::scalars::Date;

/// An SSH public key.
pub struct SshKey(pub ssh_key::Model);

/// An SSH public key of a user.
#[Object]
impl SshKey {
    /// The key's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The owner's id.
    async fn user_id(&self) -> ID {
        ID(self.0.user_id.to_string())
    }
    /// Title of the key.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The public key in OpenSSH form: type, base64 body and comment.
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The key type, e.g. `ssh-ed25519`.
    async fn key_type(&self) -> &str {
        &self.0.key_type
    }
    /// Legacy MD5 fingerprint, colon-separated hex.
    async fn fingerprint(&self) -> &str {
        &self.0.fingerprint_md5
    }
    /// SHA256 fingerprint, `SHA256:<base64>`.
    async fn fingerprint_sha256(&self) -> &str {
        &self.0.fingerprint_sha256
    }
    /// When the key was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the key stops working; null when it does not expire.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
}

/// A secondary e-mail address.
pub struct Email(pub email::Model);

/// A secondary e-mail address of a user.
#[Object]
impl Email {
    /// The address's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The address.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// When the address was confirmed; null while unconfirmed.
    async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.0.confirmed_at
    }
    /// When the address was added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

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

/// A personal access token or an impersonation token.
pub struct AccessToken {
    pub model: token::Model,
    /// The token value, where the API shows it: at creation, and for impersonation tokens.
    pub value: Option<String>,
}

impl AccessToken {
    /// A listed token: impersonation tokens show their value, personal ones never again.
    pub fn listed(ctx: &Context<'_>, model: token::Model) -> Self {
        let value = ctx.state().ok().and_then(|st| tokens::shown_value(&st.keys, &model));
        AccessToken { model, value }
    }
}

/// A personal access token or an impersonation token. Its value is shown only where the API
/// promises it.
#[Object]
impl AccessToken {
    /// The token's id.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }
    /// The id of the user the token acts as.
    async fn user_id(&self) -> ID {
        ID(self.model.user_id.to_string())
    }
    /// Name of the token.
    async fn name(&self) -> &str {
        &self.model.name
    }
    /// Scopes: `api`, `read_user`, `sudo`.
    async fn scopes(&self) -> Vec<String> {
        tokens::scopes(&self.model)
    }
    /// Whether the token was revoked.
    async fn revoked(&self) -> bool {
        self.model.revoked
    }
    /// Neither revoked nor expired.
    async fn active(&self) -> bool {
        tokens::is_active(&self.model)
    }
    /// Whether this is an impersonation token.
    async fn impersonation(&self) -> bool {
        self.model.kind == "impersonation"
    }
    /// The last day the token works; null when it does not expire.
    async fn expires_at(&self) -> Option<Date> {
        self.model.expires_at.map(Date)
    }
    /// When the token was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
    /// When the token was last used (updated at most every ten minutes).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.model.last_used_at
    }
    /// The token value: shown when it is created, and for impersonation tokens on every read.
    async fn token(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

/// When a user was last active.
#[derive(SimpleObject)]
pub struct UserActivity {
    /// The user's username.
    pub username: String,
    /// The last day the user was active.
    pub last_activity_on: Option<Date>,
    /// Same as `lastActivityOn`.
    #[graphql(deprecation = "Use `lastActivityOn`.")]
    pub last_activity_at: Option<Date>,
}

impl From<user::Model> for UserActivity {
    fn from(u: user::Model) -> Self {
        UserActivity {
            username: u.username,
            last_activity_on: u.last_activity_on.map(Date),
            last_activity_at: u.last_activity_on.map(Date),
        }
    }
}
