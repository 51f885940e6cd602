//! Prometheus metrics, kept in the process: HTTP requests by route, method and status, latency
//! histograms by route, GraphQL operations by name, errors by code, SQL statements (slow ones are
//! logged), and database pool use. `GET /metrics` renders them in the text format.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::DatabaseConnection;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Distinct (operation name, kind) pairs counted by name; the rest are `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

fn is_graphql_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// (method, status) -> count, for one route.
type ByMethodStatus = HashMap<(&'static str, u16), u64>;

#[derive(Default)]
pub struct Metrics {
    /// route -> (method, status) -> count. Looked up by `&str`, so a known route costs no
    /// allocation per request.
    requests: Mutex<HashMap<String, ByMethodStatus>>,
    latency: Mutex<HashMap<String, Histogram>>,
    operations: Mutex<BTreeMap<(String, String), u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    statements: AtomicU64,
    password_checks: AtomicU64,
    slow_statements: AtomicU64,
    statement_seconds_micros: AtomicU64,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *map.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default() += 1;
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

/// One metric without labels: its HELP and TYPE lines and its value.
fn scalar(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn record_request(&self, route: &str, method: &axum::http::Method, status: u16, elapsed: Duration) {
        let method = method_name(method);
        {
            let mut req = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            let by_route = match req.get_mut(route) {
                Some(m) => m,
                None => req.entry(route.to_string()).or_default(),
            };
            *by_route.entry((method, status)).or_default() += 1;
        }
        let secs = elapsed.as_secs_f64();
        let mut lat = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let h = match lat.get_mut(route) {
            Some(h) => h,
            None => lat.entry(route.to_string()).or_default(),
        };
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// One GraphQL operation, by its name (`anonymous` when unnamed) and kind. Names are chosen
    /// by clients, so the label set is bounded: the first [`MAX_OPERATION_NAMES`] distinct names
    /// (with their kind) are counted by name, any other as `other` (and a name that is not a GraphQL name, or is
    /// longer than 100 characters, as `invalid`).
    pub fn record_operation(&self, name: Option<&str>, kind: &str) {
        let name = match name {
            None => "anonymous",
            Some(n) if n.len() > 100 || !is_graphql_name(n) => "invalid",
            Some(n) => n,
        };
        let mut ops = self.operations.lock().unwrap_or_else(|e| e.into_inner());
        let known = ops.len() < MAX_OPERATION_NAMES || ops.keys().any(|(n, k)| n == name && k == kind);
        let name = if known { name } else { "other" };
        *ops.entry((name.to_string(), kind.to_string())).or_default() += 1;
    }

    /// One error, by its code (`extensions.code`, or the REST status).
    pub fn record_error(&self, code: &str) {
        bump(&self.errors, code.to_string());
    }

    /// One SQL statement; returns true when it was slow.
    pub fn record_statement(&self, elapsed: Duration, slow: Duration) -> bool {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.statement_seconds_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        let is_slow = elapsed >= slow;
        if is_slow {
            self.slow_statements.fetch_add(1, Ordering::Relaxed);
        }
        is_slow
    }

    /// One password checked by sign-in (an unknown login's stand-in check included).
    pub fn record_password_check(&self) {
        self.password_checks.fetch_add(1, Ordering::Relaxed);
    }

    /// SQL statements run so far by this process.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }

    pub fn render(&self, db: &DatabaseConnection) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP usergraph_http_requests_total HTTP requests by route, method and status."
        );
        let _ = writeln!(out, "# TYPE usergraph_http_requests_total counter");
        let requests: BTreeMap<(String, &str, u16), u64> = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flat_map(|(route, m)| {
                m.iter()
                    .map(move |((method, status), n)| ((route.clone(), *method, *status), *n))
            })
            .collect();
        for ((route, method, status), n) in &requests {
            let _ = writeln!(
                out,
                "usergraph_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                escape(route),
                escape(method)
            );
        }
        let _ = writeln!(
            out,
            "# HELP usergraph_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(out, "# TYPE usergraph_http_request_duration_seconds histogram");
        let latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let mut routes: Vec<&String> = latency.keys().collect();
        routes.sort();
        for route in routes {
            let h = &latency[route];
            let r = escape(route);
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "usergraph_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "usergraph_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "usergraph_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "usergraph_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP usergraph_graphql_operations_total GraphQL operations by name and kind."
        );
        let _ = writeln!(out, "# TYPE usergraph_graphql_operations_total counter");
        for ((name, kind), n) in self.operations.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "usergraph_graphql_operations_total{{operation=\"{}\",kind=\"{kind}\"}} {n}",
                escape(name)
            );
        }
        let _ = writeln!(out, "# HELP usergraph_errors_total Errors returned, by code.");
        let _ = writeln!(out, "# TYPE usergraph_errors_total counter");
        for (code, n) in self.errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "usergraph_errors_total{{code=\"{}\"}} {n}", escape(code));
        }
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        scalar(
            &mut out,
            "usergraph_signin_password_checks_total",
            "counter",
            "Passwords checked by sign-in (locked and limited attempts are not checked).",
            load(&self.password_checks),
        );
        scalar(
            &mut out,
            "usergraph_db_statements_total",
            "counter",
            "SQL statements run.",
            load(&self.statements),
        );
        scalar(
            &mut out,
            "usergraph_db_slow_statements_total",
            "counter",
            "SQL statements slower than the slow-query threshold.",
            load(&self.slow_statements),
        );
        scalar(
            &mut out,
            "usergraph_db_statement_seconds_total",
            "counter",
            "Time spent in SQL statements.",
            load(&self.statement_seconds_micros) as f64 / 1e6,
        );
        let (size, idle) = pool_use(db);
        scalar(
            &mut out,
            "usergraph_db_pool_connections",
            "gauge",
            "Open database connections.",
            size,
        );
        scalar(
            &mut out,
            "usergraph_db_pool_idle_connections",
            "gauge",
            "Idle database connections.",
            idle,
        );
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
