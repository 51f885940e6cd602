//! Who is calling: credentials (token, JWT, sudo) -> [`Viewer`]. Both fronts resolve the caller
//! through [`authenticate`], so a credential means the same thing over GraphQL and REST.

pub mod extract;
pub mod jwt;
pub mod password;
pub mod secret;
pub mod token;

use std::sync::Arc;

use crate::domain::decode::ByIndex;
use chrono::Duration;
use entity::{token as token_e, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::{self, time};
use crate::error::{AppError, AppResult, TokenProblem};
pub use secret::Keys;

/// The scopes a credential carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scopes {
    pub api: bool,
    pub read_user: bool,
    pub sudo: bool,
}

impl Scopes {
    pub const NAMES: [&'static str; 3] = ["api", "read_user", "sudo"];

    pub fn all() -> Self {
        Scopes {
            api: true,
            read_user: true,
            sudo: true,
        }
    }

    /// Space- or comma-separated names; unknown names are ignored.
    pub fn parse(s: &str) -> Self {
        let mut out = Scopes::default();
        for name in s.split([' ', ',']).filter(|n| !n.is_empty()) {
            match name {
                "api" => out.api = true,
                "read_user" => out.read_user = true,
                "sudo" => out.sudo = true,
                _ => {}
            }
        }
        out
    }

    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.api {
            v.push("api");
        }
        if self.read_user {
            v.push("read_user");
        }
        if self.sudo {
            v.push("sudo");
        }
        v
    }
}

/// How the caller proved who they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Credential {
    #[default]
    None,
    /// The user's legacy private token.
    Legacy,
    Personal,
    Impersonation,
    /// A JWT from `signIn`.
    Jwt,
}

/// What a request does, for the scope check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The caller of one request, after sudo.
#[derive(Clone, Debug, Default)]
pub struct Viewer {
    /// The effective user (the sudo target when an admin acts through sudo).
    pub user: Option<Arc<user::Model>>,
    pub scopes: Scopes,
    pub credential: Credential,
    /// The admin who acts through sudo.
    pub sudo_by: Option<i32>,
}

impl Viewer {
    pub fn anonymous() -> Self {
        Viewer::default()
    }

    /// The signed-in user, or 401.
    pub fn user(&self) -> AppResult<&user::Model> {
        self.user.as_deref().ok_or(AppError::Unauthorized)
    }

    pub fn id(&self) -> Option<i32> {
        self.user.as_ref().map(|u| u.id)
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.admin)
    }

    pub fn impersonation(&self) -> bool {
        self.credential == Credential::Impersonation
    }

    /// Scope check for a whole request: reads need `api` or `read_user`, writes need `api`.
    /// Anonymous callers pass; each operation decides whether it needs a user.
    pub fn check_access(&self, access: Access) -> AppResult<()> {
        if self.user.is_none() {
            return Ok(());
        }
        let s = self.scopes;
        match access {
            Access::Read if s.api || s.read_user => Ok(()),
            Access::Read => Err(AppError::InsufficientScope("api read_user")),
            Access::Write if s.api => Ok(()),
            Access::Write => Err(AppError::InsufficientScope("api")),
        }
    }
}

/// What a request presented.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub token: Option<String>,
    pub sudo: Option<String>,
}

/// Resolves credentials into a viewer. Unknown tokens are 401, revoked or expired ones 401 with
/// the reason, blocked users 403; sudo needs an admin whose credential has the `sudo` scope.
pub async fn authenticate(db: &impl ConnectionTrait, keys: &Keys, creds: &Credentials) -> AppResult<Viewer> {
    let Some(raw) = creds.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        // GitLab ignores sudo without a credential; the request is simply anonymous.
        return Ok(Viewer::anonymous());
    };
    let mut viewer = if jwt::looks_like_jwt(raw) {
        from_jwt(db, keys, raw).await?
    } else {
        from_token(db, raw).await?
    };
    let user = viewer.user.clone().ok_or(AppError::Unauthorized)?;
    ensure_usable(&user)?;
    domain::activities::touch(db, &user).await?;
    if let Some(target) = creds.sudo.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if !user.admin {
            return Err(AppError::forbidden("Must be admin to use sudo"));
        }
        if !viewer.scopes.sudo {
            return Err(AppError::InsufficientScope("sudo"));
        }
        let found = domain::users::find_ref(db, &domain::users::UserRef::parse(target))
            .await?
            .ok_or_else(|| AppError::NotFoundMessage(format!("404 User with ID or username '{target}' Not Found")))?;
        ensure_usable(&found)?;
        viewer.sudo_by = Some(user.id);
        viewer.user = Some(Arc::new(found));
    }
    Ok(viewer)
}

fn ensure_usable(user: &user::Model) -> AppResult<()> {
    if user.state != "active" {
        return Err(AppError::forbidden("Your account has been blocked."));
    }
    Ok(())
}

async fn from_jwt(db: &impl ConnectionTrait, keys: &Keys, raw: &str) -> AppResult<Viewer> {
    let claims = keys.jwt.verify(raw).ok_or(AppError::Unauthorized)?;
    let id: i32 = claims.sub.parse().map_err(|_| AppError::Unauthorized)?;
    let user = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    // A blocked user's JWT gets the 403 their tokens get (blocking also bumped the epoch).
    ensure_usable(&user)?;
    if user.auth_epoch != claims.ver {
        return Err(AppError::Unauthorized);
    }
    Ok(Viewer {
        user: Some(Arc::new(user)),
        scopes: Scopes {
            api: true,
            read_user: true,
            sudo: false,
        },
        credential: Credential::Jwt,
        sudo_by: None,
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
        };
    }
    Ok(Viewer {
        user: Some(Arc::new(user)),
        scopes,
        credential,
        sudo_by: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        let s = Scopes::parse("api read_user");
        assert!(s.api && s.read_user && !s.sudo);
        assert_eq!(Scopes::parse("sudo,api").names(), vec!["api", "sudo"]);
        assert_eq!(Scopes::parse("bogus"), Scopes::default());
    }

    #[test]
    fn access_by_scope() {
        let u = Arc::new(crate::domain::fixtures::user(1));
        let v = |scopes| Viewer {
            user: Some(u.clone()),
            scopes,
            credential: Credential::Personal,
            sudo_by: None,
        };
        let read_only = v(Scopes {
            read_user: true,
            ..Default::default()
        });
        assert!(read_only.check_access(Access::Read).is_ok());
        assert!(matches!(
            read_only.check_access(Access::Write),
            Err(AppError::InsufficientScope(_))
        ));
        let sudo_only = v(Scopes {
            sudo: true,
            ..Default::default()
        });
        assert!(sudo_only.check_access(Access::Read).is_err());
        assert!(Viewer::anonymous().check_access(Access::Write).is_ok());
    }
}
