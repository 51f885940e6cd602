//! The GitLab `/api/v4` compatibility router: path, query and body -> domain call -> GitLab JSON.
//! Handlers translate only; every rule is in `domain/`.

mod account;
pub mod extract;
mod follows;
pub mod openapi;
pub mod pagination;
pub mod params;
mod status;
mod tokens;
mod users;
pub mod views;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    use account::*;
    use entity::{email::Entity as Emails, gpg_key::Entity as GpgKeys, ssh_key::Entity as Keys};
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::show).put(users::update).delete(users::delete))
        .route("/users/{id}/block", post(users::block))
        .route("/users/{id}/unblock", post(users::unblock))
        .route("/users/{id}/deactivate", post(users::deactivate))
        .route("/users/{id}/activate", post(users::activate))
        .route("/users/{id}/ban", post(users::ban))
        .route("/users/{id}/unban", post(users::unban))
        .route("/users/{id}/approve", post(users::approve))
        .route("/users/{id}/reject", post(users::reject))
        .route("/users/{id}/events", get(events))
        .route("/users/{id}/keys", get(list_owned::<Keys>).post(add_owned::<Keys>))
        .route(
            "/users/{id}/keys/{key_id}",
            get(get_owned::<Keys>).delete(delete_owned::<Keys>),
        )
        .route(
            "/users/{id}/gpg_keys",
            get(list_owned::<GpgKeys>).post(add_owned::<GpgKeys>),
        )
        .route(
            "/users/{id}/gpg_keys/{key_id}",
            get(get_owned::<GpgKeys>).delete(delete_gpg_key),
        )
        .route("/users/{id}/gpg_keys/{key_id}/revoke", post(revoke_gpg_key))
        .route(
            "/users/{id}/emails",
            get(list_owned::<Emails>).post(add_owned::<Emails>),
        )
        .route(
            "/users/{id}/emails/{email_id}",
            get(get_owned::<Emails>).delete(delete_owned::<Emails>),
        )
        .route("/users/{id}/impersonation_tokens", get(tokens).post(create_token))
        .route(
            "/users/{id}/impersonation_tokens/{token_id}",
            get(token).delete(revoke_token),
        )
        .route("/users/{id}/personal_access_tokens", post(tokens::create))
        .route("/personal_access_tokens", get(tokens::list))
        .route(
            "/personal_access_tokens/self",
            get(tokens::show_current).delete(tokens::revoke_current),
        )
        .route("/personal_access_tokens/{id}", get(tokens::show).delete(tokens::revoke))
        .route("/personal_access_tokens/{id}/rotate", post(tokens::rotate))
        .route("/users/{id}/identities/{provider}", delete(users::delete_identity))
        .route("/users/{id}/disable_two_factor", patch(users::disable_two_factor))
        .route("/users/{id}/custom_attributes", get(users::custom_attributes))
        .route(
            "/users/{id}/custom_attributes/{key}",
            get(users::custom_attribute)
                .put(users::set_custom_attribute)
                .delete(users::delete_custom_attribute),
        )
        .route("/keys", get(key_by_fingerprint))
        .route("/keys/{id}", get(key_by_id))
        .route("/user", get(users::me))
        .route(
            "/user/status",
            get(status::mine).put(status::replace).patch(status::change),
        )
        .route("/users/{id}/status", get(status::of_user))
        .route("/users/{id}/follow", post(follows::follow))
        .route("/users/{id}/unfollow", post(follows::unfollow))
        .route("/users/{id}/followers", get(follows::followers))
        .route("/users/{id}/following", get(follows::following))
        .route("/user/keys", get(list_owned::<Keys>).post(add_owned::<Keys>))
        .route(
            "/user/keys/{key_id}",
            get(get_owned::<Keys>).delete(delete_owned::<Keys>),
        )
        .route("/user/gpg_keys", get(list_owned::<GpgKeys>).post(add_owned::<GpgKeys>))
        .route(
            "/user/gpg_keys/{key_id}",
            get(get_owned::<GpgKeys>).delete(delete_gpg_key),
        )
        .route("/user/gpg_keys/{key_id}/revoke", post(revoke_gpg_key))
        .route("/user/emails", get(list_owned::<Emails>).post(add_owned::<Emails>))
        .route(
            "/user/emails/{email_id}",
            get(get_owned::<Emails>).delete(delete_owned::<Emails>),
        )
        .route("/user/activities", get(activities))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi::DOCUMENT.as_str(),
    )
        .into_response()
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
