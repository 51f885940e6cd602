//! What REST handlers take from a request before the domain is asked: the caller (with the
//! token's scope checked against the method), and ids from the path.

use axum::extract::{FromRequestParts, Path};
use axum::http::Method;
use axum::http::request::Parts;

use crate::auth;
use crate::domain::owner::Target;
use crate::domain::users::UserRef;
use crate::domain::viewer::{Access, Viewer};
use crate::error::AppError;
use crate::state::AppState;

/// The caller, anonymous or not, with the token's scope checked against the method.
pub struct Caller(pub Viewer);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let creds = auth::extract::credentials(&parts.headers, &parts.uri);
        let viewer = crate::domain::caller::authenticate(&st.db, &st.keys, &st.cfg, &creds).await?;
        let access = if parts.method == Method::GET || parts.method == Method::HEAD {
            Access::Read
        } else {
            Access::Write
        };
        viewer.check_access(access)?;
        Ok(Caller(viewer))
    }
}

/// A signed-in caller: anonymous requests are 401 before any parameter is looked at.
pub struct Signed(pub Viewer);

impl FromRequestParts<AppState> for Signed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let Caller(viewer) = Caller::from_request_parts(parts, st).await?;
        viewer.user()?;
        Ok(Signed(viewer))
    }
}

/// A signed-in caller whose token may hold any scope: the routes about the calling token itself
/// (`/personal_access_tokens/self`), which GitLab opens to every scope.
pub struct AnyScope(pub Viewer);

impl FromRequestParts<AppState> for AnyScope {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let creds = auth::extract::credentials(&parts.headers, &parts.uri);
        let viewer = crate::domain::caller::authenticate(&st.db, &st.keys, &st.cfg, &creds).await?;
        viewer.user()?;
        Ok(AnyScope(viewer))
    }
}

/// A numeric id in a `/users/:id/...` path; anything else is GitLab's route 404.
pub fn path_id(s: &str) -> Result<i32, AppError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::RouteNotFound);
    }
    s.parse().map_err(|_| AppError::RouteNotFound)
}

/// A numeric id in a `/user/...` path; anything else is 400 `<name> is invalid`.
pub fn param_id(name: &str, s: &str) -> Result<i32, AppError> {
    s.parse::<i32>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| AppError::invalid_param(name))
}

/// Whose records a `/user/...` or `/users/:id/...` route is about: the caller's, or those of the
/// user `:id`: a number, or for a read a username too, as today's GitLab takes
/// `/users/:id_or_username/keys` (a path `:id` of neither form is GitLab's route 404).
pub struct Subject(pub Target);

/// [`Subject`], and the record the route's last parameter names (`key_id`, `email_id`): under
/// `/users/:id` a number or the route 404, under `/user` a number or 400 `<name> is invalid`.
pub struct SubjectRecord(pub Target, pub i32);

async fn path_params(parts: &mut Parts) -> Result<Vec<(String, String)>, AppError> {
    let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, &())
        .await
        .map_err(|_| AppError::RouteNotFound)?;
    Ok(params)
}

fn subject(params: &[(String, String)]) -> Result<Target, AppError> {
    match params.iter().find(|(name, _)| name == "id") {
        Some((_, id)) => Ok(Target::User(UserRef::Id(path_id(id)?))),
        None => Ok(Target::Me),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Subject {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let params = path_params(parts).await?;
        if parts.method == Method::GET
            && let Some((_, id)) = params.iter().find(|(name, _)| name == "id")
        {
            return Ok(Subject(Target::User(UserRef::parse(id))));
        }
        Ok(Subject(subject(&params)?))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SubjectRecord {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let params = path_params(parts).await?;
        let target = subject(&params)?;
        let (name, value) = params
            .iter()
            .find(|(name, _)| name != "id")
            .ok_or(AppError::RouteNotFound)?;
        let id = match target {
            Target::Me => param_id(name, value)?,
            Target::User(_) => path_id(value)?,
        };
        Ok(SubjectRecord(target, id))
    }
}
