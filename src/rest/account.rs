//! SSH keys, e-mails, impersonation tokens, events and activities under `/user` and `/users/:id`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::extract::{Caller, Signed, param_id, path_id};
use super::pagination::{self, Page, Paged};
use super::params::Params;
use super::views::{ActivityView, EmailView, EventView, SshKeyView, TokenView};
use crate::domain::activities::ActivityQuery;
use crate::domain::emails::{self, NewEmail};
use crate::domain::events::{self, EventFilter, TARGET_TYPES};
use crate::domain::owner::{Owner, Target};
use crate::domain::ssh_keys::{self, NewKey};
use crate::domain::tokens::{self, Kind, NewToken, StateFilter};
use crate::domain::users::{self, SortDir, UserRef};
use crate::domain::viewer::Viewer;
use crate::error::AppError;
use crate::state::AppState;

fn paged<T: Serialize>(st: &AppState, uri: &Uri, page: Page, total: u64, items: Vec<T>) -> Response {
    Paged {
        items,
        headers: pagination::headers(&st.cfg.external_url(), uri, page, total),
    }
    .into_response()
}

fn user_target(id: &str) -> Result<Target, AppError> {
    Ok(Target::User(UserRef::Id(path_id(id)?)))
}

/// `200` with the deleted object, or `200 {}` when there was nothing to delete.
fn deleted<T: Serialize>(v: Option<T>) -> Response {
    match v {
        Some(v) => Json(v).into_response(),
        None => Json(json!({})).into_response(),
    }
}

// ---- SSH keys

async fn list_keys(
    st: &AppState,
    viewer: &Viewer,
    target: Target,
    uri: &Uri,
    p: &Params,
) -> Result<Response, AppError> {
    let page = Page::from_params(p)?;
    let db = &st.db;
    let owner = Owner::resolve(db, viewer, &target).await?;
    let rows = ssh_keys::list(db, &owner, page.window()).await?;
    let total = ssh_keys::count(db, &owner).await?;
    Ok(paged(st, uri, page, total, rows.iter().map(SshKeyView::from).collect()))
}

async fn add_key(st: &AppState, viewer: &Viewer, target: Target, p: &Params) -> Result<Response, AppError> {
    let input = NewKey {
        title: p.string("title")?,
        key: p.string("key")?,
        expires_at: p.datetime("expires_at")?,
    };
    let k = ssh_keys::add(&st.db, ssh_keys::KeyRules::from_config(&st.cfg), viewer, &target, input).await?;
    Ok((StatusCode::CREATED, Json(SshKeyView::from(&k))).into_response())
}

pub async fn my_keys(
    State(st): State<AppState>,
    Signed(v): Signed,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    list_keys(&st, &v, Target::Me, &uri, &p).await
}

pub async fn user_keys(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    list_keys(&st, &v, user_target(&id)?, &uri, &p).await
}

pub async fn add_my_key(State(st): State<AppState>, Signed(v): Signed, p: Params) -> Result<Response, AppError> {
    add_key(&st, &v, Target::Me, &p).await
}

pub async fn add_user_key(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, AppError> {
    add_key(&st, &v, user_target(&id)?, &p).await
}

pub async fn my_key(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(key_id): Path<String>,
) -> Result<Response, AppError> {
    let key_id = param_id("key_id", &key_id)?;
    let owner = Owner::resolve(&st.db, &v, &Target::Me).await?;
    Ok(Json(SshKeyView::from(&ssh_keys::get(&st.db, &owner, key_id).await?)).into_response())
}

pub async fn user_key(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (target, key_id) = (user_target(&id)?, path_id(&key_id)?);
    let owner = Owner::resolve(&st.db, &v, &target).await?;
    Ok(Json(SshKeyView::from(&ssh_keys::get(&st.db, &owner, key_id).await?)).into_response())
}

pub async fn delete_my_key(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(key_id): Path<String>,
) -> Result<Response, AppError> {
    let key_id = param_id("key_id", &key_id)?;
    Ok(deleted(
        ssh_keys::delete(&st.db, &v, &Target::Me, key_id)
            .await?
            .as_ref()
            .map(SshKeyView::from),
    ))
}

pub async fn delete_user_key(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (target, key_id) = (user_target(&id)?, path_id(&key_id)?);
    Ok(deleted(
        ssh_keys::delete(&st.db, &v, &target, key_id)
            .await?
            .as_ref()
            .map(SshKeyView::from),
    ))
}

// ---- e-mails

async fn list_emails(
    st: &AppState,
    viewer: &Viewer,
    target: Target,
    uri: &Uri,
    p: &Params,
) -> Result<Response, AppError> {
    let page = Page::from_params(p)?;
    let db = &st.db;
    let owner = Owner::resolve(db, viewer, &target).await?;
    let rows = emails::list(db, &owner, page.window()).await?;
    let total = emails::count(db, &owner).await?;
    Ok(paged(st, uri, page, total, rows.iter().map(EmailView::from).collect()))
}

async fn add_email(st: &AppState, viewer: &Viewer, target: Target, p: &Params) -> Result<Response, AppError> {
    let input = NewEmail {
        email: p.string("email")?,
        skip_confirmation: p.boolean("skip_confirmation")?.unwrap_or(false),
    };
    let e = emails::add(st, viewer, &target, input).await?;
    Ok((StatusCode::CREATED, Json(EmailView::from(&e))).into_response())
}

pub async fn my_emails(
    State(st): State<AppState>,
    Signed(v): Signed,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    list_emails(&st, &v, Target::Me, &uri, &p).await
}

pub async fn user_emails(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    list_emails(&st, &v, user_target(&id)?, &uri, &p).await
}

pub async fn add_my_email(State(st): State<AppState>, Signed(v): Signed, p: Params) -> Result<Response, AppError> {
    add_email(&st, &v, Target::Me, &p).await
}

pub async fn add_user_email(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, AppError> {
    add_email(&st, &v, user_target(&id)?, &p).await
}

pub async fn my_email(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(email_id): Path<String>,
) -> Result<Response, AppError> {
    let email_id = param_id("email_id", &email_id)?;
    let owner = Owner::resolve(&st.db, &v, &Target::Me).await?;
    Ok(Json(EmailView::from(&emails::get(&st.db, &owner, email_id).await?)).into_response())
}

pub async fn user_email(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path((id, email_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (target, email_id) = (user_target(&id)?, path_id(&email_id)?);
    let owner = Owner::resolve(&st.db, &v, &target).await?;
    Ok(Json(EmailView::from(&emails::get(&st.db, &owner, email_id).await?)).into_response())
}

pub async fn delete_my_email(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(email_id): Path<String>,
) -> Result<Response, AppError> {
    let email_id = param_id("email_id", &email_id)?;
    Ok(deleted(
        emails::delete(&st.db, &v, &Target::Me, email_id)
            .await?
            .as_ref()
            .map(EmailView::from),
    ))
}

pub async fn delete_user_email(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path((id, email_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (target, email_id) = (user_target(&id)?, path_id(&email_id)?);
    Ok(deleted(
        emails::delete(&st.db, &v, &target, email_id)
            .await?
            .as_ref()
            .map(EmailView::from),
    ))
}

// ---- impersonation tokens

fn token_view(st: &AppState, m: &entity::token::Model) -> TokenView {
    TokenView::new(m, tokens::shown_value(&st.keys, m))
}

pub async fn tokens(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let target = user_target(&id)?;
    let page = Page::from_params(&p)?;
    let state = p.parsed("state", StateFilter::parse)?.unwrap_or_default();
    let db = &st.db;
    let owner = tokens::owner(db, &v, Kind::Impersonation, &target).await?;
    let rows = tokens::list(db, &owner, Kind::Impersonation, state, page.window()).await?;
    let total = tokens::count(db, &owner, Kind::Impersonation, state).await?;
    Ok(paged(
        &st,
        &uri,
        page,
        total,
        rows.iter().map(|m| token_view(&st, m)).collect(),
    ))
}

pub async fn token(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path((id, token_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (target, token_id) = (user_target(&id)?, path_id(&token_id)?);
    let owner = tokens::owner(&st.db, &v, Kind::Impersonation, &target).await?;
    let m = tokens::get(&st.db, &owner, Kind::Impersonation, token_id).await?;
    Ok(Json(token_view(&st, &m)).into_response())
}

pub async fn create_token(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, AppError> {
    let target = user_target(&id)?;
    let input = NewToken {
        name: p.string("name")?,
        scopes: p.list("scopes")?,
        expires_at: p.date("expires_at")?,
    };
    let c = tokens::create(&st.db, &st.keys, &v, Kind::Impersonation, &target, input).await?;
    Ok((StatusCode::CREATED, Json(TokenView::new(&c.model, Some(c.value)))).into_response())
}

pub async fn revoke_token(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path((id, token_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (target, token_id) = (user_target(&id)?, path_id(&token_id)?);
    let owner = tokens::owner(&st.db, &v, Kind::Impersonation, &target).await?;
    tokens::revoke(&st.db, &owner, Kind::Impersonation, token_id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- events and activities

pub async fn events(
    State(st): State<AppState>,
    Caller(v): Caller,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let page = Page::from_params(&p)?;
    let targets: Vec<&str> = TARGET_TYPES.iter().map(|(f, _)| *f).collect();
    let filter = EventFilter {
        action: p.one_of("action", &events::ACTIONS)?,
        target_type: p.one_of("target_type", &targets)?,
        before: p.date("before")?,
        after: p.date("after")?,
        sort: p.parsed("sort", SortDir::parse)?.unwrap_or(SortDir::Desc),
    };
    let db = &st.db;
    let author = users::get(db, &v, &UserRef::parse(&id)).await?;
    let rows = events::list(db, author.id, &filter, page.window()).await?;
    let total = events::count(db, author.id, &filter).await?;
    let base = st.cfg.external_url();
    Ok(paged(
        &st,
        &uri,
        page,
        total,
        rows.iter().map(|e| EventView::new(&base, e, &author)).collect(),
    ))
}

pub async fn activities(
    State(st): State<AppState>,
    Signed(v): Signed,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let page = Page::from_params(&p)?;
    let q = ActivityQuery::new(&v, p.date("from")?)?;
    let rows = q.list(&st.db, page.window()).await?;
    let total = q.count(&st.db).await?;
    Ok(paged(
        &st,
        &uri,
        page,
        total,
        rows.iter().map(ActivityView::from).collect(),
    ))
}
