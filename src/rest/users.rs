//! `/users` and `/user`.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::extract::{Caller, Signed, path_id};
use super::pagination::{self, paged};
use super::params::Params;
use super::views;
use crate::domain::fields::{CreateUser, USER_ATTRS, UserRow};
use crate::domain::page::PageRequest;
use crate::domain::shape::{AttrTy, AttrVal, Env, On, Shape};
use crate::domain::users::{self, Read, SortDir, UserFilter, UserOrder, UserRef};
use crate::domain::{custom_attributes, policy};
use crate::error::AppError;
use crate::state::AppState;

/// The writable attributes of the declaration, from the parameters (`create` takes the ones of
/// creation too), in its order: the first bad one is the one reported.
fn attrs(p: &Params, create: bool) -> Result<CreateUser, AppError> {
    let mut out = CreateUser::default();
    for a in USER_ATTRS.iter().filter(|a| create || a.on != On::Create) {
        let Some(name) = a.rest else { continue };
        let v = match a.ty {
            AttrTy::Str => p.string(name)?.map(AttrVal::Str),
            AttrTy::Int => p.int(name)?.map(AttrVal::Int),
            AttrTy::Int32 => p.int32(name)?.map(|n| AttrVal::Int(n.into())),
            AttrTy::Bool => p.boolean(name)?.map(AttrVal::Bool),
        };
        if let Some(v) = v {
            (a.set)(&mut out, v);
        }
    }
    Ok(out)
}

fn env(st: &AppState) -> String {
    st.cfg.external_url()
}

/// A user in the admin's representation, with identities (only admins create and modify users).
async fn full(st: &AppState, row: UserRow) -> Result<Response, AppError> {
    let row = users::attach_identities(&st.db, row).await?;
    let base = env(st);
    let env = Env { external_url: &base };
    Ok(Json(views::user(&row, Shape::Admin, env)).into_response())
}

pub async fn list(
    State(st): State<AppState>,
    Caller(viewer): Caller,
    OriginalUri(uri): OriginalUri,
    p: Params,
) -> Result<Response, AppError> {
    let page = pagination::page(&p)?;
    let keyset = p
        .one_of("pagination", &["offset", "keyset"])?
        .is_some_and(|v| v == "keyset");
    let order = p.parsed("order_by", UserOrder::parse)?.unwrap_or_default();
    // Keyset pages go newest first unless told otherwise, as GitLab's do.
    let default_sort = if keyset { SortDir::Desc } else { SortDir::Asc };
    let sort = p.parsed("sort", SortDir::parse)?.unwrap_or(default_sort);
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
        admins: p.boolean("admins")?.unwrap_or(false),
        two_factor: p.parsed("two_factor", users::two_factor)?,
        humans: p.boolean("humans")?.unwrap_or(false),
        exclude_humans: p.boolean("exclude_humans")?.unwrap_or(false),
        exclude_active: p.boolean("exclude_active")?.unwrap_or(false),
        exclude_external: p.boolean("exclude_external")?.unwrap_or(false),
        without_project_bots: p.boolean("without_project_bots")?.unwrap_or(false),
        public_email: p.string("public_email")?,
        followers_of: None,
        followed_by: None,
        ids: None,
        usernames: None,
        custom_attributes: p.hash("custom_attributes")?,
    };
    let shape = policy::user_shape(&viewer, false);
    let read = Read {
        columns: None,
        identities: shape >= Shape::Full,
        custom_attributes: p.boolean("with_custom_attributes")?.unwrap_or(false),
    };
    if keyset {
        let cursor = p.string("cursor")?;
        let page = users::list_keyset(
            &st.db,
            &viewer,
            &filter,
            order,
            sort,
            read,
            page.per_page,
            cursor.as_deref(),
        )
        .await?;
        let base = env(&st);
        let env = Env { external_url: &base };
        let body = views::Views::new(&page.items, crate::domain::fields::USER, shape, env);
        return Ok(pagination::keyset(&base, &uri, page.next.as_deref(), body));
    }
    let listed = users::list(
        &st.db,
        &viewer,
        &filter,
        order,
        sort,
        read,
        PageRequest::Numbered(page),
        true,
    )
    .await?;
    let base = env(&st);
    let env = Env { external_url: &base };
    let body = views::Views::new(&listed.items, crate::domain::fields::USER, shape, env);
    Ok(paged(&base, &uri, page, &listed, body))
}

pub async fn show(
    State(st): State<AppState>,
    Caller(viewer): Caller,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let with_attributes = p.boolean("with_custom_attributes")?.unwrap_or(false);
    let row = match policy::user_shape(&viewer, true) {
        Shape::Full | Shape::Admin => users::get_with_identities(&st.db, &viewer, id).await?,
        _ => users::get(&st.db, &viewer, &UserRef::Id(id)).await?,
    };
    let shape = policy::user_shape_of(&viewer, true, row.subject());
    let row = crate::domain::follows::with_counts(&st.db, &viewer, row).await?;
    let row = match with_attributes {
        true => users::attach_custom_attributes(&st.db, &viewer, row).await?,
        false => row,
    };
    let base = env(&st);
    let env = Env { external_url: &base };
    Ok(Json(views::user(&row, shape, env)).into_response())
}

pub async fn me(State(st): State<AppState>, Signed(viewer): Signed) -> Result<Response, AppError> {
    let row = users::me(&st.db, &st.keys, &viewer).await?;
    let base = env(&st);
    let env = Env { external_url: &base };
    Ok(Json(views::user(&row, policy::own_shape(&viewer), env)).into_response())
}

pub async fn create(State(st): State<AppState>, Signed(viewer): Signed, p: Params) -> Result<Response, AppError> {
    let u = users::create(&st, &viewer, attrs(&p, true)?).await?;
    Ok((StatusCode::CREATED, full(&st, u).await?).into_response())
}

pub async fn update(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let attrs = attrs(&p, false)?.attrs;
    let u = users::update(&st.db, &st.changes, &viewer, &UserRef::Id(id), attrs).await?;
    full(&st, u).await
}

pub async fn delete(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    match users::delete(&st.db, &st.changes, &viewer, &UserRef::Id(id)).await? {
        Some(row) => {
            let base = env(&st);
            let env = Env { external_url: &base };
            Ok(Json(views::user(&row, Shape::Admin, env)).into_response())
        }
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

pub async fn delete_identity(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path((id, provider)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let r = UserRef::Id(path_id(&id)?);
    users::delete_identity(&st.db, &st.changes, &viewer, &r, &provider).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn disable_two_factor(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    users::disable_two_factor(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- custom attributes

fn attribute(a: &entity::custom_attribute::Model) -> Response {
    Json(json!({ "key": a.key, "value": a.value })).into_response()
}

pub async fn custom_attributes(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let list = custom_attributes::list(&st.db, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    let body: Vec<_> = list.iter().map(|a| json!({ "key": a.key, "value": a.value })).collect();
    Ok(Json(body).into_response())
}

pub async fn custom_attribute(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let a = custom_attributes::get(&st.db, &viewer, &UserRef::Id(path_id(&id)?), &key).await?;
    Ok(attribute(&a))
}

pub async fn set_custom_attribute(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path((id, key)): Path<(String, String)>,
    p: Params,
) -> Result<Response, AppError> {
    let r = UserRef::Id(path_id(&id)?);
    let a = custom_attributes::set(&st.db, &viewer, &r, &key, p.string("value")?).await?;
    Ok(attribute(&a))
}

pub async fn delete_custom_attribute(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path((id, key)): Path<(String, String)>,
) -> Result<Response, AppError> {
    custom_attributes::delete(&st.db, &viewer, &UserRef::Id(path_id(&id)?), &key).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- account states

pub async fn deactivate(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (changed, _) = users::deactivate(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    // GitLab answers `null` for a user already deactivated.
    let body = if changed { json!(true) } else { json!(null) };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn activate(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    users::activate(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok((StatusCode::CREATED, Json(true)).into_response())
}

pub async fn ban(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    users::ban(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok((StatusCode::CREATED, Json(true)).into_response())
}

pub async fn unban(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    users::unban(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok((StatusCode::CREATED, Json(true)).into_response())
}

pub async fn approve(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    users::approve(&st.db, &st.changes, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "message": "Success" }))).into_response())
}

pub async fn reject(
    State(st): State<AppState>,
    Signed(viewer): Signed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    users::reject(&st, &viewer, &UserRef::Id(path_id(&id)?)).await?;
    Ok(Json(json!({ "message": "Success" })).into_response())
}
