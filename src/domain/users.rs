//! Users: reads with GitLab's filters, and the admin operations create, update, delete, block
//! and unblock. Every rule of the users API lives here.

use chrono::{DateTime, Utc};
use entity::{account_token, custom_attribute, email, event, identity, ssh_key, token, user, user_follow};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, Iterable, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, Select,
};
use std::collections::HashMap;

use super::account_tokens;
use super::changes::{Change, ChangeBus, UserAction};
use super::fields::{self, UserRow};
pub use super::fields::{CreateUser, UserAttrs};
use super::page::{Listed, Listing, PageRequest, Window};
use super::passwords::{self, ChosenBy};
use super::policy;
use super::shape::Columns;
use super::states;
use super::time;
use super::validate::{Errors, normalize_email};
use crate::auth::{Keys, password, token as tok};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::mail::templates::Template;
use crate::state::AppState;

/// A user named by id or by username, as GitLab paths and sudo accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    Id(i32),
    Username(String),
}

impl UserRef {
    /// Digits are an id, anything else a username.
    pub fn parse(s: &str) -> Self {
        match s.parse::<i32>() {
            Ok(id) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => UserRef::Id(id),
            _ => UserRef::Username(s.to_string()),
        }
    }
}

pub async fn find_ref(db: &impl ConnectionTrait, r: &UserRef) -> Result<Option<user::Model>, DbErr> {
    match r {
        UserRef::Id(id) => super::decode::unique(db, user::Entity::find_by_id(*id)).await,
        UserRef::Username(name) => {
            let q = user::Entity::find().filter(user::Column::UsernameCanonical.eq(name.to_lowercase()));
            super::decode::unique(db, q).await
        }
    }
}

/// One user, or `404 User Not Found`.
pub(crate) async fn find(db: &impl ConnectionTrait, r: &UserRef) -> AppResult<user::Model> {
    find_ref(db, r).await?.ok_or(AppError::NotFound("User"))
}

/// One user, readable by anyone (which fields each viewer sees is the declaration's `who`).
pub async fn get(db: &impl ConnectionTrait, _viewer: &Viewer, r: &UserRef) -> AppResult<UserRow> {
    Ok(UserRow::full(find(db, r).await?))
}

/// One user by id with their identities, for a viewer who sees them (admins): one statement,
/// the user's row joined with each identity. `404 User Not Found` when there is none.
pub async fn get_with_identities(db: &impl ConnectionTrait, viewer: &Viewer, id: i32) -> AppResult<UserRow> {
    policy::require_admin(viewer)?;
    let (u, identities) = with_identities(db, id).await?.ok_or(AppError::NotFound("User"))?;
    Ok(UserRow::full(u).with_identities(identities))
}

/// The caller as `GET /user` shows them: every field and their identities, and (only to an
/// admin acting through sudo, as GitLab shows it) their legacy private token.
pub async fn me(db: &impl ConnectionTrait, keys: &Keys, viewer: &Viewer) -> AppResult<UserRow> {
    let u = viewer.user()?;
    let row = UserRow::full(u.clone()).with_identities(identities_of(db, &[u.id]).await?);
    Ok(match viewer.sudo_by {
        Some(_) => row.with_private_token(private_token(db, keys, u.id).await?),
        None => row,
    })
}

/// `row` with its custom attributes read, for an admin (anyone else gets `row` as it is).
pub async fn attach_custom_attributes(db: &impl ConnectionTrait, viewer: &Viewer, row: UserRow) -> AppResult<UserRow> {
    if !policy::sees_admin_view(viewer) {
        return Ok(row);
    }
    let attributes = super::children::custom_attributes_of(db, &[row.id()]).await?;
    Ok(row.with_custom_attributes(attributes))
}

/// `row` with its identities read.
pub async fn attach_identities(db: &impl ConnectionTrait, row: UserRow) -> AppResult<UserRow> {
    let identities = identities_of(db, &[row.id()]).await?;
    Ok(row.with_identities(identities))
}

/// One user by id with its identities (ordered by id), in one statement.
async fn with_identities(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<(user::Model, Vec<identity::Model>)>, DbErr> {
    use super::decode::ByIndex;
    // One row per identity, or one with NULL identity cells (which decode as none); no `LIMIT`
    // (see `decode::unique`).
    let rows = user::Entity::find_by_id(id)
        .find_also_related(identity::Entity)
        .order_by_asc(identity::Column::Id)
        .into_model::<ByIndex<user::Model>, ByIndex<identity::Model>>()
        .all(db)
        .await?;
    let mut rows = rows.into_iter();
    let Some((u, first)) = rows.next() else {
        return Ok(None);
    };
    let identities = first
        .into_iter()
        .chain(rows.filter_map(|(_, i)| i))
        .map(|i| i.0)
        .collect();
    Ok(Some((u.0, identities)))
}

/// Several users by id, in no particular order (for loaders).
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i32]) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .filter(super::any_of(db, user::Column::Id, ids))
        .all(db)
        .await
}

/// GitLab's filters of `GET /users`, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub search: Option<String>,
    pub username: Option<String>,
    /// `true` keeps active users; `false` means no filter, as GitLab has it.
    pub active: bool,
    pub blocked: bool,
    pub external: bool,
    pub extern_uid: Option<String>,
    pub provider: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Only administrators (applied for admins only).
    pub admins: bool,
    /// Only users with two-factor authentication on (`Some(true)`) or off (admins only).
    pub two_factor: Option<bool>,
    /// Only humans: every user here is one (usergraph has no bots), so it changes nothing.
    pub humans: bool,
    /// No humans: no user here.
    pub exclude_humans: bool,
    /// No active users.
    pub exclude_active: bool,
    /// No external users (applied for admins only).
    pub exclude_external: bool,
    /// No project bots: there are none here, so it changes nothing.
    pub without_project_bots: bool,
    /// Users showing this public address (exact, in any case).
    pub public_email: Option<String>,
    /// The users who follow this user.
    pub followers_of: Option<i32>,
    /// The users this user follows.
    pub followed_by: Option<i32>,
    /// Only these ids (GraphQL's `ids`).
    pub ids: Option<Vec<i32>>,
    /// Only these usernames, in any case (GraphQL's `usernames`).
    pub usernames: Option<Vec<String>>,
    /// Only users with each of these custom attributes (key, value) (applied for admins only).
    pub custom_attributes: Vec<(String, String)>,
}

/// `two_factor`'s values.
pub fn two_factor(s: &str) -> Option<bool> {
    match s {
        "enabled" => Some(true),
        "disabled" => Some(false),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserOrder {
    #[default]
    Id,
    Name,
    Username,
    CreatedAt,
    UpdatedAt,
}

impl UserOrder {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "id" => UserOrder::Id,
            "name" => UserOrder::Name,
            "username" => UserOrder::Username,
            "created_at" => UserOrder::CreatedAt,
            "updated_at" => UserOrder::UpdatedAt,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

impl SortDir {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "asc" => Some(SortDir::Asc),
            "desc" => Some(SortDir::Desc),
            _ => None,
        }
    }
}

pub(crate) fn like_pattern(q: &str) -> LikeExpr {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// The filtered query, after the permission rules of the list: anonymous callers must name a
/// username; `extern_uid`/`provider` come together and only from admins; the `external` filter
/// and e-mail search apply for admins only (others never learn those private fields).
fn filtered(viewer: &Viewer, f: &UserFilter) -> AppResult<Select<user::Entity>> {
    if f.extern_uid.is_some() != f.provider.is_some() {
        return Err(AppError::BadParams(
            "extern_uid, provider provide all or none of parameters".into(),
        ));
    }
    if viewer.user.is_none() && f.username.is_none() {
        return Err(AppError::forbidden("Not authorized to access /api/v4/users"));
    }
    let admin = policy::sees_admin_view(viewer);
    if f.extern_uid.is_some() {
        policy::require_admin(viewer)?;
    }
    let mut q = user::Entity::find();
    if let Some(u) = &f.username {
        q = q.filter(user::Column::UsernameCanonical.eq(u.to_lowercase()));
    }
    if let Some(s) = f.search.as_deref().filter(|s| !s.is_empty()) {
        let mut any = Condition::any()
            .add(Expr::col(user::Column::UsernameCanonical).like(like_pattern(s)))
            .add(Expr::expr(Func::lower(Expr::col(user::Column::Name))).like(like_pattern(s)));
        if admin {
            any = any.add(Expr::col(user::Column::Email).like(like_pattern(s)));
        }
        q = q.filter(any);
    }
    if f.active {
        q = q.filter(user::Column::State.eq("active"));
    }
    if f.exclude_active {
        q = q.filter(user::Column::State.ne("active"));
    }
    if f.exclude_humans {
        q = q.filter(Expr::cust("1 = 0"));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(user::Column::Id.is_in(ids.iter().copied()));
    }
    if let Some(names) = &f.usernames {
        q = q.filter(user::Column::UsernameCanonical.is_in(names.iter().map(|n| n.to_lowercase())));
    }
    if f.blocked {
        q = q.filter(user::Column::State.is_in(["blocked", "ldap_blocked"]));
    }
    if f.external && admin {
        q = q.filter(user::Column::External.eq(true));
    }
    if f.exclude_external && admin {
        q = q.filter(user::Column::External.eq(false));
    }
    if admin {
        for (key, value) in &f.custom_attributes {
            q = q.filter(
                user::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(custom_attribute::Column::UserId)
                        .from(custom_attribute::Entity)
                        .and_where(custom_attribute::Column::Key.eq(key.as_str()))
                        .and_where(custom_attribute::Column::Value.eq(value.as_str()))
                        .to_owned(),
                ),
            );
        }
    }
    if f.admins && admin {
        q = q.filter(user::Column::Admin.eq(true));
    }
    if let Some(id) = f.followers_of {
        q = q.filter(
            user::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user_follow::Column::FollowerId)
                    .from(user_follow::Entity)
                    .and_where(user_follow::Column::FolloweeId.eq(id))
                    .to_owned(),
            ),
        );
    }
    if let Some(id) = f.followed_by {
        q = q.filter(
            user::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user_follow::Column::FolloweeId)
                    .from(user_follow::Entity)
                    .and_where(user_follow::Column::FollowerId.eq(id))
                    .to_owned(),
            ),
        );
    }
    if let Some(p) = f.public_email.as_deref().filter(|p| !p.is_empty()) {
        q = q.filter(user::Column::PublicEmail.eq(normalize_email(p)));
    }
    if let (Some(on), true) = (f.two_factor, admin) {
        q = q.filter(user::Column::TwoFactorEnabled.eq(on));
    }
    if admin {
        if let Some(t) = f.created_after {
            q = q.filter(user::Column::CreatedAt.gt(t));
        }
        if let Some(t) = f.created_before {
            q = q.filter(user::Column::CreatedAt.lt(t));
        }
    }
    if let (Some(uid), Some(provider)) = (&f.extern_uid, &f.provider) {
        q = q.filter(
            user::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(identity::Column::UserId)
                    .from(identity::Entity)
                    .and_where(identity::Column::Provider.eq(provider.as_str()))
                    .and_where(identity::Column::ExternUid.eq(uid.as_str()))
                    .to_owned(),
            ),
        );
    }
    Ok(q)
}

/// What to read of each user of a list: some columns or all, and the identities or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// Only these columns (`None`: every one).
    pub columns: Option<Columns>,
    pub identities: bool,
    /// Their custom attributes (read for admins only).
    pub custom_attributes: bool,
}

/// The users list with its filters and order, after its permission rules.
pub struct UserListing {
    filtered: Select<user::Entity>,
    ordered: Select<user::Entity>,
    read: Read,
}

impl Listing for UserListing {
    type Item = UserRow;

    async fn count(&self, db: &DatabaseConnection, up_to: Option<u64>) -> AppResult<u64> {
        super::page::count(db, self.filtered.clone(), up_to).await
    }

    async fn fetch(&self, db: &DatabaseConnection, w: Window) -> AppResult<Vec<UserRow>> {
        let q = self.ordered.clone();
        let mut rows = match self.read.columns.filter(|c| *c != fields::all_columns()) {
            Some(bits) => {
                let cols: Vec<user::Column> = user::Column::iter()
                    .filter(|c| bits & fields::column(*c) != 0)
                    .collect();
                users_with_columns(db, q, &cols, w.offset, w.limit).await?
            }
            None => super::decode::window(db, q, w.offset, w.limit)
                .await?
                .into_iter()
                .map(UserRow::full)
                .collect(),
        };
        if self.read.custom_attributes {
            let ids: Vec<i32> = rows.iter().map(|u| u.id()).collect();
            let mut by_user: HashMap<i32, Vec<custom_attribute::Model>> = HashMap::new();
            for a in super::children::custom_attributes_of(db, &ids).await? {
                by_user.entry(a.user_id).or_default().push(a);
            }
            rows = rows
                .into_iter()
                .map(|u| {
                    let mine = by_user.remove(&u.id()).unwrap_or_default();
                    u.with_custom_attributes(mine)
                })
                .collect();
        }
        if self.read.identities {
            let ids: Vec<i32> = rows.iter().map(|u| u.id()).collect();
            let mut by_user: HashMap<i32, Vec<identity::Model>> = HashMap::new();
            for i in identities_of(db, &ids).await? {
                by_user.entry(i.user_id).or_default().push(i);
            }
            rows = rows
                .into_iter()
                .map(|u| {
                    let mine = by_user.remove(&u.id()).unwrap_or_default();
                    u.with_identities(mine)
                })
                .collect();
        }
        Ok(rows)
    }
}

/// The deepest offset page of users (GitLab's plan limit): deeper pages are read with keyset
/// pagination.
pub const MAX_OFFSET: u64 = 50_000;

/// GitLab's users list: the filter, the order, one page, the total when asked for.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    db: &DatabaseConnection,
    viewer: &Viewer,
    f: &UserFilter,
    order: UserOrder,
    dir: SortDir,
    read: Read,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<UserRow>> {
    if let PageRequest::Numbered(n) = page
        && n.page.saturating_mul(n.per_page) > MAX_OFFSET
    {
        return Err(AppError::NotAllowed(format!(
            "Offset pagination has a maximum allowed offset of {MAX_OFFSET} for requests that return objects of \
             type User. Remaining records can be retrieved using keyset pagination."
        )));
    }
    let filtered = filtered(viewer, f)?;
    let ord = match dir {
        SortDir::Asc => sea_orm::Order::Asc,
        SortDir::Desc => sea_orm::Order::Desc,
    };
    let q = filtered.clone();
    let q = match order {
        UserOrder::Id => q,
        UserOrder::Name => q.order_by(user::Column::Name, ord.clone()),
        UserOrder::Username => q.order_by(user::Column::UsernameCanonical, ord.clone()),
        UserOrder::CreatedAt => q.order_by(user::Column::CreatedAt, ord.clone()),
        UserOrder::UpdatedAt => q.order_by(user::Column::UpdatedAt, ord.clone()),
    };
    let listing = UserListing {
        filtered,
        ordered: q.order_by(user::Column::Id, ord),
        read: Read {
            custom_attributes: read.custom_attributes && policy::sees_admin_view(viewer),
            ..read
        },
    };
    super::page::list(db, &listing, page, total).await
}

/// A page of GitLab's keyset pagination of users: the users after the cursor, and the cursor of
/// the page after this one when there is one.
pub struct KeysetPage {
    pub items: Vec<UserRow>,
    pub next: Option<String>,
}

impl UserOrder {
    fn name(self) -> &'static str {
        match self {
            UserOrder::Id => "id",
            UserOrder::Name => "name",
            UserOrder::Username => "username",
            UserOrder::CreatedAt => "created_at",
            UserOrder::UpdatedAt => "updated_at",
        }
    }

    /// The column the users are ordered by (then by id).
    fn column(self) -> user::Column {
        match self {
            UserOrder::Id => user::Column::Id,
            UserOrder::Name => user::Column::Name,
            UserOrder::Username => user::Column::UsernameCanonical,
            UserOrder::CreatedAt => user::Column::CreatedAt,
            UserOrder::UpdatedAt => user::Column::UpdatedAt,
        }
    }
}

/// Where a keyset page starts: after the user with `id` whose order column holds `value`, in
/// `order` and `dir` (a cursor of another order is refused).
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Cursor {
    o: String,
    d: String,
    v: String,
    id: i32,
}

fn dir_name(dir: SortDir) -> &'static str {
    match dir {
        SortDir::Asc => "asc",
        SortDir::Desc => "desc",
    }
}

impl Cursor {
    fn encode(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(s: &str, order: UserOrder, dir: SortDir) -> AppResult<Cursor> {
        use base64::Engine;
        let bad = || AppError::invalid_param("cursor");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| bad())?;
        let c: Cursor = serde_json::from_slice(&raw).map_err(|_| bad())?;
        if c.o != order.name() || c.d != dir_name(dir) {
            return Err(bad());
        }
        Ok(c)
    }

    /// The cursor after `row`, which holds the order column.
    fn after(row: &UserRow, order: UserOrder, dir: SortDir) -> Cursor {
        let v = match row.get(order.column()) {
            Some(sea_orm::Value::String(Some(s))) => s,
            Some(sea_orm::Value::ChronoDateTimeUtc(Some(t))) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            Some(sea_orm::Value::Int(Some(n))) => n.to_string(),
            _ => String::new(),
        };
        Cursor {
            o: order.name().to_string(),
            d: dir_name(dir).to_string(),
            v,
            id: row.id(),
        }
    }

    /// The users after this cursor.
    fn condition(&self, order: UserOrder, dir: SortDir) -> AppResult<Condition> {
        let col = order.column();
        let after = |c: user::Column, v: sea_orm::Value| match dir {
            SortDir::Asc => Expr::col(c).gt(v),
            SortDir::Desc => Expr::col(c).lt(v),
        };
        let id_after = after(user::Column::Id, self.id.into());
        let value: sea_orm::Value = match order {
            UserOrder::Id => return Ok(Condition::all().add(id_after)),
            UserOrder::Name | UserOrder::Username => self.v.clone().into(),
            UserOrder::CreatedAt | UserOrder::UpdatedAt => DateTime::parse_from_rfc3339(&self.v)
                .map_err(|_| AppError::invalid_param("cursor"))?
                .with_timezone(&Utc)
                .into(),
        };
        Ok(Condition::any()
            .add(after(col, value.clone()))
            .add(Condition::all().add(Expr::col(col).eq(value)).add(id_after)))
    }
}

/// GitLab's keyset pagination of the users list (`pagination=keyset`): `per_page` users after
/// `cursor`, in `order` and `dir` (then by id); no total is counted.
#[allow(clippy::too_many_arguments)]
pub async fn list_keyset(
    db: &DatabaseConnection,
    viewer: &Viewer,
    f: &UserFilter,
    order: UserOrder,
    dir: SortDir,
    read: Read,
    per_page: u64,
    cursor: Option<&str>,
) -> AppResult<KeysetPage> {
    let mut q = filtered(viewer, f)?;
    if let Some(c) = cursor {
        q = q.filter(Cursor::decode(c, order, dir)?.condition(order, dir)?);
    }
    let ord = match dir {
        SortDir::Asc => sea_orm::Order::Asc,
        SortDir::Desc => sea_orm::Order::Desc,
    };
    if order != UserOrder::Id {
        q = q.order_by(order.column(), ord.clone());
    }
    let listing = UserListing {
        filtered: q.clone(),
        ordered: q.order_by(user::Column::Id, ord),
        read: Read {
            // The order column is read too: the next cursor is made of it.
            columns: read.columns.map(|c| c | fields::column(order.column())),
            custom_attributes: read.custom_attributes && policy::sees_admin_view(viewer),
            ..read
        },
    };
    let mut items = listing
        .fetch(
            db,
            Window {
                offset: 0,
                limit: per_page + 1,
            },
        )
        .await?;
    let more = items.len() as u64 > per_page;
    items.truncate(per_page as usize);
    let next = match (more, items.last()) {
        (true, Some(last)) => Some(Cursor::after(last, order, dir).encode()),
        _ => None,
    };
    Ok(KeysetPage { items, next })
}

/// The users of `q` from `offset`, at most `limit`, reading only `columns`. For a caller that
/// has planned which fields it will read and reads no other: a page of 100 users then decodes
/// the handful of cells a selection asks for instead of all 31 columns of each. The bounds are
/// written as in `decode::window`.
pub async fn users_with_columns(
    db: &impl ConnectionTrait,
    q: Select<user::Entity>,
    columns: &[user::Column],
    offset: u64,
    limit: u64,
) -> Result<Vec<UserRow>, DbErr> {
    use sea_orm::QuerySelect;
    let q = q.select_only().columns(columns.iter().copied());
    let stmt = super::decode::window_statement(db.get_database_backend(), q, offset, limit);
    db.query_all_raw(stmt)
        .await?
        .iter()
        .map(|r| fields::partial_user(r, columns))
        .collect()
}

/// Identities of several users, for loaders and views.
pub async fn identities_of(db: &impl ConnectionTrait, user_ids: &[i32]) -> Result<Vec<identity::Model>, DbErr> {
    let q = identity::Entity::find()
        .filter(super::any_of(db, identity::Column::UserId, user_ids))
        .order_by_asc(identity::Column::Id);
    super::decode::all(db, q).await
}

impl UserAttrs {
    /// Validation of every attribute present; `creating` makes the required ones required.
    fn validate(&self, creating: bool, reset_password: bool) -> AppResult<()> {
        let mut e = Errors::default();
        if let Some(u) = &self.username {
            e.username(u);
        }
        if let Some(m) = &self.email {
            e.email("email", &normalize_email(m));
        }
        if let Some(n) = &self.name {
            e.name(n);
        }
        match &self.password {
            Some(p) if !(creating && reset_password) => e.password(p),
            _ => {}
        }
        for (field, v) in [
            ("skype", &self.skype),
            ("linkedin", &self.linkedin),
            ("twitter", &self.twitter),
            ("website_url", &self.website_url),
            ("organization", &self.organization),
            ("public_email", &self.public_email),
            ("commit_email", &self.commit_email),
            ("bio", &self.bio),
            ("location", &self.location),
            ("provider", &self.provider),
            ("extern_uid", &self.extern_uid),
        ] {
            if let Some(v) = v {
                e.max_len(field, v, 255);
                if field != "bio" {
                    e.single_line(field, v);
                }
            }
        }
        if let Some(v) = &self.website_url {
            e.web_url("website_url", v);
        }
        if let Some(n) = &self.note {
            e.max_len("note", n, 1000);
        }
        for (field, v, max) in [("job_title", &self.job_title, 200), ("pronouns", &self.pronouns, 50)] {
            if let Some(v) = v {
                e.max_len(field, v, max);
                e.single_line(field, v);
            }
        }
        if let Some(d) = &self.discord
            && !d.is_empty()
            && !((17..=20).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
        {
            e.add("discord", "must contain only a discord user ID.");
        }
        if let Some(z) = &self.timezone
            && !z.is_empty()
            && super::time::zone(z).is_none()
        {
            e.add(
                "timezone",
                "is not a time zone of the tz database (such as Europe/Berlin)",
            );
        }
        if let Some(t) = self.theme_id
            && !(1..=11).contains(&t)
        {
            e.add("theme_id", "is not included in the list");
        }
        if let Some(p) = self.projects_limit {
            e.non_negative_i32("projects_limit", p);
        }
        if let Some(c) = self.color_scheme_id
            && !(1..=7).contains(&c)
        {
            e.add("color_scheme_id", "is not included in the list");
        }
        e.into_result()
    }

    fn check_identity_pair(&self) -> AppResult<()> {
        if self.extern_uid.is_some() != self.provider.is_some() {
            return Err(AppError::BadParams(
                "extern_uid, provider provide all or none of parameters".into(),
            ));
        }
        Ok(())
    }
}

/// A public or commit address asked for, normalized; `None` when it is cleared (empty) or, for
/// the commit address, left to the primary.
fn chosen_address(v: &Option<String>) -> Option<String> {
    v.as_deref().filter(|p| !p.trim().is_empty()).map(normalize_email)
}

/// GitLab's refusal of a public or commit address that is not one of the user's confirmed ones.
fn not_owned(field: &str) -> AppError {
    AppError::field(field, "is not an email you own")
}

/// Whether `address` is one of the user's confirmed addresses (primary or secondary).
async fn owns_confirmed(db: &impl ConnectionTrait, user_id: i32, address: &str) -> AppResult<bool> {
    Ok(email::Entity::find()
        .filter(email::Column::UserId.eq(user_id))
        .filter(email::Column::EmailCanonical.eq(address))
        .filter(email::Column::ConfirmedAt.is_not_null())
        .count(db)
        .await?
        > 0)
}

/// 409 when the address or the username belongs to another user (address first, as GitLab).
async fn check_conflicts(
    db: &impl ConnectionTrait,
    except_user: Option<i32>,
    email: Option<&str>,
    username: Option<&str>,
) -> AppResult<()> {
    if let Some(m) = email {
        let owner = email::Entity::find()
            .filter(email::Column::EmailCanonical.eq(normalize_email(m)))
            .one(db)
            .await?;
        if owner.is_some_and(|o| Some(o.user_id) != except_user) {
            return Err(AppError::conflict("email"));
        }
    }
    if let Some(u) = username {
        let owner = user::Entity::find()
            .filter(user::Column::UsernameCanonical.eq(u.to_lowercase()))
            .one(db)
            .await?;
        if owner.is_some_and(|o| Some(o.id) != except_user) {
            return Err(AppError::conflict("username"));
        }
    }
    Ok(())
}

async fn check_identity_free(
    db: &impl ConnectionTrait,
    except_user: Option<i32>,
    provider: &str,
    uid: &str,
) -> AppResult<()> {
    let owner = identity::Entity::find()
        .filter(identity::Column::Provider.eq(provider))
        .filter(identity::Column::ExternUid.eq(uid))
        .one(db)
        .await?;
    if owner.is_some_and(|o| Some(o.user_id) != except_user) {
        return Err(AppError::field("extern_uid", "has already been taken"));
    }
    Ok(())
}

/// After a unique violation: say which value was taken (someone else committed it meanwhile).
async fn explain_conflict(
    db: &impl ConnectionTrait,
    except_user: Option<i32>,
    attrs: &UserAttrs,
    e: DbErr,
) -> AppError {
    if !is_unique_violation(&e) {
        return e.into();
    }
    if let Err(c) = check_conflicts(db, except_user, attrs.email.as_deref(), attrs.username.as_deref()).await {
        return c;
    }
    if let (Some(p), Some(u)) = (&attrs.provider, &attrs.extern_uid)
        && let Err(c) = check_identity_free(db, except_user, p, u).await
    {
        return c;
    }
    // The unique index fired, yet the value is free now: the other writer rolled back. Report it
    // as the conflict it was rather than as an internal error.
    AppError::conflict("username")
}

/// Creates a user (admin only). Order of refusals: 401, missing parameters, 403, 409, 400.
/// Subscribers hear of it (CREATED) once it is committed.
pub async fn create(st: &AppState, viewer: &Viewer, input: CreateUser) -> AppResult<UserRow> {
    let (db, keys, changes) = (&st.db, &*st.keys, &st.changes);
    let admin = viewer.user()?.clone();
    let a = &input.attrs;
    let mut missing = Vec::new();
    for (name, v) in [("email", &a.email), ("name", &a.name), ("username", &a.username)] {
        if v.as_deref().is_none_or(|s| s.is_empty()) {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(AppError::missing(&missing));
    }
    if a.password.is_none() && !input.reset_password {
        return Err(AppError::BadParams(
            "password, reset_password are missing, at least one parameter must be provided".into(),
        ));
    }
    a.check_identity_pair()?;
    policy::require_admin(viewer)?;
    check_conflicts(db, None, a.email.as_deref(), a.username.as_deref()).await?;
    a.validate(true, input.reset_password)?;
    // A new user's only address is the primary, confirmed at once or not at all.
    for (field, chosen) in [
        ("public_email", chosen_address(&a.public_email)),
        ("commit_email", chosen_address(&a.commit_email)),
    ] {
        if let Some(p) = chosen
            && !(input.skip_confirmation && a.email.as_deref().map(normalize_email) == Some(p))
        {
            return Err(not_owned(field));
        }
    }
    if let (Some(p), Some(u)) = (&a.provider, &a.extern_uid) {
        check_identity_free(db, None, p, u).await?;
    }

    let password = match (&a.password, input.reset_password) {
        (Some(p), false) => p.clone(),
        _ => tok::generate("reset-"),
    };
    let hash = password::hash(password).await?;
    match insert_user(db, keys, Some(admin.id), &input, hash, states::ACTIVE, true).await {
        Ok(u) => {
            st.mail.wake();
            changes.publish(db, Change::user(u.id, UserAction::Created)).await;
            Ok(UserRow::full(u))
        }
        Err(e) => Err(explain_conflict(db, None, a, e).await),
    }
}

/// `Set` for a given value, the column's default otherwise.
fn given<T: Into<sea_orm::Value>>(v: Option<T>) -> sea_orm::ActiveValue<T> {
    match v {
        Some(v) => Set(v),
        None => sea_orm::ActiveValue::NotSet,
    }
}

/// Someone creates their own account, when the server lets them (`--signup-enabled`): a user
/// with the username, address, name and password given, never an admin, whose address must be
/// confirmed (a mail is sent) and who waits for an administrator's approval when
/// `--signup-requires-approval` (state `blocked_pending_approval`). Refused past the per-address
/// sign-in budget. Subscribers hear of it (CREATED).
pub async fn sign_up(st: &AppState, client: Option<std::net::IpAddr>, attrs: UserAttrs) -> AppResult<UserRow> {
    if !st.cfg.signup_enabled {
        return Err(AppError::forbidden("Sign-up is disabled on this server"));
    }
    st.signin.check(client)?;
    let (db, keys) = (&st.db, &*st.keys);
    let a = UserAttrs {
        email: attrs.email,
        username: attrs.username,
        name: attrs.name,
        password: attrs.password,
        ..Default::default()
    };
    let mut missing = Vec::new();
    for (name, v) in [
        ("email", &a.email),
        ("name", &a.name),
        ("username", &a.username),
        ("password", &a.password),
    ] {
        if v.as_deref().is_none_or(|s| s.is_empty()) {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(AppError::missing(&missing));
    }
    check_conflicts(db, None, a.email.as_deref(), a.username.as_deref()).await?;
    a.validate(true, false)?;
    let hash = password::hash(a.password.clone().unwrap_or_default()).await?;
    let state = match st.cfg.signup_requires_approval {
        true => states::PENDING,
        false => states::ACTIVE,
    };
    let input = CreateUser {
        attrs: a,
        reset_password: false,
        skip_confirmation: false,
    };
    match insert_user(db, keys, None, &input, hash, state, true).await {
        Ok(u) => {
            st.mail.wake();
            st.changes.publish(db, Change::user(u.id, UserAction::Created)).await;
            Ok(UserRow::full(u))
        }
        Err(e) => Err(explain_conflict(db, None, &input.attrs, e).await),
    }
}

/// Inserts the user with their primary address, identity and legacy token in one transaction.
/// With `send_mail`, the same transaction queues a confirmation mail (unless confirmation is
/// skipped) and, for `reset_password`, an "account created" mail with a reset link.
async fn insert_user(
    db: &DatabaseConnection,
    keys: &Keys,
    created_by: Option<i32>,
    input: &CreateUser,
    password_hash: String,
    state: &str,
    send_mail: bool,
) -> Result<user::Model, DbErr> {
    let a = &input.attrs;
    let now = time::now();
    let username = a.username.clone().unwrap_or_default();
    let email_addr = normalize_email(a.email.as_deref().unwrap_or_default());
    let txn = super::write_txn(db).await?;
    let model = user::ActiveModel {
        username_canonical: Set(username.to_lowercase()),
        username: Set(username),
        email: Set(email_addr.clone()),
        name: Set(a.name.clone().unwrap_or_default()),
        state: Set(state.into()),
        password_hash: Set(password_hash),
        // What is not given takes the column's default (the migrations'), so a default is
        // written once.
        admin: given(a.admin),
        bio: given(a.bio.clone().map(Some)),
        location: given(a.location.clone().map(Some)),
        skype: given(a.skype.clone()),
        linkedin: given(a.linkedin.clone()),
        twitter: given(a.twitter.clone()),
        website_url: given(a.website_url.clone()),
        organization: given(a.organization.clone()),
        projects_limit: given(a.projects_limit.map(|p| p as i32)),
        can_create_group: given(a.can_create_group),
        external: given(a.external),
        color_scheme_id: given(a.color_scheme_id),
        public_email: Set(chosen_address(&a.public_email)),
        commit_email: Set(chosen_address(&a.commit_email)),
        discord: given(a.discord.clone()),
        job_title: given(a.job_title.clone()),
        pronouns: Set(a.pronouns.clone().filter(|p| !p.is_empty())),
        note: Set(a.note.clone().filter(|n| !n.is_empty())),
        theme_id: given(a.theme_id),
        // Always written: for a boolean column added by a later migration, SQLite's RETURNING
        // reports the default with no type, which sqlx will not read as a boolean.
        private_profile: Set(a.private_profile.unwrap_or(false)),
        timezone: Set(a.timezone.clone().filter(|z| !z.is_empty())),
        created_at: Set(now),
        updated_at: Set(now),
        confirmed_at: Set(input.skip_confirmation.then_some(now)),
        created_by_id: Set(created_by),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let primary = email::ActiveModel {
        user_id: Set(model.id),
        email_canonical: Set(email_addr.clone()),
        email: Set(email_addr),
        is_primary: Set(true),
        confirmed_at: Set(model.confirmed_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let (Some(p), Some(u)) = (&a.provider, &a.extern_uid) {
        identity::ActiveModel {
            user_id: Set(model.id),
            provider: Set(p.clone()),
            extern_uid: Set(u.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    insert_legacy_token(&txn, keys, model.id, None).await?;
    if send_mail {
        if primary.confirmed_at.is_none() {
            account_tokens::issue_confirmation(&txn, &keys.sealer, &model, &primary).await?;
        }
        if input.reset_password {
            account_tokens::issue_reset(&txn, &keys.sealer, &model, &model.email, Template::AccountCreated).await?;
        }
    }
    txn.commit().await?;
    Ok(model)
}

/// Every user has a legacy private token; its value is kept sealed so an admin acting through
/// sudo can be shown it, as GitLab's `GET /user` does.
pub async fn insert_legacy_token(
    db: &impl ConnectionTrait,
    keys: &Keys,
    user_id: i32,
    value: Option<String>,
) -> Result<String, DbErr> {
    let value = value.unwrap_or_else(|| tok::generate(tok::LEGACY_PREFIX));
    token::ActiveModel {
        user_id: Set(user_id),
        kind: Set("legacy".into()),
        name: Set("private_token".into()),
        token_digest: Set(tok::digest(&value)),
        token_encrypted: Set(Some(keys.sealer.seal(&value))),
        scopes: Set("api read_user".into()),
        expires_at: Set(None),
        revoked: Set(false),
        last_used_at: Set(None),
        created_at: Set(time::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(value)
}

/// The legacy private token of a user, decrypted.
pub async fn private_token(db: &impl ConnectionTrait, keys: &Keys, user_id: i32) -> AppResult<Option<String>> {
    let t = token::Entity::find()
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::Kind.eq("legacy"))
        .filter(token::Column::Revoked.eq(false))
        .one(db)
        .await?;
    Ok(t.and_then(|t| t.token_encrypted).and_then(|s| keys.sealer.open(&s)))
}

/// Modifies a user (admin only). Order: 401, parameters, 403, 404, 409, 400. Subscribers hear
/// of it (UPDATED) once it is committed.
pub async fn update(
    db: &DatabaseConnection,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
    a: UserAttrs,
) -> AppResult<UserRow> {
    let actor = viewer.user()?.clone();
    a.check_identity_pair()?;
    policy::require_admin(viewer)?;
    let current = find(db, r).await?;
    check_conflicts(db, Some(current.id), a.email.as_deref(), a.username.as_deref()).await?;
    a.validate(false, false)?;
    for (field, chosen) in [
        ("public_email", chosen_address(&a.public_email)),
        ("commit_email", chosen_address(&a.commit_email)),
    ] {
        if let Some(p) = chosen
            && !owns_confirmed(db, current.id, &p).await?
        {
            return Err(not_owned(field));
        }
    }
    if let (Some(p), Some(u)) = (&a.provider, &a.extern_uid) {
        check_identity_free(db, Some(current.id), p, u).await?;
    }
    let new_hash = match &a.password {
        Some(p) => Some(password::hash(p.clone()).await?),
        None => None,
    };
    match apply_update(db, &actor, &current, &a, new_hash).await {
        Ok(u) => {
            changes.publish(db, Change::user(u.id, UserAction::Updated)).await;
            Ok(UserRow::full(u))
        }
        Err(e) => Err(explain_conflict(db, Some(current.id), &a, e).await),
    }
}

async fn apply_update(
    db: &DatabaseConnection,
    actor: &user::Model,
    current: &user::Model,
    a: &UserAttrs,
    new_hash: Option<String>,
) -> Result<user::Model, DbErr> {
    let now = time::now();
    let txn = super::write_txn(db).await?;
    let mut m: user::ActiveModel = current.clone().into();
    if let Some(u) = &a.username {
        m.username = Set(u.clone());
        m.username_canonical = Set(u.to_lowercase());
    }
    if let Some(n) = &a.name {
        m.name = Set(n.clone());
    }
    macro_rules! set_str {
        ($($f:ident),*) => {$( if let Some(v) = &a.$f { m.$f = Set(v.clone()); } )*};
    }
    set_str!(skype, linkedin, twitter, website_url, organization);
    if let Some(v) = &a.bio {
        m.bio = Set(Some(v.clone()));
    }
    if let Some(v) = &a.location {
        m.location = Set(Some(v.clone()));
    }
    if let Some(v) = a.projects_limit {
        m.projects_limit = Set(v as i32);
    }
    if let Some(v) = a.admin {
        m.admin = Set(v);
    }
    if let Some(v) = a.can_create_group {
        m.can_create_group = Set(v);
    }
    if let Some(v) = a.external {
        m.external = Set(v);
    }
    if let Some(v) = a.color_scheme_id {
        m.color_scheme_id = Set(v);
    }
    if a.public_email.is_some() {
        m.public_email = Set(chosen_address(&a.public_email));
    }
    if a.commit_email.is_some() {
        m.commit_email = Set(chosen_address(&a.commit_email));
    }
    set_str!(discord, job_title);
    if let Some(v) = &a.pronouns {
        m.pronouns = Set(Some(v.clone()).filter(|p| !p.is_empty()));
    }
    if let Some(v) = &a.note {
        m.note = Set(Some(v.clone()).filter(|n| !n.is_empty()));
    }
    if let Some(v) = a.theme_id {
        m.theme_id = Set(v);
    }
    if let Some(v) = a.private_profile {
        m.private_profile = Set(v);
    }
    if let Some(v) = &a.timezone {
        m.timezone = Set(Some(v.clone()).filter(|z| !z.is_empty()));
    }
    if let Some(h) = new_hash {
        let by = match actor.id == current.id {
            true => ChosenBy::Owner,
            false => ChosenBy::Admin,
        };
        passwords::set(&mut m, current, h, by, now);
    }
    if let Some(addr) = &a.email {
        let addr = normalize_email(addr);
        if addr != current.email {
            // The address may be one of the user's own secondary ones: it becomes the primary.
            email::Entity::delete_many()
                .filter(email::Column::UserId.eq(current.id))
                .filter(email::Column::EmailCanonical.eq(addr.as_str()))
                .filter(email::Column::IsPrimary.eq(false))
                .exec(&txn)
                .await?;
            email::Entity::update_many()
                .col_expr(email::Column::Email, Expr::value(addr.as_str()))
                .col_expr(email::Column::EmailCanonical, Expr::value(addr.as_str()))
                .filter(email::Column::UserId.eq(current.id))
                .filter(email::Column::IsPrimary.eq(true))
                .exec(&txn)
                .await?;
            // The old primary address is gone: it cannot stay the public one.
            if a.public_email.is_none() && current.public_email.as_deref() == Some(current.email.as_str()) {
                m.public_email = Set(None);
            }
            if a.commit_email.is_none() && current.commit_email.as_deref() == Some(current.email.as_str()) {
                m.commit_email = Set(None);
            }
            m.email = Set(addr);
        }
    }
    m.updated_at = Set(now);
    let updated = m.update(&txn).await?;
    if let (Some(p), Some(u)) = (&a.provider, &a.extern_uid) {
        let existing = identity::Entity::find()
            .filter(identity::Column::UserId.eq(current.id))
            .filter(identity::Column::Provider.eq(p.as_str()))
            .one(&txn)
            .await?;
        match existing {
            Some(i) => {
                let mut im: identity::ActiveModel = i.into();
                im.extern_uid = Set(u.clone());
                im.update(&txn).await?;
            }
            None => {
                identity::ActiveModel {
                    user_id: Set(current.id),
                    provider: Set(p.clone()),
                    extern_uid: Set(u.clone()),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a user and everything they own, in one transaction (admin only). Idempotent: an
/// unknown id gives `None`. Subscribers hear of it (DELETED, with the user as it was) once it
/// is committed.
pub async fn delete(
    db: &DatabaseConnection,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<Option<UserRow>> {
    policy::require_admin(viewer)?;
    let Some(u) = find_ref(db, r).await? else {
        return Ok(None);
    };
    let identities = identities_of(db, &[u.id]).await?;
    if super::retry_deadlocks(|| delete_rows_if(db, &u, None)).await? == 0 {
        return Ok(None);
    }
    changes.publish(db, Change::user_deleted(&u)).await;
    Ok(Some(UserRow::full(u).with_identities(identities)))
}

/// Locks user `id`'s row for the rest of the transaction `txn` (SQLite's write transaction
/// already holds the database's one write lock).
pub(crate) async fn lock_row(txn: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    if txn.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
        use sea_orm::QuerySelect;
        user::Entity::find_by_id(id)
            .select_only()
            .column(user::Column::Id)
            .lock_exclusive()
            .into_tuple::<i32>()
            .one(txn)
            .await?;
    }
    Ok(())
}

/// Deletes `u` and every row of theirs in one transaction (only while the user is in `state`,
/// when given); the number of users deleted (0 when someone else deleted them first, or moved
/// them out of `state`).
async fn delete_rows_if(db: &DatabaseConnection, u: &user::Model, state: Option<&str>) -> Result<u64, DbErr> {
    let txn = super::write_txn(db).await?;
    if let Some(state) = state {
        let q = user::Entity::find_by_id(u.id).filter(user::Column::State.eq(state));
        // (SQLite's write transaction already holds the database's one write lock.)
        let q = match txn.get_database_backend() {
            sea_orm::DatabaseBackend::Sqlite => q,
            _ => sea_orm::QuerySelect::lock_exclusive(q),
        };
        let still = q.one(&txn).await?;
        if still.is_none() {
            return Ok(0);
        }
    }
    // Mail not sent yet goes with the user: the links it carries must not reach anyone.
    crate::mail::outbox::cancel_for_user(&txn, u.id).await?;
    account_token::Entity::delete_many()
        .filter(account_token::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    token::Entity::delete_many()
        .filter(token::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    ssh_key::Entity::delete_many()
        .filter(ssh_key::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    entity::gpg_key::Entity::delete_many()
        .filter(entity::gpg_key::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    email::Entity::delete_many()
        .filter(email::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    identity::Entity::delete_many()
        .filter(identity::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    custom_attribute::Entity::delete_many()
        .filter(custom_attribute::Column::UserId.eq(u.id))
        .exec(&txn)
        .await?;
    event::Entity::delete_many()
        .filter(event::Column::AuthorId.eq(u.id))
        .exec(&txn)
        .await?;
    let res = u.clone().delete(&txn).await?;
    txn.commit().await?;
    Ok(res.rows_affected)
}

/// Unlinks a user from an external provider (admin only). `404 User Not Found`, then
/// `404 Identity Not Found`. Subscribers hear of it (UPDATED).
pub async fn delete_identity(
    db: &DatabaseConnection,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
    provider: &str,
) -> AppResult<UserRow> {
    policy::require_admin(viewer)?;
    let u = find(db, r).await?;
    let res = identity::Entity::delete_many()
        .filter(identity::Column::UserId.eq(u.id))
        .filter(identity::Column::Provider.eq(provider))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("Identity"));
    }
    changes.publish(db, Change::user(u.id, UserAction::Updated)).await;
    Ok(UserRow::full(u))
}

/// Turns a user's two-factor authentication off (admin only), as GitLab's API does: not for an
/// administrator (403), and 400 when it is not on. Subscribers hear of it (UPDATED).
pub async fn disable_two_factor(
    db: &DatabaseConnection,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<UserRow> {
    policy::require_admin(viewer)?;
    let mut u = find(db, r).await?;
    if u.admin {
        return Err(AppError::forbidden(
            "Two-factor authentication for admins cannot be disabled via the API. Use the Rails console",
        ));
    }
    // One conditional write: of concurrent requests, one turns it off and the others are told
    // it is not on.
    let res = user::Entity::update_many()
        .col_expr(user::Column::TwoFactorEnabled, Expr::value(false))
        .filter(user::Column::Id.eq(u.id))
        .filter(user::Column::TwoFactorEnabled.eq(true))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::BadRequest(
            "400 Bad request - Two-factor authentication is not enabled for this user".into(),
        ));
    }
    changes.publish(db, Change::user(u.id, UserAction::Updated)).await;
    u.two_factor_enabled = false;
    Ok(UserRow::full(u))
}

/// Blocks a user (admin only): `true` when the state changed, `false` when already blocked in
/// any way (blocked, banned, pending approval). Subscribers hear of a change (BLOCKED).
pub async fn block(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<(bool, UserRow)> {
    let admin = policy::require_admin(viewer)?.clone();
    let u = find(db, r).await?;
    match u.state.as_str() {
        states::LDAP_BLOCKED => Err(AppError::forbidden("LDAP blocked users cannot be modified by the API")),
        s if states::is_blocked(s) => Ok((false, UserRow::full(u))),
        _ if u.id == admin.id => Err(AppError::forbidden(
            "The API initiating user cannot be blocked by the API",
        )),
        _ => {
            moved(
                db,
                changes,
                viewer,
                r,
                &u,
                &[states::ACTIVE, states::DEACTIVATED],
                states::BLOCKED,
                UserAction::Blocked,
            )
            .await
        }
    }
}

/// Unblocks a user (admin only): `true` when the state changed (a blocked, banned or pending
/// account becomes active), `false` when it was active. Subscribers hear of a change (UNBLOCKED).
pub async fn unblock(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<(bool, UserRow)> {
    policy::require_admin(viewer)?;
    let u = find(db, r).await?;
    match u.state.as_str() {
        states::LDAP_BLOCKED => Err(AppError::forbidden("LDAP blocked users cannot be unblocked by the API")),
        states::DEACTIVATED => Err(AppError::forbidden("Deactivated users cannot be unblocked by the API")),
        s if states::is_blocked(s) => {
            let from = [states::BLOCKED, states::BANNED, states::PENDING];
            moved(db, changes, viewer, r, &u, &from, states::ACTIVE, UserAction::Unblocked).await
        }
        _ => Ok((false, UserRow::full(u))),
    }
}

/// How long an account must have been inactive to be deactivated.
pub const DORMANT_DAYS: i64 = 90;

/// Deactivates a dormant user (admin only): `true` when the state changed, `false` when already
/// deactivated. Not a blocked user, nor one active (signed in or seen) in the last 90 days.
/// Signing in again reactivates the account. Subscribers hear of it (DEACTIVATED).
pub async fn deactivate(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<(bool, UserRow)> {
    policy::require_admin(viewer)?;
    let u = find(db, r).await?;
    if u.state == states::DEACTIVATED {
        return Ok((false, UserRow::full(u)));
    }
    if states::is_blocked(&u.state) {
        return Err(AppError::Denied(
            "Error occurred. A blocked user cannot be deactivated".into(),
        ));
    }
    let since = time::now() - chrono::Duration::days(DORMANT_DAYS);
    let seen = u
        .last_activity_on
        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    if [seen, u.current_sign_in_at].into_iter().flatten().any(|t| t > since) {
        return Err(AppError::Denied(format!(
            "The user you are trying to deactivate has been active in the past {DORMANT_DAYS} days and cannot be \
             deactivated"
        )));
    }
    moved(
        db,
        changes,
        viewer,
        r,
        &u,
        &[states::ACTIVE],
        states::DEACTIVATED,
        UserAction::Deactivated,
    )
    .await
}

/// Activates a deactivated user (admin only): `true` when the state changed, `false` when it was
/// active; a blocked user must be unblocked instead. Subscribers hear of it (ACTIVATED).
pub async fn activate(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<(bool, UserRow)> {
    policy::require_admin(viewer)?;
    let u = find(db, r).await?;
    if states::is_blocked(&u.state) {
        return Err(AppError::Denied(
            "Error occurred. A blocked user must be unblocked to be activated".into(),
        ));
    }
    if u.state == states::ACTIVE {
        return Ok((false, UserRow::full(u)));
    }
    moved(
        db,
        changes,
        viewer,
        r,
        &u,
        &[states::DEACTIVATED],
        states::ACTIVE,
        UserAction::Activated,
    )
    .await
}

/// Bans an active user (admin only); only active users can be banned. Subscribers hear of it
/// (BANNED).
pub async fn ban(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<(bool, UserRow)> {
    let admin = policy::require_admin(viewer)?.clone();
    let u = find(db, r).await?;
    if u.state != states::ACTIVE {
        return Err(AppError::Denied(format!(
            "You cannot ban {} users.",
            states::human(&u.state)
        )));
    }
    if u.id == admin.id {
        return Err(AppError::forbidden(
            "The API initiating user cannot be banned by the API",
        ));
    }
    moved(
        db,
        changes,
        viewer,
        r,
        &u,
        &[states::ACTIVE],
        states::BANNED,
        UserAction::Banned,
    )
    .await
}

/// Lifts a ban (admin only); only banned users can be unbanned. Subscribers hear of it (UNBANNED).
pub async fn unban(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<(bool, UserRow)> {
    policy::require_admin(viewer)?;
    let u = find(db, r).await?;
    if u.state != states::BANNED {
        return Err(AppError::Denied(format!(
            "You cannot unban {} users.",
            states::human(&u.state)
        )));
    }
    moved(
        db,
        changes,
        viewer,
        r,
        &u,
        &[states::BANNED],
        states::ACTIVE,
        UserAction::Unbanned,
    )
    .await
}

/// Approves a user who signed up and waits for approval (admin only): the account becomes active.
/// Subscribers hear of it (APPROVED).
pub async fn approve(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
) -> AppResult<UserRow> {
    viewer.user()?;
    if !policy::sees_admin_view(viewer) {
        return Err(AppError::Denied("You are not allowed to approve a user".into()));
    }
    let u = find(db, r).await?;
    let not_pending = || AppError::Conflict {
        field: "state",
        message: "The user you are trying to approve is not pending approval".into(),
    };
    if u.state != states::PENDING {
        return Err(not_pending());
    }
    match moved(
        db,
        changes,
        viewer,
        r,
        &u,
        &[states::PENDING],
        states::ACTIVE,
        UserAction::Approved,
    )
    .await?
    {
        (true, row) => Ok(row),
        (false, _) => Err(not_pending()),
    }
}

/// Rejects a user who signed up and waits for approval (admin only): the account is deleted, and
/// the person is told by mail. Subscribers hear of it (DELETED).
pub async fn reject(st: &AppState, viewer: &Viewer, r: &UserRef) -> AppResult<UserRow> {
    let db = &st.db;
    viewer.user()?;
    if !policy::sees_admin_view(viewer) {
        return Err(AppError::Denied("You are not allowed to reject a user".into()));
    }
    let u = find(db, r).await?;
    let not_pending = || AppError::Conflict {
        field: "state",
        message: "User does not have a pending request".into(),
    };
    if u.state != states::PENDING {
        return Err(not_pending());
    }
    // The deletion only while the account still waits: of concurrent requests one deletes it.
    if super::retry_deadlocks(|| delete_rows_if(db, &u, Some(states::PENDING))).await? == 0 {
        return Err(not_pending());
    }
    let params = crate::mail::templates::Params {
        name: u.name.clone(),
        username: u.username.clone(),
        email: u.email.clone(),
        ..Default::default()
    };
    crate::mail::outbox::enqueue(db, &st.keys.sealer, None, &u.email, Template::SignUpRejected, &params).await?;
    st.mail.wake();
    st.changes.publish(db, Change::user_deleted(&u)).await;
    Ok(UserRow::full(u))
}

/// Moves `u` (named by `r`) from one of `from` to `to` in one conditional write and tells
/// subscribers (`action`); `false` with the user as read again when another request moved it
/// first. Every move out of `active` ends the user's sessions and mailed links.
#[allow(clippy::too_many_arguments)]
async fn moved(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    r: &UserRef,
    u: &user::Model,
    from: &[&str],
    to: &str,
    action: UserAction,
) -> AppResult<(bool, UserRow)> {
    let bump = to != states::ACTIVE;
    match transition(db, u, from, to, bump).await? {
        Some(u) => {
            changes.publish(db, Change::user(u.id, action)).await;
            Ok((true, UserRow::full(u)))
        }
        None => Ok((false, get(db, viewer, r).await?)),
    }
}

/// Moves user `u` from one of the states `from` to `to` in one conditional statement (bumping
/// `auth_epoch` when asked: that ends its sessions and mailed links). `None` when the user was in
/// none of them any more: of concurrent requests exactly one changes the state and reports it.
pub(crate) async fn transition(
    db: &impl ConnectionTrait,
    u: &user::Model,
    from: &[&str],
    to: &str,
    bump_epoch: bool,
) -> AppResult<Option<user::Model>> {
    let mut q = user::Entity::update_many()
        .col_expr(user::Column::State, Expr::value(to))
        .col_expr(user::Column::UpdatedAt, Expr::value(time::now()))
        .filter(user::Column::Id.eq(u.id))
        .filter(user::Column::State.is_in(from.iter().copied()));
    if bump_epoch {
        q = q.col_expr(user::Column::AuthEpoch, Expr::col(user::Column::AuthEpoch).add(1));
    }
    if q.exec(db).await?.rows_affected == 0 {
        return Ok(None);
    }
    Ok(user::Entity::find_by_id(u.id).one(db).await?)
}

/// On an empty database: the `root` administrator and a first admin token (scopes api,
/// read_user, sudo). Returns the token when one was created. Safe to race between instances.
pub async fn bootstrap_root(
    db: &DatabaseConnection,
    keys: &Keys,
    token_value: Option<String>,
) -> AppResult<Option<String>> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let hash = password::hash(tok::generate("root-")).await?;
    let input = CreateUser {
        attrs: UserAttrs {
            email: Some("admin@example.com".into()),
            username: Some("root".into()),
            name: Some("Administrator".into()),
            admin: Some(true),
            ..Default::default()
        },
        reset_password: true,
        skip_confirmation: true,
    };
    let root = match insert_user(db, keys, None, &input, hash, states::ACTIVE, false).await {
        Ok(u) => u,
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let value = token_value.unwrap_or_else(|| tok::generate(tok::PAT_PREFIX));
    token::ActiveModel {
        user_id: Set(root.id),
        kind: Set("personal".into()),
        name: Set("root bootstrap token".into()),
        token_digest: Set(tok::digest(&value)),
        token_encrypted: Set(None),
        scopes: Set("api read_user sudo".into()),
        expires_at: Set(None),
        revoked: Set(false),
        last_used_at: Set(None),
        created_at: Set(time::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_refs() {
        assert_eq!(UserRef::parse("42"), UserRef::Id(42));
        assert_eq!(UserRef::parse("root"), UserRef::Username("root".into()));
        assert_eq!(UserRef::parse("+42"), UserRef::Username("+42".into()));
        assert_eq!(UserRef::parse("99999999999"), UserRef::Username("99999999999".into()));
    }
}
