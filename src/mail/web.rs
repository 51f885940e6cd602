//! The two pages mailed links open, answered as JSON (this server has no HTML front):
//!
//! * `GET /users/confirmation?confirmation_token=...` confirms the address, as Devise does.
//! * `GET /users/password/edit?reset_password_token=...` checks the token without using it and
//!   explains how to choose the password: send the token with the `resetPassword` mutation.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::domain::account_tokens;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/confirmation", get(confirmation))
        .route("/users/password/edit", get(edit_password))
}

fn param(q: &HashMap<String, String>, name: &str) -> Result<String, AppError> {
    q.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::missing(&[name]))
}

async fn confirmation(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let token = param(&q, "confirmation_token")?;
    let (address, user) = account_tokens::confirm_email(&st.db, &token).await?;
    Ok(Json(json!({
        "message": "Your email address has been successfully confirmed.",
        "email": address.email,
        "username": user.username,
        "confirmed_at": address.confirmed_at,
    }))
    .into_response())
}

/// The mutation a client sends with the token from the link.
pub const RESET_MUTATION: &str = "mutation($token: String!, $password: String!) { resetPassword(input: { token: $token, password: $password }) { user { username } } }";

async fn edit_password(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let token = param(&q, "reset_password_token")?;
    let t = account_tokens::check_reset_token(&st.db, &token).await?;
    Ok(Json(json!({
        "message": "To choose a new password, POST the resetPassword mutation to /graphql with this token and the new password. The token works once.",
        "reset_password_token": token,
        "expires_at": t.expires_at,
        "graphql": {
            "endpoint": format!("{}/graphql", st.cfg.external_url()),
            "query": RESET_MUTATION,
            "variables": { "token": token, "password": "<new password>" },
        },
    }))
    .into_response())
}
