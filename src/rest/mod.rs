//! The GitLab `/api/v4` compatibility router: path, query and body -> domain call -> GitLab JSON.
//! Handlers translate only; every rule is in `domain/`.

mod account;
pub mod pagination;
pub mod params;
mod users;
pub mod views;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::HttpState;
use crate::auth::{self, Access, Viewer};
use crate::error::AppError;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::show).put(users::update).delete(users::delete))
        .route("/users/{id}/block", post(users::block))
        .route("/users/{id}/unblock", post(users::unblock))
        .route("/users/{id}/events", get(account::events))
        .route("/users/{id}/keys", get(account::user_keys).post(account::add_user_key))
        .route(
            "/users/{id}/keys/{key_id}",
            get(account::user_key).delete(account::delete_user_key),
        )
        .route(
            "/users/{id}/emails",
            get(account::user_emails).post(account::add_user_email),
        )
        .route(
            "/users/{id}/emails/{email_id}",
            get(account::user_email).delete(account::delete_user_email),
        )
        .route(
            "/users/{id}/impersonation_tokens",
            get(account::tokens).post(account::create_token),
        )
        .route(
            "/users/{id}/impersonation_tokens/{token_id}",
            get(account::token).delete(account::revoke_token),
        )
        .route("/user", get(users::me))
        .route("/user/keys", get(account::my_keys).post(account::add_my_key))
        .route(
            "/user/keys/{key_id}",
            get(account::my_key).delete(account::delete_my_key),
        )
        .route("/user/emails", get(account::my_emails).post(account::add_my_email))
        .route(
            "/user/emails/{email_id}",
            get(account::my_email).delete(account::delete_my_email),
        )
        .route("/user/activities", get(account::activities))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The OpenAPI 3 document of this router (kept beside it; a test checks it names every route).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Unknown routes answer GitLab's JSON 404, never HTML.
pub async fn not_found() -> Response {
    AppError::RouteNotFound.into_response()
}

async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({ "error": "405 Not Allowed" })),
    )
        .into_response()
}

/// The caller, anonymous or not, with the token's scope checked against the method.
pub struct Caller(pub Viewer);

impl FromRequestParts<HttpState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &HttpState) -> Result<Self, Self::Rejection> {
        let creds = auth::extract::credentials(&parts.headers, &parts.uri);
        let viewer = auth::authenticate(&st.app.db, &st.app.keys, &creds).await?;
        let access = if parts.method == Method::GET || parts.method == Method::HEAD {
            Access::Read
        } else {
            Access::Write
        };
        viewer.check_access(access)?;
        Ok(Caller(viewer))
    }
}

/// A signed-in caller: anonymous requests are 401 before any parameter is looked at.
pub struct Signed(pub Viewer);

impl FromRequestParts<HttpState> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &HttpState) -> Result<Self, Self::Rejection> {
        let Caller(viewer) = Caller::from_request_parts(parts, st).await?;
        viewer.user()?;
        Ok(Signed(viewer))
    }
}

/// A numeric id in a `/users/:id/...` path; anything else is GitLab's route 404.
pub fn path_id(s: &str) -> Result<i32, AppError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::RouteNotFound);
    }
    s.parse().map_err(|_| AppError::RouteNotFound)
}

/// A numeric id in a `/user/...` path; anything else is 400 `<name> is invalid`.
pub fn param_id(name: &str, s: &str) -> Result<i32, AppError> {
    s.parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| AppError::invalid_param(name))
}
