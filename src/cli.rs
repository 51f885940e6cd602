//! Operator commands that act on the database directly: `create-admin` and `create-token`.
//! They run the same domain rules as the API, acting as the first administrator.

use std::sync::Arc;

use chrono::NaiveDate;
use entity::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::AppState;
use crate::auth::token;
use crate::domain::owner::Target;
use crate::domain::tokens::{self, Kind, NewToken};
use crate::domain::users::{self, CreateUser, UserAttrs, UserRef};
use crate::domain::viewer::{Credential, Scopes, Viewer};

/// The first active administrator, acting with every scope.
async fn operator(st: &AppState) -> anyhow::Result<Viewer> {
    let admin = user::Entity::find()
        .filter(user::Column::Admin.eq(true))
        .filter(user::Column::State.eq("active"))
        .order_by_asc(user::Column::Id)
        .one(&st.db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("there is no active administrator to act as"))?;
    Ok(Viewer {
        user: Some(Arc::new(admin)),
        scopes: Scopes::all(),
        credential: Credential::Legacy,
        sudo_by: None,
        token_id: None,
    })
}

fn fail(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message())
}

/// Creates an administrator; returns the password (generated when none is given).
pub async fn create_admin(
    st: &AppState,
    username: String,
    email: String,
    name: Option<String>,
    password: Option<String>,
) -> anyhow::Result<(i32, String)> {
    let viewer = operator(st).await?;
    let password = password.unwrap_or_else(|| token::generate(""));
    let input = CreateUser {
        attrs: UserAttrs {
            name: Some(name.unwrap_or_else(|| username.clone())),
            username: Some(username),
            email: Some(email),
            password: Some(password.clone()),
            admin: Some(true),
            ..Default::default()
        },
        reset_password: false,
        skip_confirmation: true,
    };
    let u = users::create(st, &viewer, input).await.map_err(fail)?;
    Ok((u.id(), password))
}

/// Creates a personal access token for a user (by id or username); returns its value.
pub async fn create_token(
    st: &AppState,
    user: &str,
    name: String,
    scopes: Vec<String>,
    expires_at: Option<NaiveDate>,
) -> anyhow::Result<String> {
    let viewer = operator(st).await?;
    let input = NewToken {
        name: Some(name),
        scopes: Some(scopes),
        expires_at,
        description: None,
    };
    let target = Target::User(UserRef::parse(user));
    let created = tokens::create(&st.db, &st.keys, &viewer, Kind::Personal, &target, input)
        .await
        .map_err(fail)?;
    created
        .value
        .ok_or_else(|| anyhow::anyhow!("the new token has no value"))
}
