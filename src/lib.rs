//! usergraph: a GraphQL server for a GitLab-style user domain, with a compatibility router that
//! serves GitLab's `/api/v4` REST paths from the same domain logic.
//!
//! [`app`] builds the axum router; [`init`] connects, migrates and bootstraps. `main.rs` and the
//! tests build on these two only.

pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod files;
pub mod graphql;
pub mod http;
pub mod logging;
pub mod mail;
pub mod metrics;
#[cfg(test)]
mod prop_tests;
pub mod rest;
pub mod seed;
pub mod server;
pub mod sqlite_mem;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use state::AppState;

use migration::Migrator;
use sea_orm_migration::sea_orm;

/// Opens the pool. SQLite files get WAL; the parent directory is created when missing (0700),
/// and the database file is created 0600 (SQLite gives its -wal and -shm files the same mode), so
/// other local users read neither the data nor what deleted rows left behind.
pub async fn connect(cfg: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = cfg.database_url();
    if let Some(path) = url.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p)) {
        files::private_file(std::path::Path::new(path))?;
    }
    let sqlite = url.starts_with("sqlite:");
    if sqlite {
        sqlite_mem::configure();
    }
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(cfg.db_max_connections.unwrap_or(if sqlite { 4 } else { 16 }))
        .min_connections(1)
        // A request waits this long for a connection, then answers 503 (AppError::Unavailable):
        // with the database gone every request answers at once instead of queueing.
        .acquire_timeout(Duration::from_millis(cfg.db_acquire_timeout_ms.max(1)))
        // sqlx tests a connection when it is returned to the pool; testing it again when it is
        // taken (its default) is one more round trip per statement. Only a connection idle for a
        // second or more is tested first (as HikariCP does after 500 ms): under load connections
        // come back within milliseconds, and a quiet pool still finds out that the server went
        // away before a request does. A server restart can still fail the first statement of
        // each connection used in the second before it.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        .sqlx_logging(false)
        // SQLite keeps a page cache per connection (2 MiB by default); 1 MiB each keeps a full
        // pool well inside the memory budget while hot pages stay cached by the OS.
        // secure_delete: deleted and overwritten content is zeroed in the file, not left in free
        // pages (a cleared outbox row, a deleted token).
        .map_sqlx_sqlite_opts(|o| o.pragma("cache_size", "-1024").pragma("secure_delete", "ON"));
    let db = Database::connect(opts).await?;
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// The longest statement text a log line carries.
pub const LOGGED_SQL_CHARS: usize = 1_000;

/// A statement as a log line shows it: cut to [`LOGGED_SQL_CHARS`] characters, saying how long
/// it was (a batch of 500 placeholders would otherwise fill every slow-statement line).
pub fn loggable_sql(sql: &str) -> std::borrow::Cow<'_, str> {
    match sql.char_indices().nth(LOGGED_SQL_CHARS) {
        None => std::borrow::Cow::Borrowed(sql),
        Some((cut, _)) => {
            std::borrow::Cow::Owned(format!("{}… ({} characters in all)", &sql[..cut], sql.chars().count()))
        }
    }
}

/// Connects, migrates (when configured), derives keys, creates the root administrator on an
/// empty database and starts the change bus (on PostgreSQL, a listener task that lives as long
/// as the returned state). Returns the state and, on first start, the root token to show once.
pub async fn init(cfg: Config) -> anyhow::Result<(AppState, Option<String>)> {
    let mut db = connect(&cfg).await?;
    let metrics = Arc::new(metrics::Metrics::default());
    let hook = metrics.clone();
    let slow = Duration::from_millis(cfg.slow_query_ms);
    db.set_metric_callback(move |info| {
        if hook.record_statement(info.elapsed, slow) {
            let sql = loggable_sql(&info.statement.sql);
            tracing::warn!(elapsed_ms = info.elapsed.as_millis() as u64, sql = %sql, "slow SQL statement");
        }
    });
    if cfg.auto_migrate {
        Migrator::up(&db, None).await?;
    }
    let secret = auth::secret::load_or_create(cfg.secret.as_deref(), &cfg.data_dir)?;
    let keys = auth::Keys::from_secret(&secret)?;
    let root = domain::users::bootstrap_root(&db, &keys, cfg.root_token.clone())
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap of the root user failed: {e:?}"))?;
    // On PostgreSQL this LISTENs before returning: no change committed from now on is missed.
    let changes = domain::changes::ChangeBus::start(&db)
        .await
        .map_err(|e| anyhow::anyhow!("starting the change listener failed: {e}"))?;
    Ok((
        AppState {
            db,
            keys: Arc::new(keys),
            signin: Arc::new(domain::limits::SignInLimiter::new(cfg.signin_per_minute)),
            cfg: Arc::new(cfg),
            metrics,
            changes,
            mail: mail::outbox::Wake::default(),
        },
        root,
    ))
}

async fn metrics_text(State(st): State<AppState>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        st.metrics.render(&st.db),
    )
}

async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Answers within [`READY_WITHIN`]: 200 while the database answers, else 503.
async fn readyz(State(st): State<AppState>) -> impl IntoResponse {
    let outcome = match tokio::time::timeout(READY_WITHIN, st.db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer in time".to_string()),
    };
    match outcome {
        Ok(()) => (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ok" }))).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let mut res = (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "database unavailable" })),
            )
                .into_response();
            error::retry_later(res.headers_mut());
            res
        }
    }
}

/// How long `/readyz` waits for the database.
const READY_WITHIN: Duration = Duration::from_millis(900);

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let mut schema = graphql::schema::schema_builder(&state.cfg).data(state.clone());
    if !state.cfg.graphql_fast_path {
        schema = schema.data(graphql::fast::SlowPathOnly);
    }
    let schema = schema.finish();
    let cfg = state.cfg.clone();
    let metrics = state.metrics.clone();
    let graphql = Router::new()
        .route(
            "/graphql",
            get(graphql::handler::graphql).post(graphql::handler::graphql),
        )
        .route(
            "/api/graphql",
            get(graphql::handler::graphql).post(graphql::handler::graphql),
        )
        .route("/graphql/ws", get(graphql::ws::upgrade))
        .route("/api/graphql/ws", get(graphql::ws::upgrade))
        .with_state(graphql::handler::GraphqlState {
            app: state.clone(),
            schema,
            queries: Arc::new(graphql::cache::QueryCache::new(32 << 20)),
        });
    let routes = Router::new()
        .merge(graphql)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route(
            &format!("{}/{{hash}}/{{file}}", graphql::playground::ASSET_ROOT),
            get(graphql::playground::asset),
        )
        .nest("/api/v4", rest::router())
        .merge(mail::web::router())
        .fallback(rest::not_found)
        .with_state(state);
    harden(routes, &cfg, metrics)
}

/// The layers every route gets: request ids, tracing, metrics, panics as JSON 500s, CORS, a
/// timeout and a body limit. Public so tests can wrap a router of their own the same way.
pub fn harden(routes: Router, cfg: &Config, metrics: Arc<metrics::Metrics>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    routes
        .layer(RequestBodyLimitLayer::new(cfg.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(cfg.request_timeout_secs),
        ))
        .layer(axum::middleware::from_fn(http::catch_panics))
        .layer(axum::middleware::from_fn_with_state(metrics, http::track))
        .layer(CorsLayer::permissive().expose_headers(rest::pagination::EXPOSED_HEADERS.map(HeaderName::from_static)))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    /// SQLite pools 4 connections unless told otherwise (each is a thread of its own; more only
    /// contend for the cores); the option still wins.
    #[tokio::test]
    async fn sqlite_pool_size() {
        let size = |db: &DatabaseConnection| db.get_sqlite_connection_pool().options().get_max_connections();
        let mut cfg = Config::for_database("sqlite::memory:");
        assert_eq!(size(&connect(&cfg).await.unwrap()), 4);
        cfg.db_max_connections = Some(7);
        assert_eq!(size(&connect(&cfg).await.unwrap()), 7);
    }
}

#[cfg(test)]
mod log_tests {
    use super::*;

    #[test]
    fn long_statements_are_cut_in_logs() {
        assert_eq!(loggable_sql("SELECT 1"), "SELECT 1");
        let many: Vec<String> = (1..=500).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT id FROM users WHERE username_canonical IN ({})", many.join(", "));
        let cut = loggable_sql(&sql);
        assert!(cut.chars().count() < LOGGED_SQL_CHARS + 40, "{cut}");
        assert!(cut.starts_with("SELECT id FROM users WHERE username_canonical IN ($1, $2"));
        assert!(cut.ends_with(&format!("… ({} characters in all)", sql.len())), "{cut}");
        // Never in the middle of a character.
        let wide = "é".repeat(LOGGED_SQL_CHARS + 5);
        assert!(loggable_sql(&wide).starts_with(&"é".repeat(LOGGED_SQL_CHARS)));
    }
}
