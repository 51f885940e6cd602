//! Values for unit tests.

use entity::user;

/// An active, confirmed-less, non-admin user with the given id and `u<id>` names.
pub fn user(id: i32) -> user::Model {
    let now = super::time::now();
    user::Model {
        id,
        username: format!("u{id}"),
        username_canonical: format!("u{id}"),
        email: format!("u{id}@example.com"),
        name: "U".into(),
        state: "active".into(),
        password_hash: String::new(),
        admin: false,
        bio: None,
        location: None,
        skype: String::new(),
        linkedin: String::new(),
        twitter: String::new(),
        website_url: String::new(),
        organization: String::new(),
        projects_limit: 100,
        can_create_group: true,
        external: false,
        two_factor_enabled: false,
        color_scheme_id: 1,
        auth_epoch: 0,
        failed_attempts: 0,
        locked_until: None,
        password_expires_at: None,
        created_at: now,
        updated_at: now,
        confirmed_at: None,
        last_sign_in_at: None,
        current_sign_in_at: None,
        last_activity_on: None,
        created_by_id: None,
    }
}
