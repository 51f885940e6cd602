//! Middleware around every route: panics become a JSON 500 with the request id, and every
//! request is counted and timed for `/metrics`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use serde_json::json;

use crate::metrics::Metrics;

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A handler that panics answers `500 {"message":"500 Internal Server Error","request_id":..}`
/// and is logged with its request id; the connection stays up.
pub async fn catch_panics(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(res) => res,
        Err(panic) => {
            tracing::error!(request_id = %id, panic = %panic_text(&*panic), "a handler panicked");
            let body = json!({ "message": "500 Internal Server Error", "request_id": id });
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
        }
    }
}

/// Counts and times each request by its route pattern (never by raw path, which would let
/// clients create unbounded label values).
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    // MatchedPath clones cheaply (it shares its text).
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map(MatchedPath::as_str).unwrap_or("unmatched");
    let method = req.method().clone();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status();
    metrics.record_request(route, &method, status.as_u16(), started.elapsed());
    if (status.is_client_error() || status.is_server_error()) && !route.contains("graphql") {
        metrics.record_error(status.as_str());
    }
    res
}
