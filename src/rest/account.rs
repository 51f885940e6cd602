//! SSH keys, e-mails, impersonation tokens, events and activities under `/user` and `/users/:id`.
//! Keys and e-mails are one kind of route each, for any collection a user owns
//! (`domain::owned`): the handlers below are generic over it.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::extract::{Caller, Signed, Subject, SubjectRecord, path_id};
use super::pagination::{self, paged};
use super::params::Params;
use super::views::{self, EventView, View, WithOwner};
use crate::domain::activities;
use crate::domain::decode::ByIndex;
use crate::domain::emails::{self, NewEmail};
use crate::domain::events::{self, EventFilter, TARGET_TYPES};
use crate::domain::fields::{ACTIVITY, SSH_KEY, TOKEN, USER, UserRow};
use crate::domain::gpg_keys;
use crate::domain::owned::{self, Owned};
use crate::domain::owner::Target;
use crate::domain::page::PageRequest;
use crate::domain::shape::{Env, Shape};
use crate::domain::ssh_keys::{self, NewKey};
use crate::domain::tokens::{self, Kind, NewToken, StateFilter, TokenFilter};
use crate::domain::users::{self, SortDir, UserRef};
use crate::domain::viewer::Viewer;
use crate::error::AppError;
use crate::state::AppState;

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

// ---- collections a user owns: SSH keys, e-mails

/// What a collection's routes need besides the domain's generic part: how to add one.
pub trait OwnedRoutes: Owned<Model: Send + Sync + 'static>
where
    ByIndex<Self::Model>: sea_orm::FromQueryResult + Send + Sync,
{
    fn add(
        st: &AppState,
        viewer: &Viewer,
        target: &Target,
        p: &Params,
    ) -> impl std::future::Future<Output = Result<Self::Model, AppError>> + Send;
}

impl OwnedRoutes for entity::ssh_key::Entity {
    async fn add(st: &AppState, viewer: &Viewer, target: &Target, p: &Params) -> Result<Self::Model, AppError> {
        let input = NewKey {
            title: p.string("title")?,
            key: p.string("key")?,
            expires_at: p.datetime("expires_at")?,
        };
        ssh_keys::add(&st.db, ssh_keys::KeyRules::from_config(&st.cfg), viewer, target, input).await
    }
}

impl OwnedRoutes for entity::gpg_key::Entity {
    async fn add(st: &AppState, viewer: &Viewer, target: &Target, p: &Params) -> Result<Self::Model, AppError> {
        gpg_keys::add(&st.db, viewer, target, p.string("key")?).await
    }
}

impl OwnedRoutes for entity::email::Entity {
    async fn add(st: &AppState, viewer: &Viewer, target: &Target, p: &Params) -> Result<Self::Model, AppError> {
        let input = NewEmail {
            email: p.string("email")?,
            skip_confirmation: p.boolean("skip_confirmation")?.unwrap_or(false),
        };
        emails::add(st, viewer, target, input).await
    }
}

pub async fn list_owned<E>(
    State(st): State<AppState>,
    Caller(v): Caller,
    Subject(target): Subject,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError>
where
    E: OwnedRoutes,
    ByIndex<E::Model>: sea_orm::FromQueryResult + Send + Sync,
{
    let owner = owned::readable::<E>(&st.db, &v, &target).await?;
    let page = pagination::page(&p)?;
    let listed =
        crate::domain::page::list(&st.db, &owned::of_owner::<E>(owner), PageRequest::Numbered(page), true).await?;
    Ok(views::basic_page(&st, &uri, page, &listed, E::FIELDS))
}

pub async fn add_owned<E>(
    State(st): State<AppState>,
    Signed(v): Signed,
    Subject(target): Subject,
    p: Params,
) -> Result<Response, AppError>
where
    E: OwnedRoutes,
    ByIndex<E::Model>: sea_orm::FromQueryResult + Send + Sync,
{
    let m = E::add(&st, &v, &target, &p).await?;
    Ok((StatusCode::CREATED, views::one(&st, &m, E::FIELDS)).into_response())
}

pub async fn get_owned<E>(
    State(st): State<AppState>,
    Caller(v): Caller,
    SubjectRecord(target, id): SubjectRecord,
) -> Result<Response, AppError>
where
    E: OwnedRoutes,
    ByIndex<E::Model>: sea_orm::FromQueryResult + Send + Sync,
{
    let owner = owned::readable::<E>(&st.db, &v, &target).await?;
    Ok(views::one(&st, &owned::get::<E>(&st.db, &owner, id).await?, E::FIELDS))
}

pub async fn delete_owned<E>(
    State(st): State<AppState>,
    Signed(v): Signed,
    SubjectRecord(target, id): SubjectRecord,
) -> Result<Response, AppError>
where
    E: OwnedRoutes,
    ByIndex<E::Model>: sea_orm::FromQueryResult + Send + Sync,
{
    let gone = owned::delete::<E>(&st.db, &v, &target, id).await?;
    let base = st.cfg.external_url();
    let env = Env { external_url: &base };
    Ok(deleted(
        gone.as_ref().map(|m| View::new(m, E::FIELDS, Shape::Basic, env)),
    ))
}

pub async fn delete_gpg_key(
    State(st): State<AppState>,
    Signed(v): Signed,
    SubjectRecord(target, id): SubjectRecord,
) -> Result<Response, AppError> {
    owned::delete::<entity::gpg_key::Entity>(&st.db, &v, &target, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Revoking a GPG key: GitLab deletes it and marks the commits it signed unverified; usergraph
/// keeps no commits, so it is the deletion, answered 202.
pub async fn revoke_gpg_key(
    State(st): State<AppState>,
    Signed(v): Signed,
    SubjectRecord(target, id): SubjectRecord,
) -> Result<Response, AppError> {
    owned::delete::<entity::gpg_key::Entity>(&st.db, &v, &target, id).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

// ---- any key, for admins

/// A key with its owner, as GitLab's `/keys` answers.
fn key_with_owner(st: &AppState, key: &entity::ssh_key::Model, owner: &UserRow) -> Response {
    let base = st.cfg.external_url();
    let env = Env { external_url: &base };
    Json(WithOwner {
        record: View::new(key, SSH_KEY, Shape::Basic, env),
        owner: View::new(owner, USER, Shape::Full, env),
    })
    .into_response()
}

pub async fn key_by_id(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (key, owner) = ssh_keys::find_with_owner(&st.db, &v, path_id(&id)?).await?;
    Ok(key_with_owner(&st, &key, &owner))
}

pub async fn key_by_fingerprint(
    State(st): State<AppState>,
    Signed(v): Signed,
    p: Params,
) -> Result<Response, AppError> {
    let Some(fingerprint) = p.string("fingerprint")? else {
        return Err(AppError::missing(&["fingerprint"]));
    };
    let (key, owner) = ssh_keys::find_by_fingerprint(&st.db, &v, &fingerprint).await?;
    Ok(key_with_owner(&st, &key, &owner))
}

// ---- impersonation tokens

pub async fn tokens(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let target = user_target(&id)?;
    let page = pagination::page(&p)?;
    let state = p.parsed("state", StateFilter::parse)?.unwrap_or_default();
    let owner = tokens::owner(&st.db, &v, Kind::Impersonation, &target).await?;
    let listed = tokens::list(
        &st.db,
        &st.keys,
        owner,
        Kind::Impersonation,
        TokenFilter {
            state,
            ..Default::default()
        },
        PageRequest::Numbered(page),
        true,
    )
    .await?;
    Ok(views::basic_page(&st, &uri, page, &listed, TOKEN))
}

pub async fn token(
    State(st): State<AppState>,
    Signed(v): Signed,
    Path((id, token_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (target, token_id) = (user_target(&id)?, path_id(&token_id)?);
    let owner = tokens::owner(&st.db, &v, Kind::Impersonation, &target).await?;
    let m = tokens::get(&st.db, &owner, Kind::Impersonation, token_id).await?;
    Ok(views::one(&st, &tokens::shown(&st.keys, m), TOKEN))
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
        description: p.string("description")?,
    };
    let c = tokens::create(&st.db, &st.keys, &v, Kind::Impersonation, &target, input).await?;
    Ok((StatusCode::CREATED, views::one(&st, &c, TOKEN)).into_response())
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
    let page = pagination::page(&p)?;
    let targets: Vec<&str> = TARGET_TYPES.iter().map(|(f, _)| *f).collect();
    let filter = EventFilter {
        action: p.one_of("action", &events::ACTIONS)?,
        target_type: p.one_of("target_type", &targets)?,
        before: p.date("before")?,
        after: p.date("after")?,
        sort: p.parsed("sort", SortDir::parse)?.unwrap_or(SortDir::Desc),
    };
    let author = users::get(&st.db, &v, &UserRef::parse(&id)).await?;
    let listed = events::list(&st.db, author.id(), &filter, PageRequest::Numbered(page), true).await?;
    let base = st.cfg.external_url();
    let env = Env { external_url: &base };
    let items: Vec<EventView> = listed.items.iter().map(|e| EventView::new(env, e, &author)).collect();
    Ok(paged(&base, &uri, page, &listed, items))
}

pub async fn activities(
    State(st): State<AppState>,
    Signed(v): Signed,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let page = pagination::page(&p)?;
    let listed = activities::list(&st.db, &v, p.date("from")?, PageRequest::Numbered(page), true).await?;
    Ok(views::basic_page(&st, &uri, page, &listed, ACTIVITY))
}
