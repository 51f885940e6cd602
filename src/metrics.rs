//! Prometheus metrics, kept in the process with the Prometheus project's client
//! (`prometheus-client`): HTTP requests by route, method and status, latency histograms by route,
//! GraphQL operations by name, errors by code, SQL statements (slow ones are logged), and database
//! pool use. `GET /metrics` renders them in the OpenMetrics text format.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Distinct (operation name, kind) pairs counted by name; the rest are `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

fn is_graphql_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

/// Label values kept for the life of the process: routes of the router, error codes, the
/// bounded set of operation names. Each distinct text is stored once, so counting a request
/// allocates nothing.
#[derive(Default)]
struct Interned(RwLock<HashSet<&'static str>>);

impl Interned {
    fn get(&self, s: &str) -> &'static str {
        if let Some(v) = self.0.read().unwrap_or_else(|e| e.into_inner()).get(s) {
            return v;
        }
        let mut set = self.0.write().unwrap_or_else(|e| e.into_inner());
        match set.get(s) {
            Some(v) => v,
            None => {
                let v: &'static str = Box::leak(s.to_owned().into_boxed_str());
                set.insert(v);
                v
            }
        }
    }
}

type Histograms = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms,
    operations: Family<OperationLabels, Counter>,
    /// The (name, kind) pairs counted by name so far.
    operation_names: Mutex<HashSet<(&'static str, &'static str)>>,
    errors: Family<CodeLabels, Counter>,
    statements: Counter,
    password_checks: Counter,
    slow_statements: Counter,
    statement_seconds: Counter<f64, AtomicU64>,
    pool_connections: Gauge<i64, AtomicI64>,
    pool_idle: Gauge<i64, AtomicI64>,
    labels: Interned,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
            operations: Family::default(),
            operation_names: Mutex::default(),
            errors: Family::default(),
            statements: Counter::default(),
            password_checks: Counter::default(),
            slow_statements: Counter::default(),
            statement_seconds: Counter::default(),
            pool_connections: Gauge::default(),
            pool_idle: Gauge::default(),
            labels: Interned::default(),
        };
        // Counters are registered without `_total`, which the format adds.
        let r = &mut m.registry;
        r.register(
            "usergraph_http_requests",
            "HTTP requests by route, method and status",
            m.requests.clone(),
        );
        r.register_with_unit(
            "usergraph_http_request_duration",
            "HTTP request latency by route",
            prometheus_client::registry::Unit::Seconds,
            m.latency.clone(),
        );
        r.register(
            "usergraph_graphql_operations",
            "GraphQL operations by name and kind",
            m.operations.clone(),
        );
        r.register("usergraph_errors", "Errors returned, by code", m.errors.clone());
        r.register(
            "usergraph_signin_password_checks",
            "Passwords checked by sign-in (locked and limited attempts are not checked)",
            m.password_checks.clone(),
        );
        r.register("usergraph_db_statements", "SQL statements run", m.statements.clone());
        r.register(
            "usergraph_db_slow_statements",
            "SQL statements slower than the slow-query threshold",
            m.slow_statements.clone(),
        );
        r.register_with_unit(
            "usergraph_db_statement",
            "Time spent in SQL statements",
            prometheus_client::registry::Unit::Seconds,
            m.statement_seconds.clone(),
        );
        r.register(
            "usergraph_db_pool_connections",
            "Open database connections",
            m.pool_connections.clone(),
        );
        r.register(
            "usergraph_db_pool_idle_connections",
            "Idle database connections",
            m.pool_idle.clone(),
        );
        m
    }
}

/// The method's name without allocating (unusual methods are counted together).
fn method_name(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

impl Metrics {
    /// One request, by its route pattern (bounded by the router), method and status.
    pub fn record_request(&self, route: &str, method: &axum::http::Method, status: u16, elapsed: Duration) {
        let route = self.labels.get(route);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method: method_name(method),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
    }

    /// One GraphQL operation, by its name (`anonymous` when unnamed) and kind. Names are chosen
    /// by clients, so the label set is bounded: the first [`MAX_OPERATION_NAMES`] distinct names
    /// (with their kind) are counted by name, any other as `other` (and a name that is not a
    /// GraphQL name, or is longer than 100 characters, as `invalid`).
    pub fn record_operation(&self, name: Option<&str>, kind: &str) {
        let name = match name {
            None => "anonymous",
            Some(n) if n.len() > 100 || !is_graphql_name(n) => "invalid",
            Some(n) => n,
        };
        let (name, kind) = {
            let mut names = self.operation_names.lock().unwrap_or_else(|e| e.into_inner());
            match names.iter().find(|(n, k)| *n == name && *k == kind) {
                Some(&pair) => pair,
                None if names.len() < MAX_OPERATION_NAMES => {
                    let pair = (self.labels.get(name), self.labels.get(kind));
                    names.insert(pair);
                    pair
                }
                None => ("other", self.labels.get(kind)),
            }
        };
        self.operations
            .get_or_create(&OperationLabels { operation: name, kind })
            .inc();
    }

    /// One error, by its code (`extensions.code`, or the REST status).
    pub fn record_error(&self, code: &str) {
        let code = self.labels.get(code);
        self.errors.get_or_create(&CodeLabels { code }).inc();
    }

    /// One SQL statement; returns true when it was slow.
    pub fn record_statement(&self, elapsed: Duration, slow: Duration) -> bool {
        self.statements.inc();
        self.statement_seconds.inc_by(elapsed.as_secs_f64());
        let is_slow = elapsed >= slow;
        if is_slow {
            self.slow_statements.inc();
        }
        is_slow
    }

    /// One password checked by sign-in (an unknown login's stand-in check included).
    pub fn record_password_check(&self) {
        self.password_checks.inc();
    }

    /// SQL statements run so far by this process.
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    /// Every metric in the OpenMetrics text format ([`CONTENT_TYPE`]), the pool's as it is now.
    pub fn render(&self, db: &DatabaseConnection) -> String {
        let (size, idle) = pool_use(db);
        self.pool_connections.set(size.into());
        self.pool_idle.set(idle as i64);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// (open, idle) connections of the pool.
fn pool_use(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        sea_orm::DatabaseBackend::MySql => {
            let p = db.get_mysql_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
    }
}
