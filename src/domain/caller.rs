//! Who is calling: credentials (token, JWT, sudo) -> [`Viewer`]. Both fronts resolve the caller
//! through [`authenticate`], so a credential means the same thing over GraphQL and REST.
//! `auth/` only reads credentials off a request and does the cryptography; what they mean is
//! decided here.

use std::sync::Arc;

use chrono::Duration;
use entity::{token as token_e, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::decode::ByIndex;
use super::viewer::{Credential, Scopes, Viewer};
use super::{activities, policy, states, time, users};
use crate::auth::extract::Credentials;
use crate::auth::{Keys, jwt, token};
use crate::config::Config;
use crate::error::{AppError, AppResult, TokenProblem};

/// Resolves credentials into a viewer. Unknown tokens are 401, revoked or expired ones 401 with
/// the reason, users who are not active 403 with theirs (`states::denied_reason`, whose text for
/// a deactivated account names the external URL); sudo needs an admin whose credential has the
/// `sudo` scope.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    keys: &Keys,
    cfg: &Config,
    creds: &Credentials,
) -> AppResult<Viewer> {
    let Some(raw) = creds.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        // GitLab ignores sudo without a credential; the request is simply anonymous.
        return Ok(Viewer::anonymous());
    };
    let mut viewer = if jwt::looks_like_jwt(raw) {
        from_jwt(db, keys, cfg, raw).await?
    } else {
        from_token(db, raw).await?
    };
    let user = viewer.user.clone().ok_or(AppError::Unauthorized)?;
    ensure_usable(&user, cfg)?;
    activities::touch(db, &user).await?;
    if let Some(target) = creds.sudo.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if !policy::may_sudo(&user) {
            return Err(AppError::forbidden("Must be admin to use sudo"));
        }
        if !viewer.scopes.sudo {
            return Err(AppError::InsufficientScope("sudo"));
        }
        let found = users::find_ref(db, &users::UserRef::parse(target))
            .await?
            .ok_or_else(|| AppError::NotFoundMessage(format!("404 User with ID or username '{target}' Not Found")))?;
        ensure_usable(&found, cfg)?;
        viewer.sudo_by = Some(user.id);
        viewer.user = Some(Arc::new(found));
    }
    Ok(viewer)
}

fn ensure_usable(user: &user::Model, cfg: &Config) -> AppResult<()> {
    if user.state == states::ACTIVE {
        return Ok(());
    }
    match states::denied_reason(&user.state, &cfg.external_url()) {
        Some(reason) => Err(AppError::forbidden(reason)),
        None => Ok(()),
    }
}

async fn from_jwt(db: &impl ConnectionTrait, keys: &Keys, cfg: &Config, raw: &str) -> AppResult<Viewer> {
    let claims = keys.jwt.verify(raw).ok_or(AppError::Unauthorized)?;
    let id: i32 = claims.sub.parse().map_err(|_| AppError::Unauthorized)?;
    let user = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    // A blocked user's JWT gets the 403 their tokens get (blocking also bumped the epoch).
    ensure_usable(&user, cfg)?;
    if user.auth_epoch != claims.ver {
        return Err(AppError::Unauthorized);
    }
    Ok(Viewer {
        user: Some(Arc::new(user)),
        scopes: Scopes {
            api: true,
            read_user: true,
            ..Default::default()
        },
        credential: Credential::Jwt,
        sudo_by: None,
        token_id: None,
    })
}

async fn from_token(db: &impl ConnectionTrait, raw: &str) -> AppResult<Viewer> {
    let digest = token::digest(raw);
    // Digests are unique: at most one row, and no `LIMIT ?` (see `domain::decode::unique`).
    let (tok, user) = token_e::Entity::find()
        .filter(token_e::Column::TokenDigest.eq(digest.as_str()))
        .find_also_related(user::Entity)
        .into_model::<ByIndex<token_e::Model>, ByIndex<user::Model>>()
        .all(db)
        .await?
        .into_iter()
        .next()
        .map(|(t, u)| (t.0, u.map(|u| u.0)))
        .ok_or(AppError::Unauthorized)?;
    let user = user.ok_or(AppError::Unauthorized)?;
    if !token::digest_eq(&tok.token_digest, &digest) {
        return Err(AppError::Unauthorized);
    }
    if tok.revoked {
        return Err(AppError::InvalidToken(TokenProblem::Revoked));
    }
    if tok.expires_at.is_some_and(|d| d < time::today()) {
        return Err(AppError::InvalidToken(TokenProblem::Expired));
    }
    let now = time::now();
    if tok.last_used_at.is_none_or(|t| now - t > Duration::minutes(10)) {
        token_e::Entity::update_many()
            .col_expr(token_e::Column::LastUsedAt, Expr::value(now))
            .filter(token_e::Column::Id.eq(tok.id))
            .exec(db)
            .await?;
    }
    let credential = match tok.kind.as_str() {
        "legacy" => Credential::Legacy,
        "impersonation" => Credential::Impersonation,
        _ => Credential::Personal,
    };
    let mut scopes = Scopes::parse(&tok.scopes);
    if credential == Credential::Legacy {
        // The legacy private token does everything its user may, sudo included for admins.
        scopes = Scopes {
            api: true,
            read_user: true,
            sudo: user.admin,
            ..Default::default()
        };
    }
    Ok(Viewer {
        user: Some(Arc::new(user)),
        scopes,
        credential,
        sudo_by: None,
        token_id: (credential != Credential::Legacy).then_some(tok.id),
    })
}
