//! `POST /users/:id/follow|unfollow` and `GET /users/:id/followers|following`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::extract::{Caller, Signed, path_id};
use super::pagination;
use super::params::Params;
use super::views;
use crate::domain::fields::USER;
use crate::domain::follows::{self, Followed, Side};
use crate::domain::page::PageRequest;
use crate::domain::shape::{Env, Shape};
use crate::domain::users::UserRef;
use crate::error::AppError;
use crate::state::AppState;

/// 201 with the user in the basic representation, or GitLab's bodiless 304 when nothing changed.
fn answer(st: &AppState, f: Followed) -> Response {
    if !f.changed {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let base = st.cfg.external_url();
    let body = views::user(&f.user, Shape::Basic, Env { external_url: &base });
    (StatusCode::CREATED, Json(body)).into_response()
}

pub async fn follow(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let f = follows::follow(&st.db, &v, &UserRef::Id(path_id(&id)?)).await?;
    Ok(answer(&st, f))
}

pub async fn unfollow(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let f = follows::unfollow(&st.db, &v, &UserRef::Id(path_id(&id)?)).await?;
    Ok(answer(&st, f))
}

async fn list(
    st: AppState,
    v: crate::domain::viewer::Viewer,
    id: String,
    side: Side,
    uri: axum::http::Uri,
    p: Params,
) -> Result<Response, AppError> {
    let page = pagination::page(&p)?;
    let listed = follows::list(
        &st.db,
        &v,
        &UserRef::parse(&id),
        side,
        PageRequest::Numbered(page),
        true,
    )
    .await?;
    Ok(views::basic_page(&st, &uri, page, &listed, USER))
}

pub async fn followers(
    State(st): State<AppState>,
    Caller(v): Caller,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    list(st, v, id, Side::Followers, uri, p).await
}

pub async fn following(
    State(st): State<AppState>,
    Caller(v): Caller,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    list(st, v, id, Side::Following, uri, p).await
}
