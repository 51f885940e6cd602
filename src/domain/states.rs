//! The states of an account, as GitLab has them, and what each means for the account's
//! credentials. Transitions are made in `users.rs`, each by one conditional `UPDATE` whose row
//! count decides the answer and the event.

/// Can sign in and use the API.
pub const ACTIVE: &str = "active";
/// Blocked by an administrator.
pub const BLOCKED: &str = "blocked";
/// Blocked by LDAP synchronisation; the API cannot change it.
pub const LDAP_BLOCKED: &str = "ldap_blocked";
/// Deactivated by an administrator (dormant); signing in again reactivates it.
pub const DEACTIVATED: &str = "deactivated";
/// Banned by an administrator.
pub const BANNED: &str = "banned";
/// Signed up and waiting for an administrator's approval.
pub const PENDING: &str = "blocked_pending_approval";

/// GitLab's `blocked?`: the states in which the account is blocked in some way.
pub fn is_blocked(state: &str) -> bool {
    matches!(state, BLOCKED | LDAP_BLOCKED | BANNED | PENDING)
}

/// The state as GitLab words it in messages (`ldap blocked`).
pub fn human(state: &str) -> String {
    state.replace('_', " ")
}

/// Why a credential of an account in `state` is refused (`None`: it is not), as GitLab's reason
/// after `403 Forbidden - `.
pub fn denied_reason(state: &str, external_url: &str) -> Option<String> {
    match state {
        ACTIVE => None,
        PENDING => Some("Your account is pending approval from your administrator and hence blocked.".into()),
        DEACTIVATED => Some(format!(
            "Your account has been deactivated by your administrator. Please log back in from a web browser to \
             reactivate your account at {external_url}"
        )),
        _ => Some("Your account has been blocked.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_by_state() {
        assert_eq!(denied_reason(ACTIVE, "x"), None);
        for s in [BLOCKED, LDAP_BLOCKED, BANNED] {
            assert_eq!(denied_reason(s, "x").unwrap(), "Your account has been blocked.");
            assert!(is_blocked(s));
        }
        assert!(
            denied_reason(DEACTIVATED, "https://ug")
                .unwrap()
                .ends_with("account at https://ug")
        );
        assert!(!is_blocked(DEACTIVATED) && is_blocked(PENDING));
        assert_eq!(human(PENDING), "blocked pending approval");
    }
}
