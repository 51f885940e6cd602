//! A user's status: `GET|PUT|PATCH /user/status` and `GET /users/:id_or_username/status`.

use axum::extract::{Path, State};
use axum::response::Response;

use super::extract::{Caller, Signed};
use super::params::Params;
use crate::domain::fields::{STATUS, StatusRow};
use crate::domain::status::{self, StatusInput};
use crate::domain::users::UserRef;
use crate::error::AppError;
use crate::state::AppState;

fn shown(st: &AppState, row: &StatusRow) -> Response {
    super::views::one(st, row, STATUS)
}

fn input(p: &Params) -> Result<StatusInput, AppError> {
    Ok(StatusInput {
        emoji: p.string("emoji")?,
        message: p.string("message")?,
        availability: p.one_of("availability", status::AVAILABILITIES)?,
        clear_status_after: p.one_of("clear_status_after", &status::clear_after_names())?,
    })
}

pub async fn mine(State(st): State<AppState>, Signed(v): Signed) -> Result<Response, AppError> {
    let row = status::of(&st.db, v.user()?.id).await?;
    Ok(shown(&st, &row))
}

/// `PUT`: every part from the request (a part left out is cleared).
pub async fn replace(State(st): State<AppState>, Signed(v): Signed, p: Params) -> Result<Response, AppError> {
    let row = status::set(&st.db, &st.changes, &v, input(&p)?, true).await?;
    Ok(shown(&st, &row))
}

/// `PATCH`: only the parts given.
pub async fn change(State(st): State<AppState>, Signed(v): Signed, p: Params) -> Result<Response, AppError> {
    let row = status::set(&st.db, &st.changes, &v, input(&p)?, false).await?;
    Ok(shown(&st, &row))
}

pub async fn of_user(
    State(st): State<AppState>,
    Caller(v): Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let row = status::of_user(&st.db, &v, &UserRef::parse(&id)).await?;
    Ok(shown(&st, &row))
}
