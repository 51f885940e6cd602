//! The benchmark's floor: the four requests of `bench/run.sh` answered by hand over the tables
//! usergraph creates, with the least SQL and no GraphQL engine, ORM or cache.
//!
//! - `POST /graphql`, the users page: users LIMIT 100, then identities, SSH keys and secondary
//!   e-mails of those ids (4 queries); the single user (`user(id:` in the query): 4 queries.
//! - `GET /api/v4/users?per_page=N`: users page, their identities, `COUNT(*)` (3 queries).
//! - `GET /api/v4/users/:id`: the user and their identities (2 queries).
//!
//! Every request first looks its token up by digest (one more query), as usergraph does.
//!
//! With `--one-statement` (PostgreSQL only) the single user is instead one statement that checks
//! the token and has PostgreSQL build the whole JSON answer, which is passed through unread: one
//! round trip and no decoding or serialising in Rust. It is the least a server that authenticates
//! and reads the database for every request can do, and the benchmark measures it on (b) to show
//! what any such server can reach on this machine.
//!
//! Usage: `usergraph-baseline --database-url URL --bind ADDR [--db-max-connections N] [--one-statement]`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{FromRow, Row};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One statement in the dialect of each backend.
struct Sql {
    pg: &'static str,
    lite: &'static str,
}

macro_rules! sql {
    ($pg:expr, $lite:expr) => {
        Sql { pg: $pg, lite: $lite }
    };
}

// Users: the GraphQL columns only, or every column of GitLab's admin representation.
const GQL_USERS_PAGE: Sql = sql!(
    "SELECT id, username, name, state, email FROM users ORDER BY id LIMIT $1",
    "SELECT id, username, name, state, email FROM users ORDER BY id LIMIT ?"
);
const GQL_USER: Sql = sql!(
    "SELECT id, username, name, state, email FROM users WHERE id = $1",
    "SELECT id, username, name, state, email FROM users WHERE id = ?"
);
const REST_USERS_PAGE: Sql = sql!(
    "SELECT id, username, email, name, state, admin, bio, location, skype, linkedin, twitter, website_url, \
     organization, projects_limit, can_create_group, external, two_factor_enabled, color_scheme_id, created_at, \
     confirmed_at, last_sign_in_at, current_sign_in_at, last_activity_on FROM users ORDER BY id LIMIT $1 OFFSET $2",
    "SELECT id, username, email, name, state, admin, bio, location, skype, linkedin, twitter, website_url, \
     organization, projects_limit, can_create_group, external, two_factor_enabled, color_scheme_id, created_at, \
     confirmed_at, last_sign_in_at, current_sign_in_at, last_activity_on FROM users ORDER BY id LIMIT ? OFFSET ?"
);
const REST_USER: Sql = sql!(
    "SELECT id, username, email, name, state, admin, bio, location, skype, linkedin, twitter, website_url, \
     organization, projects_limit, can_create_group, external, two_factor_enabled, color_scheme_id, created_at, \
     confirmed_at, last_sign_in_at, current_sign_in_at, last_activity_on FROM users WHERE id = $1",
    "SELECT id, username, email, name, state, admin, bio, location, skype, linkedin, twitter, website_url, \
     organization, projects_limit, can_create_group, external, two_factor_enabled, color_scheme_id, created_at, \
     confirmed_at, last_sign_in_at, current_sign_in_at, last_activity_on FROM users WHERE id = ?"
);
// Authentication: the caller's token, by its SHA-256 digest, with its user (as usergraph stores it).
const AUTH: Sql = sql!(
    "SELECT u.id FROM tokens t JOIN users u ON u.id = t.user_id \
     WHERE t.token_digest = $1 AND t.revoked = false AND u.state = 'active'",
    "SELECT u.id FROM tokens t JOIN users u ON u.id = t.user_id \
     WHERE t.token_digest = ? AND t.revoked = 0 AND u.state = 'active'"
);
/// The single user of GraphQL (b) as one PostgreSQL statement (`--one-statement`): no row when
/// the token ($1, a digest) is not valid, else the whole response body as text (`user: null` for
/// an unknown id $2). `json` keeps the keys in the order written.
const GQL_USER_ONE_STATEMENT_PG: &str = "\
SELECT json_build_object('data', json_build_object('user', (
  SELECT json_build_object(
    'id', u.id::text, 'username', u.username, 'name', u.name, 'state', u.state, 'email', u.email,
    'identities', COALESCE((SELECT json_agg(json_build_object('provider', i.provider, 'externUid', i.extern_uid)
                                            ORDER BY i.id)
                            FROM identities i WHERE i.user_id = u.id), '[]'::json),
    'keys', json_build_object('nodes', COALESCE((SELECT json_agg(json_build_object('id', k.id::text, 'title', k.title,
                                                                                 'key', k.key) ORDER BY k.id)
                                                 FROM ssh_keys k WHERE k.user_id = u.id), '[]'::json)),
    'emails', json_build_object('nodes', COALESCE((SELECT json_agg(json_build_object('id', e.id::text, 'email', e.email)
                                                                   ORDER BY e.id)
                                                   FROM emails e WHERE e.user_id = u.id AND e.is_primary = false),
                                                  '[]'::json)))
  FROM users u WHERE u.id = $2)))::text
WHERE EXISTS (SELECT 1 FROM tokens t JOIN users a ON a.id = t.user_id
              WHERE t.token_digest = $1 AND t.revoked = false AND a.state = 'active')";
const USERS_COUNT: Sql = sql!("SELECT COUNT(*) FROM users", "SELECT COUNT(*) FROM users");

// Children of a set of users (PostgreSQL: an array; SQLite: a JSON array) or of one user.
const IDENTITIES_OF: Sql = sql!(
    "SELECT user_id, provider, extern_uid FROM identities WHERE user_id = ANY($1) ORDER BY id",
    "SELECT user_id, provider, extern_uid FROM identities WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY id"
);
const IDENTITIES_OF_ONE: Sql = sql!(
    "SELECT user_id, provider, extern_uid FROM identities WHERE user_id = $1 ORDER BY id",
    "SELECT user_id, provider, extern_uid FROM identities WHERE user_id = ? ORDER BY id"
);
const KEYS_OF: Sql = sql!(
    "SELECT id, user_id, title, key FROM ssh_keys WHERE user_id = ANY($1) ORDER BY id",
    "SELECT id, user_id, title, key FROM ssh_keys WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY id"
);
const KEYS_OF_ONE: Sql = sql!(
    "SELECT id, user_id, title, key FROM ssh_keys WHERE user_id = $1 ORDER BY id",
    "SELECT id, user_id, title, key FROM ssh_keys WHERE user_id = ? ORDER BY id"
);
const EMAILS_OF: Sql = sql!(
    "SELECT id, user_id, email FROM emails WHERE user_id = ANY($1) AND is_primary = false ORDER BY id",
    "SELECT id, user_id, email FROM emails WHERE user_id IN (SELECT value FROM json_each(?)) AND is_primary = 0 \
     ORDER BY id"
);
const EMAILS_OF_ONE: Sql = sql!(
    "SELECT id, user_id, email FROM emails WHERE user_id = $1 AND is_primary = false ORDER BY id",
    "SELECT id, user_id, email FROM emails WHERE user_id = ? AND is_primary = 0 ORDER BY id"
);

// ---------------------------------------------------------------------------------------------
// Rows

#[derive(FromRow)]
struct GqlUserRow {
    id: i32,
    username: String,
    name: String,
    state: String,
    email: String,
}

#[derive(FromRow)]
struct FullUserRow {
    id: i32,
    username: String,
    email: String,
    name: String,
    state: String,
    admin: bool,
    bio: Option<String>,
    location: Option<String>,
    skype: String,
    linkedin: String,
    twitter: String,
    website_url: String,
    organization: String,
    projects_limit: i32,
    can_create_group: bool,
    external: bool,
    two_factor_enabled: bool,
    color_scheme_id: i32,
    created_at: DateTime<Utc>,
    confirmed_at: Option<DateTime<Utc>>,
    last_sign_in_at: Option<DateTime<Utc>>,
    current_sign_in_at: Option<DateTime<Utc>>,
    last_activity_on: Option<NaiveDate>,
}

#[derive(FromRow)]
struct IdentityRow {
    user_id: i32,
    provider: String,
    extern_uid: String,
}

#[derive(FromRow)]
struct KeyRow {
    id: i32,
    user_id: i32,
    title: String,
    key: String,
}

#[derive(FromRow)]
struct EmailRow {
    id: i32,
    user_id: i32,
    email: String,
}

trait UserOf {
    fn user_id(&self) -> i32;
}

impl UserOf for IdentityRow {
    fn user_id(&self) -> i32 {
        self.user_id
    }
}

impl UserOf for KeyRow {
    fn user_id(&self) -> i32 {
        self.user_id
    }
}

impl UserOf for EmailRow {
    fn user_id(&self) -> i32 {
        self.user_id
    }
}

fn group<T: UserOf>(rows: Vec<T>) -> HashMap<i32, Vec<T>> {
    let mut map: HashMap<i32, Vec<T>> = HashMap::new();
    for r in rows {
        map.entry(r.user_id()).or_default().push(r);
    }
    map
}

// ---------------------------------------------------------------------------------------------
// Database

#[derive(Clone)]
enum Db {
    Pg(PgPool),
    Lite(SqlitePool),
}

/// A row type that decodes from both backends.
trait AnyRow: Send + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> {}
impl<T: Send + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow>> AnyRow for T {}

impl Db {
    async fn connect(url: &str, max: u32) -> Result<Db, sqlx::Error> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Db::Pg(PgPoolOptions::new().max_connections(max).connect(url).await?))
        } else {
            let opts = SqliteConnectOptions::from_str(url)?;
            Ok(Db::Lite(
                SqlitePoolOptions::new().max_connections(max).connect_with(opts).await?,
            ))
        }
    }

    /// The first `limit` rows after `offset` of a page query.
    async fn page<T: AnyRow>(&self, sql: &Sql, limit: i64, offset: i64) -> sqlx::Result<Vec<T>> {
        match self {
            Db::Pg(p) => sqlx::query_as(sql.pg).bind(limit).bind(offset).fetch_all(p).await,
            Db::Lite(p) => sqlx::query_as(sql.lite).bind(limit).bind(offset).fetch_all(p).await,
        }
    }

    /// The first `limit` rows of a page query without offset.
    async fn first<T: AnyRow>(&self, sql: &Sql, limit: i64) -> sqlx::Result<Vec<T>> {
        match self {
            Db::Pg(p) => sqlx::query_as(sql.pg).bind(limit).fetch_all(p).await,
            Db::Lite(p) => sqlx::query_as(sql.lite).bind(limit).fetch_all(p).await,
        }
    }

    /// Rows selected by one id (a user, or the children of one user).
    async fn by_id<T: AnyRow>(&self, sql: &Sql, id: i32) -> sqlx::Result<Vec<T>> {
        match self {
            Db::Pg(p) => sqlx::query_as(sql.pg).bind(id).fetch_all(p).await,
            Db::Lite(p) => sqlx::query_as(sql.lite).bind(id).fetch_all(p).await,
        }
    }

    /// Children of several users.
    async fn of<T: AnyRow>(&self, sql: &Sql, ids: &[i32]) -> sqlx::Result<Vec<T>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Db::Pg(p) => sqlx::query_as(sql.pg).bind(ids).fetch_all(p).await,
            Db::Lite(p) => {
                let json = serde_json::to_string(ids).unwrap_or_default();
                sqlx::query_as(sql.lite).bind(json).fetch_all(p).await
            }
        }
    }

    async fn count(&self, sql: &Sql) -> sqlx::Result<i64> {
        match self {
            Db::Pg(p) => sqlx::query(sql.pg).fetch_one(p).await?.try_get(0),
            Db::Lite(p) => sqlx::query(sql.lite).fetch_one(p).await?.try_get(0),
        }
    }
}

struct App {
    db: Db,
    /// The base of `web_url`, as usergraph's external URL: `http://<bind>`.
    base: String,
}

type Shared = State<Arc<App>>;

fn internal(e: sqlx::Error) -> Response {
    eprintln!("database error: {e}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({ "message": "500 Internal Server Error" })),
    )
        .into_response()
}

fn json<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// GraphQL: the two benchmarked operations, recognised by `user(id:` in the query.

#[derive(Deserialize)]
struct GqlRequest {
    query: String,
    #[serde(default)]
    variables: Option<GqlVariables>,
}

#[derive(Deserialize)]
struct GqlVariables {
    id: Option<String>,
}

#[derive(Serialize)]
struct GqlIdentity {
    provider: String,
    #[serde(rename = "externUid")]
    extern_uid: String,
}

#[derive(Serialize)]
struct GqlKey {
    id: String,
    title: String,
    key: String,
}

#[derive(Serialize)]
struct GqlEmail {
    id: String,
    email: String,
}

#[derive(Serialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Serialize)]
struct GqlUser {
    id: String,
    username: String,
    name: String,
    state: String,
    email: String,
    identities: Vec<GqlIdentity>,
    keys: Nodes<GqlKey>,
    emails: Nodes<GqlEmail>,
}

impl GqlUser {
    fn new(u: GqlUserRow, identities: Vec<IdentityRow>, keys: Vec<KeyRow>, emails: Vec<EmailRow>) -> GqlUser {
        GqlUser {
            id: u.id.to_string(),
            username: u.username,
            name: u.name,
            state: u.state,
            email: u.email,
            identities: identities
                .into_iter()
                .map(|i| GqlIdentity {
                    provider: i.provider,
                    extern_uid: i.extern_uid,
                })
                .collect(),
            keys: Nodes {
                nodes: keys
                    .into_iter()
                    .map(|k| GqlKey {
                        id: k.id.to_string(),
                        title: k.title,
                        key: k.key,
                    })
                    .collect(),
            },
            emails: Nodes {
                nodes: emails
                    .into_iter()
                    .map(|e| GqlEmail {
                        id: e.id.to_string(),
                        email: e.email,
                    })
                    .collect(),
            },
        }
    }
}

#[derive(Serialize)]
struct UsersData {
    users: Nodes<GqlUser>,
}

#[derive(Serialize)]
struct UserData {
    user: Option<GqlUser>,
}

#[derive(Serialize)]
struct GqlResponse<T> {
    data: T,
}

async fn graphql(State(app): Shared, body: axum::body::Bytes) -> Response {
    answer_graphql(&app, &body).await
}

async fn answer_graphql(app: &App, body: &[u8]) -> Response {
    let req: GqlRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(_) => {
            let err = serde_json::json!({ "errors": [{ "message": "invalid request body" }] });
            return (StatusCode::BAD_REQUEST, axum::Json(err)).into_response();
        }
    };
    let result = if req.query.contains("user(id:") {
        let id = req
            .variables
            .and_then(|v| v.id)
            .and_then(|s| s.parse::<i32>().ok())
            .unwrap_or(0);
        gql_user(&app.db, id).await.map(|user| {
            json(&GqlResponse {
                data: UserData { user },
            })
        })
    } else {
        gql_users(&app.db).await.map(|nodes| {
            json(&GqlResponse {
                data: UsersData { users: Nodes { nodes } },
            })
        })
    };
    result.unwrap_or_else(internal)
}

async fn gql_users(db: &Db) -> sqlx::Result<Vec<GqlUser>> {
    let users: Vec<GqlUserRow> = db.first(&GQL_USERS_PAGE, 100).await?;
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let mut identities = group(db.of::<IdentityRow>(&IDENTITIES_OF, &ids).await?);
    let mut keys = group(db.of::<KeyRow>(&KEYS_OF, &ids).await?);
    let mut emails = group(db.of::<EmailRow>(&EMAILS_OF, &ids).await?);
    Ok(users
        .into_iter()
        .map(|u| {
            let id = u.id;
            GqlUser::new(
                u,
                identities.remove(&id).unwrap_or_default(),
                keys.remove(&id).unwrap_or_default(),
                emails.remove(&id).unwrap_or_default(),
            )
        })
        .collect())
}

async fn gql_user(db: &Db, id: i32) -> sqlx::Result<Option<GqlUser>> {
    let Some(user) = db.by_id::<GqlUserRow>(&GQL_USER, id).await?.pop() else {
        return Ok(None);
    };
    let identities = db.by_id(&IDENTITIES_OF_ONE, id).await?;
    let keys = db.by_id(&KEYS_OF_ONE, id).await?;
    let emails = db.by_id(&EMAILS_OF_ONE, id).await?;
    Ok(Some(GqlUser::new(user, identities, keys, emails)))
}

// ---------------------------------------------------------------------------------------------
// REST: GitLab's admin representation of users.

#[derive(Serialize)]
struct IdentityView {
    provider: String,
    extern_uid: String,
}

#[derive(Serialize)]
struct UserFull {
    id: i32,
    username: String,
    email: String,
    name: String,
    state: String,
    avatar_url: String,
    web_url: String,
    created_at: String,
    is_admin: bool,
    bio: Option<String>,
    location: Option<String>,
    skype: String,
    linkedin: String,
    twitter: String,
    website_url: String,
    organization: String,
    last_sign_in_at: Option<String>,
    confirmed_at: Option<String>,
    last_activity_on: Option<String>,
    color_scheme_id: i32,
    projects_limit: i32,
    current_sign_in_at: Option<String>,
    identities: Vec<IdentityView>,
    can_create_group: bool,
    can_create_project: bool,
    two_factor_enabled: bool,
    external: bool,
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// usergraph's avatar: a Gravatar identicon of the lowercased username (never a hash of the
/// private e-mail).
fn avatar_url(username: &str) -> String {
    use md5::{Digest, Md5};
    let hash = hex::encode(Md5::digest(username.to_lowercase().as_bytes()));
    format!("https://www.gravatar.com/avatar/{hash}?s=80&d=identicon")
}

impl UserFull {
    fn new(base: &str, u: FullUserRow, identities: Vec<IdentityRow>) -> UserFull {
        UserFull {
            id: u.id,
            avatar_url: avatar_url(&u.username),
            web_url: format!("{base}/{}", u.username),
            username: u.username,
            email: u.email,
            name: u.name,
            state: u.state,
            created_at: ts(u.created_at),
            is_admin: u.admin,
            bio: u.bio,
            location: u.location,
            skype: u.skype,
            linkedin: u.linkedin,
            twitter: u.twitter,
            website_url: u.website_url,
            organization: u.organization,
            last_sign_in_at: u.last_sign_in_at.map(ts),
            confirmed_at: u.confirmed_at.map(ts),
            last_activity_on: u.last_activity_on.map(|d| d.format("%Y-%m-%d").to_string()),
            color_scheme_id: u.color_scheme_id,
            projects_limit: u.projects_limit,
            current_sign_in_at: u.current_sign_in_at.map(ts),
            identities: identities
                .into_iter()
                .map(|i| IdentityView {
                    provider: i.provider,
                    extern_uid: i.extern_uid,
                })
                .collect(),
            can_create_group: u.can_create_group,
            can_create_project: u.projects_limit > 0,
            two_factor_enabled: u.two_factor_enabled,
            external: u.external,
        }
    }
}

#[derive(Deserialize)]
struct PageParams {
    page: Option<i64>,
    per_page: Option<i64>,
}

async fn rest_users(State(app): Shared, Query(p): Query<PageParams>) -> Response {
    let page = p.page.filter(|n| *n > 0).unwrap_or(1);
    let per_page = p.per_page.filter(|n| *n > 0).map(|n| n.min(100)).unwrap_or(20);
    let result = async {
        let users: Vec<FullUserRow> = app.db.page(&REST_USERS_PAGE, per_page, (page - 1) * per_page).await?;
        let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
        let mut identities = group(app.db.of::<IdentityRow>(&IDENTITIES_OF, &ids).await?);
        let total = app.db.count(&USERS_COUNT).await?;
        let views: Vec<UserFull> = users
            .into_iter()
            .map(|u| {
                let id = u.id;
                UserFull::new(&app.base, u, identities.remove(&id).unwrap_or_default())
            })
            .collect();
        Ok::<_, sqlx::Error>((views, total))
    }
    .await;
    match result {
        Ok((views, total)) => {
            let pages = ((total + per_page - 1) / per_page).max(1);
            let mut headers = HeaderMap::new();
            let num = |n: i64| HeaderValue::from(n);
            headers.insert("x-total", num(total));
            headers.insert("x-total-pages", num(pages));
            headers.insert("x-per-page", num(per_page));
            headers.insert("x-page", num(page));
            let next = if page < pages {
                num(page + 1)
            } else {
                HeaderValue::from_static("")
            };
            let prev = if page > 1 {
                num(page - 1)
            } else {
                HeaderValue::from_static("")
            };
            headers.insert("x-next-page", next);
            headers.insert("x-prev-page", prev);
            (headers, json(&views)).into_response()
        }
        Err(e) => internal(e),
    }
}

async fn rest_user(State(app): Shared, Path(id): Path<String>) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "message": "404 User Not Found" })),
        )
    };
    let Ok(id) = id.parse::<i32>() else {
        return not_found().into_response();
    };
    let result = async {
        let Some(user) = app.db.by_id::<FullUserRow>(&REST_USER, id).await?.pop() else {
            return Ok(None);
        };
        let identities = app.db.by_id(&IDENTITIES_OF_ONE, id).await?;
        Ok::<_, sqlx::Error>(Some(UserFull::new(&app.base, user, identities)))
    }
    .await;
    match result {
        Ok(Some(view)) => json(&view),
        Ok(None) => not_found().into_response(),
        Err(e) => internal(e),
    }
}

// ---------------------------------------------------------------------------------------------

struct Args {
    database_url: String,
    bind: SocketAddr,
    max_connections: u32,
    one_statement: bool,
}

fn usage() -> ! {
    eprintln!("usage: usergraph-baseline --database-url URL --bind ADDR [--db-max-connections N] [--one-statement]");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut database_url = std::env::var("DATABASE_URL").ok();
    let mut bind = "127.0.0.1:8090".to_string();
    let mut max_connections = 16;
    let mut one_statement = false;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg, None),
        };
        let mut value = || inline.clone().or_else(|| it.next()).unwrap_or_else(|| usage());
        match flag.as_str() {
            "--database-url" => database_url = Some(value()),
            "--bind" => bind = value(),
            "--db-max-connections" => max_connections = value().parse().unwrap_or_else(|_| usage()),
            "--one-statement" => one_statement = true,
            _ => usage(),
        }
    }
    Args {
        database_url: database_url.unwrap_or_else(|| usage()),
        bind: bind.parse().unwrap_or_else(|_| usage()),
        max_connections,
        one_statement,
    }
}

/// The SHA-256 digest of the request's token (`PRIVATE-TOKEN` or `Authorization: Bearer`).
fn token_digest(headers: &HeaderMap) -> Option<String> {
    let token = headers.get("private-token").and_then(|v| v.to_str().ok()).or_else(|| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
    })?;
    Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(token.as_bytes())))
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({ "message": "401 Unauthorized" })),
    )
        .into_response()
}

/// Whether a token digest belongs to a valid token of an active user: one statement.
async fn token_valid(db: &Db, digest: &str) -> sqlx::Result<bool> {
    match db {
        Db::Pg(p) => sqlx::query(AUTH.pg)
            .bind(digest)
            .fetch_optional(p)
            .await
            .map(|r| r.is_some()),
        Db::Lite(p) => sqlx::query(AUTH.lite)
            .bind(digest)
            .fetch_optional(p)
            .await
            .map(|r| r.is_some()),
    }
}

/// Every request must carry a valid token, looked up by digest in one statement — the least a
/// server that authenticates can do.
async fn authenticate(State(app): Shared, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let Some(digest) = token_digest(req.headers()) else {
        return unauthorized();
    };
    match token_valid(&app.db, &digest).await {
        Ok(true) => next.run(req).await,
        Ok(false) => unauthorized(),
        Err(e) => internal(e),
    }
}

/// `--one-statement`: the single user (b) checks the token and reads everything in one
/// statement whose text is the body; anything else takes the usual way, token first.
async fn graphql_one_statement(State(app): Shared, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(digest) = token_digest(&headers) else {
        return unauthorized();
    };
    let single = serde_json::from_slice::<GqlRequest>(&body)
        .ok()
        .filter(|r| r.query.contains("user(id:"))
        .map(|r| {
            r.variables
                .and_then(|v| v.id)
                .and_then(|s| s.parse::<i32>().ok())
                .unwrap_or(0)
        });
    match (single, &app.db) {
        (Some(id), Db::Pg(pool)) => {
            let text = sqlx::query_scalar::<_, String>(GQL_USER_ONE_STATEMENT_PG)
                .bind(&digest)
                .bind(id)
                .fetch_optional(pool)
                .await;
            match text {
                Ok(Some(body)) => (
                    [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                    body,
                )
                    .into_response(),
                Ok(None) => unauthorized(),
                Err(e) => internal(e),
            }
        }
        _ => match token_valid(&app.db, &digest).await {
            Ok(true) => answer_graphql(&app, &body).await,
            Ok(false) => unauthorized(),
            Err(e) => internal(e),
        },
    }
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args();
    let db = Db::connect(&args.database_url, args.max_connections).await?;
    let app = Arc::new(App {
        db,
        base: format!("http://{}", args.bind),
    });
    let rest = Router::new()
        .route("/api/v4/users", get(rest_users))
        .route("/api/v4/users/{id}", get(rest_user));
    let router = if args.one_statement {
        // The GraphQL handler checks the token itself (in the statement, for the single user).
        rest.layer(axum::middleware::from_fn_with_state(app.clone(), authenticate))
            .route("/graphql", post(graphql_one_statement))
    } else {
        rest.route("/graphql", post(graphql))
            .layer(axum::middleware::from_fn_with_state(app.clone(), authenticate))
    }
    .with_state(app);
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    eprintln!("usergraph-baseline listening on {}", listener.local_addr()?);
    axum::serve(listener, router).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}
