//! Settings from flags and `USERGRAPH_*` environment variables, with defaults that just work.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the server can be told. Secrets never appear in `Debug` output.
#[derive(Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(global = true, long, env = "USERGRAPH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Database URL: sqlite://path?mode=rwc, postgres://... or mysql://... . Defaults to an
    /// SQLite file in the data directory.
    #[arg(global = true, long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory for the default SQLite database and the generated server secret.
    #[arg(global = true, long, env = "USERGRAPH_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Server secret for JWT signing and token encryption (at least 32 characters). When unset,
    /// one is generated on first start into `<data dir>/secret` (mode 0600).
    #[arg(global = true, long, env = "USERGRAPH_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// Value of the root administrator's first token, used when the database is empty.
    #[arg(global = true, long, env = "USERGRAPH_ROOT_TOKEN", hide_env_values = true)]
    pub root_token: Option<String>,

    /// Public base URL used in `web_url`, `avatar_url` and pagination `Link` headers.
    #[arg(global = true, long, env = "USERGRAPH_EXTERNAL_URL")]
    pub external_url: Option<String>,

    /// Run pending migrations on start.
    #[arg(global = true, long, env = "USERGRAPH_AUTO_MIGRATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_migrate: bool,

    /// Lifetime of JWTs issued by `signIn`, in seconds.
    #[arg(global = true, long, env = "USERGRAPH_JWT_TTL", default_value_t = 86_400)]
    pub jwt_ttl_secs: i64,

    /// Maximum GraphQL query depth.
    #[arg(global = true, long, env = "USERGRAPH_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,

    /// Maximum GraphQL query complexity.
    #[arg(global = true, long, env = "USERGRAPH_MAX_COMPLEXITY", default_value_t = 50_000)]
    pub max_complexity: usize,

    /// Serve the GraphQL introspection schema.
    #[arg(global = true, long, env = "USERGRAPH_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Answer the common `User` selections in one synchronous pass (see `graphql/fast.rs`);
    /// `false` resolves every field through the derived resolvers, as a kill switch.
    #[arg(global = true, long, env = "USERGRAPH_GRAPHQL_FAST_PATH", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphql_fast_path: bool,

    /// Serve the GraphiQL page on `GET /graphql` for browsers.
    #[arg(global = true, long, env = "USERGRAPH_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    pub graphiql: bool,

    /// Largest accepted request body, in bytes.
    #[arg(global = true, long, env = "USERGRAPH_MAX_BODY", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    /// Per-request timeout, in seconds.
    #[arg(global = true, long, env = "USERGRAPH_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Seconds a client may take to send a request's headers; slower ones are closed.
    #[arg(global = true, long, env = "USERGRAPH_HEADER_READ_TIMEOUT", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Seconds an idle keep-alive connection stays open (1 s while the open connections are at
    /// 90% of `--max-connections` or more).
    #[arg(global = true, long, env = "USERGRAPH_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout_secs: u64,

    /// Open client connections (WebSockets included) at most; past it new connections are closed
    /// at once. Lowered to the process's file limit less a reserve when that is smaller.
    #[arg(global = true, long, env = "USERGRAPH_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// How long a request waits for a database connection before answering 503 (the database
    /// is unavailable or every connection is busy).
    #[arg(global = true, long, env = "USERGRAPH_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 750)]
    pub db_acquire_timeout_ms: u64,

    /// Smallest RSA SSH key accepted, in bits (GitLab's key restrictions).
    #[arg(global = true, long, env = "USERGRAPH_SSH_RSA_MIN_BITS", default_value_t = 2048)]
    pub ssh_rsa_min_bits: u32,

    /// Accept DSA SSH keys (refused by default: 1024-bit DSA is broken).
    #[arg(global = true, long, env = "USERGRAPH_SSH_ALLOW_DSA", default_value_t = false, action = clap::ArgAction::Set)]
    pub ssh_allow_dsa: bool,

    /// Maximum database connections in the pool [default: 16; 4 on SQLite, where every
    /// connection is a thread of its own and more of them only contend for the same cores and
    /// page cache].
    #[arg(global = true, long, env = "USERGRAPH_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,

    /// Log format.
    #[arg(global = true, long, env = "USERGRAPH_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Most operations in one batched GraphQL request (a JSON array of requests).
    #[arg(global = true, long, env = "USERGRAPH_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// Most fields (aliases included) one GraphQL document may select.
    #[arg(global = true, long, env = "USERGRAPH_MAX_FIELDS", default_value_t = 2_000)]
    pub max_fields: usize,

    /// Most operations one WebSocket connection may run at a time (subscriptions in progress
    /// included); more are refused until one ends.
    #[arg(global = true, long, env = "USERGRAPH_MAX_WS_OPERATIONS", default_value_t = 100)]
    pub max_ws_operations: usize,

    /// Let people create their own account (`signUp`).
    #[arg(global = true, long, env = "USERGRAPH_SIGNUP_ENABLED", default_value_t = false, action = clap::ArgAction::Set)]
    pub signup_enabled: bool,

    /// Accounts made by signing up wait for an administrator's approval (`approveUser`).
    #[arg(global = true, long, env = "USERGRAPH_SIGNUP_REQUIRES_APPROVAL", default_value_t = true, action = clap::ArgAction::Set)]
    pub signup_requires_approval: bool,

    /// Sign-in attempts allowed per client address and minute.
    #[arg(global = true, long, env = "USERGRAPH_SIGNIN_PER_MINUTE", default_value_t = 30)]
    pub signin_per_minute: u32,

    /// SQL statements slower than this many milliseconds are logged.
    #[arg(global = true, long, env = "USERGRAPH_SLOW_QUERY_MS", default_value_t = 250)]
    pub slow_query_ms: u64,

    /// SMTP server for outgoing mail: `smtp://user:pass@host:port` (add `?tls=required` for
    /// STARTTLS) or `smtps://user:pass@host:port` (TLS from the start). When unset, mail is
    /// written as `.eml` files to the mail directory instead.
    #[arg(global = true, long, env = "USERGRAPH_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Where mail is written as `.eml` files when no SMTP server is set. Default:
    /// `<data dir>/mail`.
    #[arg(global = true, long, env = "USERGRAPH_MAIL_DIR")]
    pub mail_dir: Option<PathBuf>,

    /// Sender of outgoing mail.
    #[arg(
        global = true,
        long,
        env = "USERGRAPH_MAIL_FROM",
        default_value = "usergraph <usergraph@localhost>"
    )]
    pub mail_from: String,

    /// Delivery attempts of one mail before it is given up.
    #[arg(global = true, long, env = "USERGRAPH_MAIL_MAX_ATTEMPTS", default_value_t = 10)]
    pub mail_max_attempts: u32,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &self.database_url.as_deref().map(redact_url))
            .field("data_dir", &self.data_dir)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("root_token", &self.root_token.as_ref().map(|_| "<redacted>"))
            .field("external_url", &self.external_url)
            .finish_non_exhaustive()
    }
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// A configuration for tests and embedding: every default, the given database.
    pub fn for_database(url: impl Into<String>) -> Self {
        Config {
            bind: "127.0.0.1:0".parse().expect("literal address"),
            database_url: Some(url.into()),
            data_dir: PathBuf::from("data"),
            secret: None,
            root_token: None,
            external_url: None,
            auto_migrate: true,
            jwt_ttl_secs: 86_400,
            max_depth: 12,
            max_complexity: 50_000,
            introspection: true,
            graphql_fast_path: true,
            graphiql: true,
            max_body_bytes: 1_048_576,
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 10_000,
            db_acquire_timeout_ms: 750,
            ssh_rsa_min_bits: 2048,
            ssh_allow_dsa: false,
            db_max_connections: None,
            log_format: LogFormat::Text,
            max_batch: 10,
            max_fields: 2_000,
            max_ws_operations: 100,
            signin_per_minute: 30,
            signup_enabled: false,
            signup_requires_approval: true,
            slow_query_ms: 250,
            smtp_url: None,
            mail_dir: None,
            mail_from: "usergraph <usergraph@localhost>".into(),
            mail_max_attempts: 10,
        }
    }

    /// `--database-url`, else `DATABASE_URL`, else `USERGRAPH_DATABASE_URL`, else the SQLite file.
    pub fn database_url(&self) -> String {
        let from_env = || std::env::var("USERGRAPH_DATABASE_URL").ok().filter(|u| !u.is_empty());
        match self.database_url.clone().or_else(from_env) {
            Some(u) => u,
            None => format!("sqlite://{}?mode=rwc", self.data_dir.join("usergraph.db").display()),
        }
    }

    /// The external URL without a trailing slash.
    pub fn external_url(&self) -> String {
        match &self.external_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.bind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
