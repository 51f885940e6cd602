//! The GitLab `/api/v4` compatibility router: path, query and body -> domain call -> GitLab JSON.

pub mod pagination;

use axum::Router;
use axum::response::{IntoResponse, Response};

use crate::HttpState;
use crate::error::AppError;

pub fn router() -> Router<HttpState> {
    Router::new().fallback(not_found)
}

/// Unknown routes answer GitLab's JSON 404, never HTML.
pub async fn not_found() -> Response {
    AppError::RouteNotFound.into_response()
}
