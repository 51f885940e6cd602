//! The GitLab `/api/v4` compatibility router: path, query and body -> domain call -> GitLab JSON.
//! Handlers translate only; every rule is in `domain/`.

mod account;
pub mod extract;
pub mod pagination;
pub mod params;
mod users;
pub mod views;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
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
