//! `/users` and `/user`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::extract::{Caller, Signed, path_id};
use super::pagination::{self, Page, Paged};
use super::params::Params;
use super::views::{self, UserBasic, UserFull, UserSingle};
use crate::domain::policy;
use crate::domain::users::{self, CreateUser, SortDir, UserAttrs, UserFilter, UserOrder, UserRef};
use crate::error::AppError;
use crate::state::AppState;

fn attrs(p: &Params) -> Result<UserAttrs, AppError> {
    Ok(UserAttrs {
        email: p.string("email")?,
        username: p.string("username")?,
        name: p.string("name")?,
        password: p.string("password")?,
        skype: p.string("skype")?,
        linkedin: p.string("linkedin")?,
        twitter: p.string("twitter")?,
        website_url: p.string("website_url")?,
        organization: p.string("organization")?,
        bio: p.string("bio")?,
        location: p.string("location")?,
        projects_limit: p.int("projects_limit")?,
        admin: p.boolean("admin")?,
        can_create_group: p.boolean("can_create_group")?,
        external: p.boolean("external")?,
        extern_uid: p.string("extern_uid")?,
        provider: p.string("provider")?,
        color_scheme_id: p.int32("color_scheme_id")?,
    })
}

/// The full view of one user, with identities.
async fn full(st: &AppState, u: &entity::user::Model) -> Result<UserFull, AppError> {
    let ids = users::identities_of(&st.db, &[u.id]).await?;
    Ok(UserFull::new(&st.cfg.external_url(), u, &ids))
}

pub async fn list(
    State(st): State<AppState>,
    Caller(viewer): Caller,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let page = Page::from_params(&p)?;
    let order = p.parsed("order_by", UserOrder::parse)?.unwrap_or_default();
    let sort = p.parsed("sort", SortDir::parse)?.unwrap_or_default();
    let filter = UserFilter {
        search: p.string("search")?,
        username: p.string("username")?,
        active: p.boolean("active")?.unwrap_or(false),
        blocked: p.boolean("blocked")?.unwrap_or(false),
        external: p.boolean("external")?.unwrap_or(false),
        extern_uid: p.string("extern_uid")?,
        provider: p.string("provider")?,
        created_after: p.datetime("created_after")?,
        created_before: p.datetime("created_before")?,
    };
    let db = &st.db;
    let rows = users::list(db, &viewer, &filter, order, sort, page.window(), None).await?;
    let total = users::count(db, &viewer, &filter).await?;
    let base = st.cfg.external_url();
    let headers = pagination::headers(&base, &uri, page, total);
    if policy::sees_admin_view(&viewer) {
        let ids: Vec<i32> = rows.iter().map(|u| u.id).collect();
        let mut identities = views::by_user(users::identities_of(db, &ids).await?);
        let items: Vec<UserFull> = rows
            .iter()
            .map(|u| UserFull::new(&base, u, &identities.remove(&u.id).unwrap_or_default()))
            .collect();
        Ok(Paged { items, headers }.into_response())
    } else {
        let items: Vec<UserBasic> = rows.iter().map(|u| UserBasic::new(&base, u)).collect();
        Ok(Paged { items, headers }.into_response())
    }
}

pub async fn show(
    State(st): State<AppState>,
    Caller(viewer): Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    if policy::sees_admin_view(&viewer) {
        let (u, identities) = users::with_identities(&st.db, id)
            .await?
            .ok_or(AppError::NotFound("User"))?;
        Ok(Json(UserFull::new(&st.cfg.external_url(), &u, &identities)).into_response())
    } else {
        let u = users::get(&st.db, &viewer, &UserRef::Id(id)).await?;
        Ok(Json(UserSingle::new(&st.cfg.external_url(), &u)).into_response())
    }
}

pub async fn me(State(st): State<AppState>, Signed(viewer): Signed) -> Result<Response, AppError> {
    let u = viewer.user()?;
    let mut view = full(&st, u).await?;
    if viewer.sudo_by.is_some() {
        view.private_token = users::private_token(&st.db, &st.keys, u.id).await?;
    }
    Ok(Json(view).into_response())
}

pub async fn create(State(st): State<AppState>, Signed(viewer): Signed, p: Params) -> Result<Response, AppError> {
    let confirm = p.boolean("confirm")?;
    let skip = p.boolean("skip_confirmation")?;
    let input = CreateUser {
        attrs: attrs(&p)?,
        reset_password: p.boolean("reset_password")?.unwrap_or(false),
        skip_confirmation: skip.unwrap_or(false) || confirm == Some(false),
    };
    let u = users::create(&st, &viewer, input).await?;
    Ok((StatusCode::CREATED, Json(full(&st, &u).await?)).into_response())
}

pub async fn update(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let u = users::update(&st.db, &st.changes, &viewer, &UserRef::Id(id), attrs(&p)?).await?;
    Ok(Json(full(&st, &u).await?).into_response())
}

pub async fn delete(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let identities = users::identities_of(&st.db, &[id]).await?;
    match users::delete(&st.db, &st.changes, &viewer, &UserRef::Id(id)).await? {
        Some(u) => Ok(Json(UserFull::new(&st.cfg.external_url(), &u, &identities)).into_response()),
        None => Ok(Json(json!({})).into_response()),
    }
}

pub async fn block(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (changed, _) = users::block(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok((StatusCode::CREATED, Json(changed)).into_response())
}

pub async fn unblock(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (changed, _) = users::unblock(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok((StatusCode::CREATED, Json(changed)).into_response())
}
