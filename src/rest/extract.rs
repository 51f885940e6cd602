//! What REST handlers take from a request before the domain is asked: the caller (with the
//! token's scope checked against the method), and ids from the path.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;

use crate::auth;
use crate::domain::viewer::{Access, Viewer};
use crate::error::AppError;
use crate::state::AppState;

/// The caller, anonymous or not, with the token's scope checked against the method.
pub struct Caller(pub Viewer);

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let creds = auth::extract::credentials(&parts.headers, &parts.uri);
        let viewer = crate::domain::caller::authenticate(&st.db, &st.keys, &creds).await?;
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
