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
        projects_limit: 100,
        can_create_group: true,
        color_scheme_id: 1,
        created_at: now,
        updated_at: now,
        ..super::decode::blank_user()
    }
}
