//! The caller of one request as the domain sees it: who (after sudo), with which scopes, through
//! which kind of credential. Made by [`super::caller::authenticate`].

use std::sync::Arc;

use entity::user;

use crate::error::{AppError, AppResult};

/// The scopes a credential carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scopes {
    pub api: bool,
    /// Reads only, of everything `api` reads.
    pub read_api: bool,
    pub read_user: bool,
    pub sudo: bool,
    /// May rotate itself (`/personal_access_tokens/self/rotate`) and nothing else.
    pub self_rotate: bool,
}

impl Scopes {
    pub const NAMES: [&'static str; 5] = ["api", "read_api", "read_user", "sudo", "self_rotate"];

    pub fn all() -> Self {
        Scopes {
            api: true,
            read_api: true,
            read_user: true,
            sudo: true,
            self_rotate: true,
        }
    }

    /// Space- or comma-separated names; unknown names are ignored.
    pub fn parse(s: &str) -> Self {
        let mut out = Scopes::default();
        for name in s.split([' ', ',']).filter(|n| !n.is_empty()) {
            match name {
                "api" => out.api = true,
                "read_api" => out.read_api = true,
                "read_user" => out.read_user = true,
                "sudo" => out.sudo = true,
                "self_rotate" => out.self_rotate = true,
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
        if self.read_api {
            v.push("read_api");
        }
        if self.read_user {
            v.push("read_user");
        }
        if self.sudo {
            v.push("sudo");
        }
        if self.self_rotate {
            v.push("self_rotate");
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
    /// The personal access or impersonation token that authenticated the request.
    pub token_id: Option<i32>,
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
            Access::Read if s.api || s.read_api || s.read_user => Ok(()),
            Access::Read => Err(AppError::InsufficientScope("api read_user")),
            Access::Write if s.api => Ok(()),
            Access::Write => Err(AppError::InsufficientScope("api")),
        }
    }
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
        let u = Arc::new(crate::domain::fields::fixture(1));
        let v = |scopes| Viewer {
            user: Some(u.clone()),
            scopes,
            credential: Credential::Personal,
            sudo_by: None,
            token_id: None,
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
        let read_api = v(Scopes::parse("read_api"));
        assert!(read_api.check_access(Access::Read).is_ok());
        assert!(read_api.check_access(Access::Write).is_err());
        let rotate_only = v(Scopes::parse("self_rotate read_repository"));
        assert!(rotate_only.check_access(Access::Read).is_err());
        assert!(rotate_only.check_access(Access::Write).is_err());
        assert!(Viewer::anonymous().check_access(Access::Write).is_ok());
    }
}
