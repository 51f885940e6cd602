//! The one error type of the domain. REST renders it as GitLab's status and body
//! (`IntoResponse`), GraphQL as an error with `extensions.code` (`ErrorExtensions`).

use std::collections::BTreeMap;

use async_graphql::ErrorExtensions;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use serde_json::json;

/// Field name -> messages, as Rails' `errors.messages`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Why a presented token does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Expired,
    Revoked,
}

/// Deliberately not `Display`: that keeps async-graphql's blanket `From<T: Display>` away, so
/// `?` in a resolver always goes through the `From` below and keeps `extensions.code`.
#[derive(Debug)]
pub enum AppError {
    /// No (valid) credentials where a user is needed.
    Unauthorized,
    /// A known token that can no longer be used.
    InvalidToken(TokenProblem),
    /// `403 Forbidden`, optionally with GitLab's ` - <reason>` suffix.
    Forbidden(Option<String>),
    /// The token is valid but lacks the scope this request needs.
    InsufficientScope(&'static str),
    /// A 403 whose message is GitLab's own words, without the `403 Forbidden - ` prefix.
    Denied(String),
    /// `404 <Thing> Not Found`.
    NotFound(&'static str),
    /// A 404 with a message of its own (e.g. an unknown sudo target).
    NotFoundMessage(String),
    /// No such route, or a malformed id in a path.
    RouteNotFound,
    /// A unique value already taken: `409 {"message":"Email has already been taken"}`.
    Conflict { field: &'static str, message: String },
    /// Model validation failed: `400 {"message":{field:[msgs]}}`.
    Validation(FieldErrors),
    /// Parameter errors: `400 {"error":"email is missing"}`.
    BadParams(String),
    /// A request refused as a whole: `400 {"message":"<text>"}` (the text as GitLab words it).
    BadRequest(String),
    /// A request the API does not serve this way: `405 {"error":"..."}` (an offset past GitLab's
    /// limit).
    NotAllowed(String),
    /// Sign-in refused (wrong login or password, locked, unconfirmed, expired password).
    SignIn { code: &'static str, message: String },
    /// An Automatic Persisted Query hash the server does not know (the client resends the text).
    PersistedQueryNotFound,
    /// Too many requests; retry after the given number of seconds.
    TooManyRequests(u64),
    /// The database did not answer in time or the connection to it broke: `503` with
    /// `Retry-After`, GraphQL `DATABASE_UNAVAILABLE`.
    Unavailable,
    /// Anything else. Logged, never shown.
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn forbidden(reason: impl Into<String>) -> Self {
        AppError::Forbidden(Some(reason.into()))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut map = FieldErrors::new();
        map.insert(field.to_string(), vec![message.into()]);
        AppError::Validation(map)
    }

    pub fn missing(params: &[&str]) -> Self {
        AppError::BadParams(
            params
                .iter()
                .map(|p| format!("{p} is missing"))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    pub fn invalid_param(param: &str) -> Self {
        AppError::BadParams(format!("{param} is invalid"))
    }

    pub fn conflict(field: &'static str) -> Self {
        let label = match field {
            "email" => "Email",
            "username" => "Username",
            "fingerprint" => "Fingerprint",
            other => other,
        };
        AppError::Conflict {
            field,
            message: format!("{label} has already been taken"),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized | AppError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::InsufficientScope(_) | AppError::Denied(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) | AppError::NotFoundMessage(_) | AppError::RouteNotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Validation(_) | AppError::BadParams(_) | AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::SignIn { .. } => StatusCode::UNAUTHORIZED,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::PersistedQueryNotFound => StatusCode::OK,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The GraphQL `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized | AppError::InvalidToken(_) => "UNAUTHENTICATED",
            AppError::Forbidden(_) | AppError::InsufficientScope(_) | AppError::Denied(_) => "FORBIDDEN",
            AppError::NotFound(_) | AppError::NotFoundMessage(_) | AppError::RouteNotFound => "NOT_FOUND",
            AppError::Conflict { .. } => "CONFLICT",
            AppError::Validation(_) | AppError::BadParams(_) | AppError::BadRequest(_) | AppError::NotAllowed(_) => {
                "BAD_USER_INPUT"
            }
            AppError::SignIn { code, .. } => code,
            AppError::TooManyRequests(_) => "TOO_MANY_REQUESTS",
            AppError::Unavailable => "DATABASE_UNAVAILABLE",
            AppError::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            AppError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    /// The human message, as GitLab would word it.
    pub fn message(&self) -> String {
        match self {
            AppError::Forbidden(None) => "403 Forbidden".into(),
            AppError::Forbidden(Some(reason)) => format!("403 Forbidden - {reason}"),
            AppError::InvalidToken(TokenProblem::Expired) => {
                "Token is expired. You can either do re-authorization or token refresh.".into()
            }
            AppError::InvalidToken(TokenProblem::Revoked) => {
                "Token was revoked. You have to re-authorize from the user.".into()
            }
            AppError::InsufficientScope(_) => {
                "The request requires higher privileges than provided by the access token.".into()
            }
            AppError::Validation(fields) => fields
                .iter()
                .flat_map(|(f, msgs)| msgs.iter().map(move |m| format!("{f} {m}")))
                .collect::<Vec<_>>()
                .join(", "),
            AppError::Unauthorized => "401 Unauthorized".into(),
            AppError::NotFound(thing) => format!("404 {thing} Not Found"),
            AppError::NotFoundMessage(m)
            | AppError::BadParams(m)
            | AppError::NotAllowed(m)
            | AppError::BadRequest(m)
            | AppError::Denied(m) => m.clone(),
            AppError::RouteNotFound => "404 Not Found".into(),
            AppError::Conflict { message, .. } | AppError::SignIn { message, .. } => message.clone(),
            AppError::TooManyRequests(_) => "429 Too Many Requests".into(),
            AppError::Unavailable => {
                "503 Service Unavailable - the database is unavailable; try again in a few seconds".into()
            }
            AppError::PersistedQueryNotFound => "PersistedQueryNotFound".into(),
            AppError::Internal(_) => "500 Internal Server Error".into(),
        }
    }

    fn log_internal(&self) {
        if let AppError::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

/// Seconds a client is told to wait when the database is unavailable.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// `Retry-After` for an answer given while the database is unavailable.
pub fn retry_later(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER));
}

impl From<DbErr> for AppError {
    fn from(e: DbErr) -> Self {
        if is_unavailable(&e) {
            tracing::warn!(error = %e, "the database is unavailable");
            return AppError::Unavailable;
        }
        // A row written for a parent deleted meanwhile (a key added while its user is deleted):
        // the parent is gone, as a read a moment later would have said.
        if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) {
            return AppError::NotFound("User");
        }
        AppError::Internal(anyhow::Error::new(e))
    }
}

/// True when `e` says the database could not be reached (no connection within the acquire
/// timeout, a broken connection, a server shutting down), not that a statement was wrong.
pub fn is_unavailable(e: &DbErr) -> bool {
    match e {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(_) => true,
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(x)) | DbErr::Query(sea_orm::RuntimeErr::SqlxError(x)) => {
            sqlx_unavailable(x)
        }
        _ => false,
    }
}

fn sqlx_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => true,
        // SQLSTATE class 08 (connection exception) and PostgreSQL's 57P (shutting down, cannot
        // connect now); a connection lost mid-statement is an I/O error above.
        sqlx::Error::Database(d) => d.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// True when the database rolled a transaction back to break a deadlock, or failed it for a
/// serialization conflict (SQLSTATE 40001 on every backend, PostgreSQL's 40P01): nothing of it
/// was written, and running it again is safe and usually succeeds.
pub fn is_deadlock(e: &DbErr) -> bool {
    match e {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(x)) | DbErr::Query(sea_orm::RuntimeErr::SqlxError(x)) => {
            matches!(&**x, sqlx::Error::Database(d) if d.code().is_some_and(|c| c == "40001" || c == "40P01"))
        }
        _ => false,
    }
}

/// True when the database refused a write because a unique index already holds the value.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log_internal();
        let status = self.status();
        let body = match &self {
            AppError::Validation(fields) => json!({ "message": fields }),
            AppError::BadParams(text) | AppError::NotAllowed(text) => json!({ "error": text }),
            AppError::RouteNotFound => json!({ "error": "404 Not Found" }),
            AppError::InvalidToken(_) => json!({
                "error": "invalid_token",
                "error_description": self.message(),
            }),
            AppError::InsufficientScope(scope) => json!({
                "error": "insufficient_scope",
                "error_description": self.message(),
                "scope": scope,
            }),
            AppError::SignIn { message, .. } => json!({ "message": message }),
            _ => json!({ "message": self.message() }),
        };
        let mut res = (status, axum::Json(body)).into_response();
        match &self {
            AppError::InvalidToken(_) => {
                let v = format!(
                    "Bearer realm=\"The API\", error=\"invalid_token\", error_description=\"{}\"",
                    self.message()
                );
                if let Ok(v) = HeaderValue::from_str(&v) {
                    res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            AppError::TooManyRequests(secs) => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            AppError::Unavailable => retry_later(res.headers_mut()),
            _ => {}
        }
        res
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        self.log_internal();
        async_graphql::Error::new(self.message()).extend_with(|_, e| {
            e.set("code", self.code());
            match self {
                AppError::Validation(fields) => {
                    let map: async_graphql::indexmap::IndexMap<async_graphql::Name, async_graphql::Value> = fields
                        .iter()
                        .map(|(k, v)| {
                            (
                                async_graphql::Name::new(camel_case(k)),
                                async_graphql::Value::List(
                                    v.iter().map(|m| async_graphql::Value::String(m.clone())).collect(),
                                ),
                            )
                        })
                        .collect();
                    e.set("fields", async_graphql::Value::Object(map));
                }
                AppError::Conflict { field, .. } => {
                    e.set("field", *field);
                }
                AppError::InsufficientScope(scope) => {
                    e.set("scope", *scope);
                }
                AppError::TooManyRequests(secs) => {
                    e.set("retryAfter", *secs);
                }
                AppError::Unavailable => {
                    e.set("retryAfter", UNAVAILABLE_RETRY_AFTER);
                }
                _ => {}
            }
        })
    }
}

/// `extern_uid` -> `externUid`: GraphQL names the fields in camelCase.
fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl From<AppError> for async_graphql::Error {
    fn from(e: AppError) -> Self {
        e.extend()
    }
}
