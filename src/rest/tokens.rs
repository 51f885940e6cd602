//! Personal access tokens: `/personal_access_tokens` (the caller's, or for admins everyone's)
//! and their creation by an admin under `/users/:id/personal_access_tokens`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::extract::{AnyScope, Signed, param_id, path_id};
use super::pagination;
use super::params::Params;
use super::views;
use crate::auth;
use crate::domain::fields::{ShownToken, TOKEN};
use crate::domain::owner::Target;
use crate::domain::page::PageRequest;
use crate::domain::tokens::{self, NewToken, StateFilter, TokenFilter, TokenSort, Which};
use crate::domain::users::UserRef;
use crate::error::AppError;
use crate::state::AppState;

fn shown(st: &AppState, t: &ShownToken) -> Response {
    views::one(st, t, TOKEN)
}

fn which(id: &str) -> Result<Which, AppError> {
    match id {
        "self" => Ok(Which::Current),
        id => Ok(Which::Id(param_id("id", id)?)),
    }
}

/// `POST /users/:id/personal_access_tokens`: 201 with the value, shown this once. Admins only.
pub async fn create(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, AppError> {
    let target = Target::User(UserRef::Id(path_id(&id)?));
    let input = NewToken {
        name: p.string("name")?,
        scopes: p.list("scopes")?,
        expires_at: p.date("expires_at")?,
        description: p.string("description")?,
    };
    let c = tokens::create_by_admin(&st.db, &st.keys, &v, &target, input).await?;
    Ok((StatusCode::CREATED, shown(&st, &c)).into_response())
}

/// `GET /personal_access_tokens` with GitLab's filters.
pub async fn list(
    State(st): State<AppState>,
    Signed(v): Signed,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let page = pagination::page(&p)?;
    let state = match p.one_of("state", &["active", "inactive"])? {
        Some(s) => StateFilter::parse(&s).unwrap_or_default(),
        None => StateFilter::All,
    };
    let filter = TokenFilter {
        state,
        revoked: p.boolean("revoked")?,
        search: p.string("search")?,
        created_before: p.datetime("created_before")?,
        created_after: p.datetime("created_after")?,
        last_used_before: p.datetime("last_used_before")?,
        last_used_after: p.datetime("last_used_after")?,
        expires_before: p.date("expires_before")?,
        expires_after: p.date("expires_after")?,
        sort: p.string("sort")?.map(|s| TokenSort::parse(&s)).unwrap_or_default(),
        ..Default::default()
    };
    let user = p.int32("user_id")?;
    let listed = tokens::search(&st.db, &st.keys, &v, user, filter, PageRequest::Numbered(page), true).await?;
    Ok(views::basic_page(&st, &uri, page, &listed, TOKEN))
}

/// `GET /personal_access_tokens/:id`: the caller's own, or any for an admin; 404 otherwise.
pub async fn show(State(st): State<AppState>, Signed(v): Signed, Path(id): Path<String>) -> Result<Response, AppError> {
    let t = tokens::find(&st.db, &st.keys, &v, which(&id)?).await?;
    Ok(shown(&st, &t))
}

/// `GET /personal_access_tokens/self`: the calling token, whatever its scopes.
pub async fn show_current(State(st): State<AppState>, AnyScope(v): AnyScope) -> Result<Response, AppError> {
    let t = tokens::find(&st.db, &st.keys, &v, Which::Current).await?;
    Ok(shown(&st, &t))
}

/// `DELETE /personal_access_tokens/:id`: 204.
pub async fn revoke(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    tokens::revoke_visible(&st.db, &st.keys, &v, which(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /personal_access_tokens/self`: revokes the calling token, whatever its scopes.
pub async fn revoke_current(State(st): State<AppState>, AnyScope(v): AnyScope) -> Result<Response, AppError> {
    tokens::revoke_visible(&st.db, &st.keys, &v, Which::Current).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /personal_access_tokens/:id|self/rotate`: 200 with the successor and its value. The
/// domain authenticates the request itself (a revoked token presented here revokes its family).
pub async fn rotate(
    State(st): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let creds = auth::extract::credentials(&headers, &uri);
    let which = which(&id)?;
    let t = tokens::rotate_presented(&st.db, &st.keys, &st.cfg, &creds, which, p.date("expires_at")?).await?;
    Ok(shown(&st, &t))
}
