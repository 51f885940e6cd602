//! Personal access tokens (users make them for themselves) and impersonation tokens (admins make
//! them to act as a user). Values are random with a prefix and stored as digests; impersonation
//! token values are also kept sealed, because the API shows them again on list and get.

use chrono::NaiveDate;
use entity::token;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::fields::ShownToken;
use super::owner::{Owner, Target};
use super::page::{Listed, Listing, PageRequest, Window};
use super::validate::Errors;
use super::{policy, time, users};
use crate::auth::{Keys, token as tok};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Personal,
    Impersonation,
}

impl Kind {
    fn db(self) -> &'static str {
        match self {
            Kind::Personal => "personal",
            Kind::Impersonation => "impersonation",
        }
    }

    fn not_found(self) -> AppError {
        match self {
            Kind::Personal => AppError::NotFound("Personal Access Token"),
            Kind::Impersonation => AppError::NotFound("Impersonation Token"),
        }
    }
}

/// `state` filter of the lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StateFilter {
    #[default]
    All,
    Active,
    Inactive,
}

impl StateFilter {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(StateFilter::All),
            "active" => Some(StateFilter::Active),
            "inactive" => Some(StateFilter::Inactive),
            _ => None,
        }
    }
}

pub struct NewToken {
    pub name: Option<String>,
    /// Must hold at least one scope (absent or empty: `scopes: can't be blank`).
    pub scopes: Option<Vec<String>>,
    pub expires_at: Option<NaiveDate>,
}

/// Who the token list or operation is about. Impersonation tokens are for admins only, checked
/// before the user is looked up (so a non-admin probing a missing user still gets 403).
pub async fn owner(db: &impl ConnectionTrait, viewer: &Viewer, kind: Kind, target: &Target) -> AppResult<Owner> {
    if kind == Kind::Impersonation {
        policy::require_admin(viewer)?;
    }
    Owner::resolve(db, viewer, target).await
}

/// The owner of a user's tokens already loaded (a nested list): 403 unless the viewer may read
/// this kind of token of theirs.
pub fn owner_of_loaded(viewer: &Viewer, kind: Kind, user_id: i32) -> AppResult<Owner> {
    match policy::can_read_tokens(viewer, user_id, kind == Kind::Impersonation) {
        true => Ok(Owner::checked(user_id)),
        false => Err(AppError::Forbidden(None)),
    }
}

fn of_kind(owner: &Owner, kind: Kind, state: StateFilter) -> Select<token::Entity> {
    of_kind_for(&[owner.id()], kind, state)
}

fn of_kind_for(users: &[i32], kind: Kind, state: StateFilter) -> Select<token::Entity> {
    let today = time::today();
    let q = token::Entity::find()
        .filter(token::Column::UserId.is_in(users.iter().copied()))
        .filter(token::Column::Kind.eq(kind.db()));
    let active = Condition::all().add(token::Column::Revoked.eq(false)).add(
        Condition::any()
            .add(token::Column::ExpiresAt.is_null())
            .add(token::Column::ExpiresAt.gte(today)),
    );
    match state {
        StateFilter::All => q,
        StateFilter::Active => q.filter(active),
        StateFilter::Inactive => q.filter(active.not()),
    }
}

/// The tokens of one kind and state of an owner, oldest first, with their values where the API
/// shows them.
pub struct TokenListing<'k> {
    owner: Owner,
    kind: Kind,
    state: StateFilter,
    keys: &'k Keys,
}

impl Listing for TokenListing<'_> {
    type Item = ShownToken;

    async fn count(&self, db: &DatabaseConnection, up_to: Option<u64>) -> AppResult<u64> {
        super::page::count(db, of_kind(&self.owner, self.kind, self.state), up_to).await
    }

    async fn fetch(&self, db: &DatabaseConnection, w: Window) -> AppResult<Vec<ShownToken>> {
        let rows = of_kind(&self.owner, self.kind, self.state)
            .order_by_asc(token::Column::Id)
            .offset(w.offset)
            .limit(w.limit)
            .all(db)
            .await?;
        Ok(rows.into_iter().map(|m| shown(self.keys, m)).collect())
    }
}

/// One page of an owner's tokens of one kind and state.
pub async fn list(
    db: &DatabaseConnection,
    keys: &Keys,
    owner: Owner,
    kind: Kind,
    state: StateFilter,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<ShownToken>> {
    let listing = TokenListing {
        owner,
        kind,
        state,
        keys,
    };
    super::page::list(db, &listing, page, total).await
}

/// Tokens of one kind and state for several users, oldest first, for loaders (authorization is
/// the caller's).
pub async fn of_users(
    db: &impl ConnectionTrait,
    users: &[i32],
    kind: Kind,
    state: StateFilter,
) -> Result<Vec<token::Model>, sea_orm::DbErr> {
    of_kind_for(users, kind, state)
        .order_by_asc(token::Column::Id)
        .all(db)
        .await
}

pub async fn get(db: &impl ConnectionTrait, owner: &Owner, kind: Kind, id: i32) -> AppResult<token::Model> {
    of_kind(owner, kind, StateFilter::All)
        .filter(token::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| kind.not_found())
}

/// A token with its value where the API may show it again (impersonation tokens), decrypted.
pub fn shown(keys: &Keys, model: token::Model) -> ShownToken {
    let value = match model.kind == Kind::Impersonation.db() {
        true => model.token_encrypted.as_deref().and_then(|s| keys.sealer.open(s)),
        false => None,
    };
    ShownToken { model, value }
}

/// Creates a token. Order: 401, missing name, 403, 404, 400 (scopes, name length).
pub async fn create(
    db: &impl ConnectionTrait,
    keys: &Keys,
    viewer: &Viewer,
    kind: Kind,
    target: &Target,
    input: NewToken,
) -> AppResult<ShownToken> {
    viewer.user()?;
    let Some(name) = input.name.filter(|n| !n.trim().is_empty()) else {
        return Err(AppError::missing(&["name"]));
    };
    let owner = owner(db, viewer, kind, target).await?;
    let owner_is_admin = users::find(db, &users::UserRef::Id(owner.id())).await?.admin;
    let allowed: &[&str] = match kind {
        Kind::Impersonation => &["api", "read_user"],
        Kind::Personal if owner_is_admin => &["api", "read_user", "sudo"],
        Kind::Personal => &["api", "read_user"],
    };
    let mut e = Errors::default();
    e.max_len("name", &name, 255);
    e.single_line("name", &name);
    let mut scopes: Vec<String> = Vec::new();
    for s in input
        .scopes
        .iter()
        .flatten()
        .flat_map(|s| s.split([',', ' ']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_string());
        }
    }
    if scopes.is_empty() {
        e.add("scopes", "can't be blank");
    } else if scopes.iter().any(|s| !allowed.contains(&s.as_str())) {
        e.add("scopes", "can only contain available scopes");
    }
    // A token works through its `expires_at` day: one whose day is past would never work.
    if input.expires_at.is_some_and(|d| d < time::today()) {
        e.add("expires_at", "must not be in the past");
    }
    e.into_result()?;
    let value = tok::generate(tok::PAT_PREFIX);
    let row = token::ActiveModel {
        user_id: Set(owner.id()),
        kind: Set(kind.db().into()),
        name: Set(name),
        token_digest: Set(tok::digest(&value)),
        token_encrypted: Set((kind == Kind::Impersonation).then(|| keys.sealer.seal(&value))),
        scopes: Set(scopes.join(" ")),
        expires_at: Set(input.expires_at),
        revoked: Set(false),
        last_used_at: Set(None),
        created_at: Set(time::now()),
        ..Default::default()
    };
    let model = super::retry_deadlocks(|| row.clone().insert(db)).await?;
    Ok(ShownToken {
        model,
        value: Some(value),
    })
}

/// Revokes a token (the row stays). Revoking again is fine.
pub async fn revoke(db: &impl ConnectionTrait, owner: &Owner, kind: Kind, id: i32) -> AppResult<token::Model> {
    let m = get(db, owner, kind, id).await?;
    if m.revoked {
        return Ok(m);
    }
    let mut am: token::ActiveModel = m.into();
    am.revoked = Set(true);
    Ok(am.update(db).await?)
}
