//! Personal access tokens (users make them for themselves) and impersonation tokens (admins make
//! them to act as a user). Values are random with a prefix and stored as digests; impersonation
//! token values are also kept sealed, because the API shows them again on list and get.

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::token;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};

use super::fields::ShownToken;
use super::owner::{Owner, Target};
use super::page::{Listed, Listing, PageRequest, Window};
use super::validate::Errors;
use super::{policy, time, users};
use crate::auth::extract::Credentials;
use crate::auth::{Keys, token as tok};
use crate::config::Config;
use crate::domain::viewer::{Access, Credential, Viewer};
use crate::error::{AppError, AppResult, TokenProblem};

/// The scopes GitLab names for a user's token. Those with a meaning here are enforced (`api`;
/// `read_api`: reads only; `read_user`: reads only; `self_rotate`: rotating itself and nothing
/// else); the others are accepted, shown, and grant nothing here.
pub const USER_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "create_runner",
    "manage_runner",
    "k8s_proxy",
    "self_rotate",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "read_observability",
    "write_observability",
    "ai_features",
];

/// Scopes only an admin's token may hold (`sudo` is enforced; `admin_mode` and
/// `read_service_ping` are accepted and grant nothing more here).
pub const ADMIN_SCOPES: &[&str] = &["sudo", "admin_mode", "read_service_ping"];

/// How many days a rotated token lives when no `expires_at` is given (GitLab's week).
pub const ROTATED_LIFETIME_DAYS: u64 = 7;

/// GitLab's words for a rotation of a token that is revoked already.
pub const ALREADY_REVOKED: &str = "400 Bad request - Token already revoked";

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
    pub description: Option<String>,
}

/// Order of a token search (GitLab's `sort` names; unknown names keep the default, as GitLab's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TokenSort {
    #[default]
    IdAsc,
    CreatedAsc,
    CreatedDesc,
    ExpiresAsc,
    ExpiresDesc,
    LastUsedAsc,
    LastUsedDesc,
    NameAsc,
    NameDesc,
}

impl TokenSort {
    pub fn parse(s: &str) -> Self {
        match s {
            "created_asc" | "created_at_asc" => TokenSort::CreatedAsc,
            "created_desc" | "created_at_desc" => TokenSort::CreatedDesc,
            "expires_asc" | "expires_at_asc" => TokenSort::ExpiresAsc,
            "expires_desc" | "expires_at_desc" => TokenSort::ExpiresDesc,
            "last_used_asc" | "last_used_at_asc" => TokenSort::LastUsedAsc,
            "last_used_desc" | "last_used_at_desc" => TokenSort::LastUsedDesc,
            "name_asc" => TokenSort::NameAsc,
            "name_desc" => TokenSort::NameDesc,
            _ => TokenSort::IdAsc,
        }
    }
}

/// What a token list shows: whose, which kind, and GitLab's filters of
/// `GET /personal_access_tokens`. The empty filter is every token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenFilter {
    pub user: Option<i32>,
    pub kind: Option<Kind>,
    pub state: StateFilter,
    pub revoked: Option<bool>,
    /// Part of the name, in any case.
    pub search: Option<String>,
    pub created_before: Option<DateTime<Utc>>,
    pub created_after: Option<DateTime<Utc>>,
    /// Inclusive, as GitLab's.
    pub last_used_before: Option<DateTime<Utc>>,
    pub last_used_after: Option<DateTime<Utc>>,
    /// Strictly before this day.
    pub expires_before: Option<NaiveDate>,
    /// On this day or later.
    pub expires_after: Option<NaiveDate>,
    pub sort: TokenSort,
}

impl TokenFilter {
    fn select(&self) -> Select<token::Entity> {
        use token::Column as C;
        let mut q = token::Entity::find();
        if let Some(u) = self.user {
            q = q.filter(C::UserId.eq(u));
        }
        if let Some(k) = self.kind {
            q = q.filter(C::Kind.eq(k.db()));
        } else {
            q = q.filter(C::Kind.is_in([Kind::Personal.db(), Kind::Impersonation.db()]));
        }
        q = q.filter(state_condition(self.state));
        if let Some(r) = self.revoked {
            q = q.filter(C::Revoked.eq(r));
        }
        if let Some(s) = self.search.as_deref().filter(|s| !s.is_empty()) {
            q = q.filter(Expr::expr(Func::lower(Expr::col(C::Name))).like(users::like_pattern(s)));
        }
        if let Some(t) = self.created_before {
            q = q.filter(C::CreatedAt.lt(t));
        }
        if let Some(t) = self.created_after {
            q = q.filter(C::CreatedAt.gt(t));
        }
        if let Some(t) = self.last_used_before {
            q = q.filter(C::LastUsedAt.lte(t));
        }
        if let Some(t) = self.last_used_after {
            q = q.filter(C::LastUsedAt.gte(t));
        }
        if let Some(d) = self.expires_before {
            q = q.filter(C::ExpiresAt.lt(d));
        }
        if let Some(d) = self.expires_after {
            q = q.filter(C::ExpiresAt.gte(d));
        }
        q
    }

    fn ordered(&self) -> Select<token::Entity> {
        use sea_orm::Order::{Asc, Desc};
        use token::Column as C;
        let q = self.select();
        let q = match self.sort {
            TokenSort::IdAsc => q,
            TokenSort::CreatedAsc => q.order_by(C::CreatedAt, Asc),
            TokenSort::CreatedDesc => q.order_by(C::CreatedAt, Desc),
            TokenSort::ExpiresAsc => q.order_by(C::ExpiresAt, Asc),
            TokenSort::ExpiresDesc => q.order_by(C::ExpiresAt, Desc),
            TokenSort::LastUsedAsc => q.order_by(C::LastUsedAt, Asc),
            TokenSort::LastUsedDesc => q.order_by(C::LastUsedAt, Desc),
            // In any case, the same on every backend (MariaDB's collation ignores case, the others'
            // here do not).
            TokenSort::NameAsc => q.order_by(Expr::expr(Func::lower(Expr::col(C::Name))), Asc),
            TokenSort::NameDesc => q.order_by(Expr::expr(Func::lower(Expr::col(C::Name))), Desc),
        };
        // The id breaks ties, so pages never overlap.
        q.order_by(
            C::Id,
            if matches!(self.sort, TokenSort::CreatedDesc) {
                Desc
            } else {
                Asc
            },
        )
    }
}

/// Neither revoked nor past its day / the opposite.
fn state_condition(state: StateFilter) -> Condition {
    let active = Condition::all().add(token::Column::Revoked.eq(false)).add(
        Condition::any()
            .add(token::Column::ExpiresAt.is_null())
            .add(token::Column::ExpiresAt.gte(time::today())),
    );
    match state {
        StateFilter::All => Condition::all(),
        StateFilter::Active => active,
        StateFilter::Inactive => active.not(),
    }
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
    token::Entity::find()
        .filter(token::Column::UserId.is_in(users.iter().copied()))
        .filter(token::Column::Kind.eq(kind.db()))
        .filter(state_condition(state))
}

/// The tokens a filter selects, with their values where the API shows them: the one listing of
/// tokens (a user's impersonation or personal tokens, and `GET /personal_access_tokens`).
pub struct TokenListing<'k> {
    filter: TokenFilter,
    keys: &'k Keys,
}

impl Listing for TokenListing<'_> {
    type Item = ShownToken;

    async fn count(&self, db: &DatabaseConnection, up_to: Option<u64>) -> AppResult<u64> {
        super::page::count(db, self.filter.select(), up_to).await
    }

    async fn fetch(&self, db: &DatabaseConnection, w: Window) -> AppResult<Vec<ShownToken>> {
        let rows = self.filter.ordered().offset(w.offset).limit(w.limit).all(db).await?;
        Ok(rows.into_iter().map(|m| shown(self.keys, m)).collect())
    }
}

/// One page of an owner's tokens of one kind, filtered.
pub async fn list(
    db: &DatabaseConnection,
    keys: &Keys,
    owner: Owner,
    kind: Kind,
    mut filter: TokenFilter,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<ShownToken>> {
    filter.user = Some(owner.id());
    filter.kind = Some(kind);
    super::page::list(db, &TokenListing { filter, keys }, page, total).await
}

/// `GET /personal_access_tokens`: a user sees their own personal access tokens (naming another
/// user is GitLab's 401); an admin everyone's, impersonation tokens included, or `user`'s (404
/// when there is no such user).
pub async fn search(
    db: &DatabaseConnection,
    keys: &Keys,
    viewer: &Viewer,
    user: Option<i32>,
    mut filter: TokenFilter,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<ShownToken>> {
    let me = viewer.user()?;
    if me.admin {
        if let Some(id) = user {
            match users::find(db, &users::UserRef::Id(id)).await {
                Err(AppError::NotFound(_)) => return Err(AppError::NotFoundMessage("404 Not Found".into())),
                r => r?,
            };
        }
        filter.user = user;
    } else {
        if user.is_some_and(|id| id != me.id) {
            return Err(AppError::Unauthorized);
        }
        filter.user = Some(me.id);
        filter.kind = Some(Kind::Personal);
    }
    super::page::list(db, &TokenListing { filter, keys }, page, total).await
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

/// A token works through its `expires_at` day: one whose day is past would never work.
fn check_expiry(e: &mut Errors, expires_at: Option<NaiveDate>) {
    if expires_at.is_some_and(|d| d < time::today()) {
        e.add("expires_at", "must not be in the past");
    }
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
    let allowed = |s: &str| USER_SCOPES.contains(&s) || (owner_is_admin && ADMIN_SCOPES.contains(&s));
    let mut e = Errors::default();
    e.max_len("name", &name, 255);
    e.single_line("name", &name);
    if let Some(d) = &input.description {
        e.max_len("description", d, 255);
    }
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
    } else if scopes.iter().any(|s| !allowed(s)) {
        e.add("scopes", "can only contain available scopes");
    }
    check_expiry(&mut e, input.expires_at);
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
        description: Set(input.description.filter(|d| !d.is_empty())),
        previous_token_id: Set(None),
        ..Default::default()
    };
    let model = super::retry_deadlocks(|| row.clone().insert(db)).await?;
    Ok(ShownToken {
        model,
        value: Some(value),
    })
}

/// `POST /users/:id/personal_access_tokens`: an admin makes a personal access token for any user,
/// themselves included (order: 401, 403, missing name, 404, 400).
pub async fn create_by_admin(
    db: &impl ConnectionTrait,
    keys: &Keys,
    viewer: &Viewer,
    target: &Target,
    input: NewToken,
) -> AppResult<ShownToken> {
    policy::require_admin(viewer)?;
    create(db, keys, viewer, Kind::Personal, target, input).await
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

/// Which token an operation of `/personal_access_tokens` is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Id(i32),
    /// The token that authenticated the request.
    Current,
}

/// The token that authenticated the request: 400 for any other credential, as GitLab's.
fn current_id(viewer: &Viewer) -> AppResult<i32> {
    viewer.user()?;
    match (viewer.credential, viewer.token_id) {
        (Credential::Personal | Credential::Impersonation, Some(id)) => Ok(id),
        _ => Err(AppError::BadRequest(
            "400 Bad request - This endpoint requires token type to be a personal access token".into(),
        )),
    }
}

/// A token the viewer may see and manage: their own personal access tokens (and the token they
/// are signed in with), every token for an admin. Any other is 404, whether or not it exists.
pub async fn find(db: &impl ConnectionTrait, keys: &Keys, viewer: &Viewer, which: Which) -> AppResult<ShownToken> {
    let me = viewer.user()?;
    let id = match which {
        Which::Id(id) => id,
        Which::Current => current_id(viewer)?,
    };
    let not_found = || AppError::NotFoundMessage("404 Not Found".into());
    let m = token::Entity::find_by_id(id)
        .filter(token::Column::Kind.is_in([Kind::Personal.db(), Kind::Impersonation.db()]))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let mine = m.user_id == me.id && (m.kind == Kind::Personal.db() || which == Which::Current);
    if !(mine || me.admin) {
        return Err(not_found());
    }
    Ok(shown(keys, m))
}

/// Revokes a token of `/personal_access_tokens` (204; again is fine).
pub async fn revoke_visible(db: &impl ConnectionTrait, keys: &Keys, viewer: &Viewer, which: Which) -> AppResult<()> {
    let t = find(db, keys, viewer, which).await?;
    token::Entity::update_many()
        .col_expr(token::Column::Revoked, Expr::value(true))
        .filter(token::Column::Id.eq(t.model.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Rotates a token: revokes it and makes its successor (same owner, kind, name, description and
/// scopes; `expires_at`, by default a week from today), in one transaction. A token revoked
/// already, or by a concurrent rotation, is 400 and nothing changes: of concurrent rotations of
/// one token exactly one succeeds.
pub async fn rotate(
    db: &DatabaseConnection,
    keys: &Keys,
    viewer: &Viewer,
    which: Which,
    expires_at: Option<NaiveDate>,
) -> AppResult<ShownToken> {
    let old = find(db, keys, viewer, which).await?.model;
    let today = time::today();
    let mut e = Errors::default();
    check_expiry(&mut e, expires_at);
    e.into_result()?;
    if old.revoked {
        return Err(AppError::BadRequest(ALREADY_REVOKED.into()));
    }
    let expires_at = expires_at.or_else(|| today.checked_add_days(Days::new(ROTATED_LIFETIME_DAYS)));
    let value = tok::generate(tok::PAT_PREFIX);
    let impersonation = old.kind == Kind::Impersonation.db();
    let row = token::ActiveModel {
        user_id: Set(old.user_id),
        kind: Set(old.kind.clone()),
        name: Set(old.name.clone()),
        token_digest: Set(tok::digest(&value)),
        token_encrypted: Set(impersonation.then(|| keys.sealer.seal(&value))),
        scopes: Set(old.scopes.clone()),
        expires_at: Set(expires_at),
        revoked: Set(false),
        last_used_at: Set(None),
        created_at: Set(time::now()),
        description: Set(old.description.clone()),
        previous_token_id: Set(Some(old.id)),
        ..Default::default()
    };
    let model = super::retry_deadlocks(|| async {
        let txn = super::write_txn(db).await?;
        let revoked = token::Entity::update_many()
            .col_expr(token::Column::Revoked, Expr::value(true))
            .filter(token::Column::Id.eq(old.id))
            .filter(token::Column::Revoked.eq(false))
            .exec(&txn)
            .await?;
        if revoked.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(None);
        }
        let model = row.clone().insert(&txn).await?;
        txn.commit().await?;
        Ok(Some(model))
    })
    .await?
    .ok_or_else(|| AppError::BadRequest(ALREADY_REVOKED.into()))?;
    Ok(ShownToken {
        model,
        value: Some(value),
    })
}

/// `POST /personal_access_tokens/:id|self/rotate`: authenticates the request itself, because a
/// revoked token presented to a rotation is GitLab's sign of a stolen token being rotated after
/// its owner rotated it: the request is refused (401) and every active token rotated from it is
/// revoked. A revoked token used anywhere else is an ordinary 401 and revokes nothing. Rotating
/// the calling token needs `api` or `self_rotate`, another token `api`.
pub async fn rotate_presented(
    db: &DatabaseConnection,
    keys: &Keys,
    cfg: &Config,
    creds: &Credentials,
    which: Which,
    expires_at: Option<NaiveDate>,
) -> AppResult<ShownToken> {
    let viewer = match super::caller::authenticate(db, keys, cfg, creds).await {
        Err(AppError::InvalidToken(TokenProblem::Revoked)) => {
            if let Some(raw) = creds.token.as_deref() {
                revoke_family(db, raw).await?;
            }
            return Err(AppError::InvalidToken(TokenProblem::Revoked));
        }
        r => r?,
    };
    viewer.user()?;
    match which {
        Which::Current if !(viewer.scopes.api || viewer.scopes.self_rotate) => {
            return Err(AppError::InsufficientScope("api self_rotate"));
        }
        Which::Current => {}
        Which::Id(_) => viewer.check_access(Access::Write)?,
    }
    rotate(db, keys, &viewer, which, expires_at).await
}

/// Revokes the active tokens rotated, directly or not, from the token whose value is `raw`.
async fn revoke_family(db: &DatabaseConnection, raw: &str) -> AppResult<()> {
    let digest = tok::digest(raw);
    let Some(root) = token::Entity::find()
        .filter(token::Column::TokenDigest.eq(digest.as_str()))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let mut family = Vec::new();
    let mut generation = vec![root.id];
    // A family is a chain (each token is rotated once); the bound only guards against a cycle.
    for _ in 0..10_000 {
        let next: Vec<i32> = token::Entity::find()
            .select_only()
            .column(token::Column::Id)
            .filter(token::Column::PreviousTokenId.is_in(generation.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        if next.is_empty() {
            break;
        }
        family.extend_from_slice(&next);
        generation = next;
    }
    if family.is_empty() {
        return Ok(());
    }
    token::Entity::update_many()
        .col_expr(token::Column::Revoked, Expr::value(true))
        .filter(token::Column::Id.is_in(family))
        .filter(token::Column::Revoked.eq(false))
        .exec(db)
        .await?;
    Ok(())
}
