//! GitLab's JSON shapes. Entities are never the API: each view is built from a model here, with
//! GitLab's field names and order, timestamps as `2012-05-23T08:00:58.000Z`, dates as
//! `YYYY-MM-DD`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{email, event, identity, ssh_key, token, user};
use serde::Serialize;
use serde_json::Value;

use crate::domain::{events, tokens, users};

pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn ots(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// UserBasic: lists for non-admins, authors.
#[derive(Serialize)]
pub struct UserBasic {
    pub id: i32,
    pub username: String,
    pub name: String,
    pub state: String,
    pub avatar_url: String,
    pub web_url: String,
}

impl UserBasic {
    pub fn new(base: &str, u: &user::Model) -> Self {
        UserBasic {
            id: u.id,
            username: u.username.clone(),
            name: u.name.clone(),
            state: u.state.clone(),
            avatar_url: users::avatar_url(u),
            web_url: users::web_url(base, u),
        }
    }
}

/// User: a single user for anyone but admins.
#[derive(Serialize)]
pub struct UserSingle {
    #[serde(flatten)]
    pub basic: UserBasic,
    pub created_at: String,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub skype: String,
    pub linkedin: String,
    pub twitter: String,
    pub website_url: String,
    pub organization: String,
}

impl UserSingle {
    pub fn new(base: &str, u: &user::Model) -> Self {
        UserSingle {
            basic: UserBasic::new(base, u),
            created_at: ts(u.created_at),
            bio: u.bio.clone(),
            location: u.location.clone(),
            skype: u.skype.clone(),
            linkedin: u.linkedin.clone(),
            twitter: u.twitter.clone(),
            website_url: u.website_url.clone(),
            organization: u.organization.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct IdentityView {
    pub provider: String,
    pub extern_uid: String,
}

/// The admin representation (GET /user, and every user view an admin gets).
#[derive(Serialize)]
pub struct UserFull {
    pub id: i32,
    pub username: String,
    pub email: String,
    pub name: String,
    pub state: String,
    pub avatar_url: String,
    pub web_url: String,
    pub created_at: String,
    pub is_admin: bool,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub skype: String,
    pub linkedin: String,
    pub twitter: String,
    pub website_url: String,
    pub organization: String,
    pub last_sign_in_at: Option<String>,
    pub confirmed_at: Option<String>,
    pub last_activity_on: Option<String>,
    pub color_scheme_id: i32,
    pub projects_limit: i32,
    pub current_sign_in_at: Option<String>,
    pub identities: Vec<IdentityView>,
    pub can_create_group: bool,
    pub can_create_project: bool,
    pub two_factor_enabled: bool,
    pub external: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_token: Option<String>,
}

impl UserFull {
    pub fn new(base: &str, u: &user::Model, identities: &[identity::Model]) -> Self {
        UserFull {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            state: u.state.clone(),
            avatar_url: users::avatar_url(u),
            web_url: users::web_url(base, u),
            created_at: ts(u.created_at),
            is_admin: u.admin,
            bio: u.bio.clone(),
            location: u.location.clone(),
            skype: u.skype.clone(),
            linkedin: u.linkedin.clone(),
            twitter: u.twitter.clone(),
            website_url: u.website_url.clone(),
            organization: u.organization.clone(),
            last_sign_in_at: ots(u.last_sign_in_at),
            confirmed_at: ots(u.confirmed_at),
            last_activity_on: date(u.last_activity_on),
            color_scheme_id: u.color_scheme_id,
            projects_limit: u.projects_limit,
            current_sign_in_at: ots(u.current_sign_in_at),
            identities: identities
                .iter()
                .map(|i| IdentityView {
                    provider: i.provider.clone(),
                    extern_uid: i.extern_uid.clone(),
                })
                .collect(),
            can_create_group: u.can_create_group,
            can_create_project: u.projects_limit > 0,
            two_factor_enabled: u.two_factor_enabled,
            external: u.external,
            private_token: None,
        }
    }
}

/// Groups identities by user, for lists.
pub fn by_user(rows: Vec<identity::Model>) -> HashMap<i32, Vec<identity::Model>> {
    let mut map: HashMap<i32, Vec<identity::Model>> = HashMap::new();
    for r in rows {
        map.entry(r.user_id).or_default().push(r);
    }
    map
}

#[derive(Serialize)]
pub struct SshKeyView {
    pub id: i32,
    pub title: String,
    pub key: String,
    pub created_at: String,
}

impl From<&ssh_key::Model> for SshKeyView {
    fn from(k: &ssh_key::Model) -> Self {
        SshKeyView {
            id: k.id,
            title: k.title.clone(),
            key: k.key.clone(),
            created_at: ts(k.created_at),
        }
    }
}

#[derive(Serialize)]
pub struct EmailView {
    pub id: i32,
    pub email: String,
}

impl From<&email::Model> for EmailView {
    fn from(e: &email::Model) -> Self {
        EmailView {
            id: e.id,
            email: e.email.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct TokenView {
    pub id: i32,
    pub name: String,
    pub revoked: bool,
    pub created_at: String,
    pub scopes: Vec<String>,
    pub active: bool,
    pub expires_at: Option<String>,
    pub token: Option<String>,
    pub impersonation: bool,
}

impl TokenView {
    pub fn new(m: &token::Model, value: Option<String>) -> Self {
        TokenView {
            id: m.id,
            name: m.name.clone(),
            revoked: m.revoked,
            created_at: ts(m.created_at),
            scopes: tokens::scopes(m),
            active: tokens::is_active(m),
            expires_at: date(m.expires_at),
            token: value,
            impersonation: m.kind == "impersonation",
        }
    }
}

#[derive(Serialize)]
pub struct EventView {
    pub title: Option<String>,
    pub project_id: Option<i32>,
    pub action_name: &'static str,
    pub target_id: Option<i32>,
    pub target_type: Option<String>,
    pub author_id: i32,
    pub data: Option<Value>,
    pub target_title: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Value>,
    pub author: EventAuthor,
    pub author_username: String,
}

/// UserBasic in GitLab 9.x's order for event authors.
#[derive(Serialize)]
pub struct EventAuthor {
    pub name: String,
    pub username: String,
    pub id: i32,
    pub state: String,
    pub avatar_url: String,
    pub web_url: String,
}

impl EventView {
    pub fn new(base: &str, e: &event::Model, author: &user::Model) -> Self {
        let note = e.note.clone().map(|mut n| {
            if let Some(obj) = n.as_object_mut() {
                obj.entry("author")
                    .or_insert_with(|| serde_json::to_value(author_view(base, author)).unwrap_or_default());
            }
            n
        });
        EventView {
            title: e.title.clone(),
            project_id: e.project_id,
            action_name: events::action_name(e),
            target_id: e.target_id,
            target_type: e.target_type.clone(),
            author_id: e.author_id,
            data: e.data.clone(),
            target_title: e.target_title.clone(),
            created_at: ts(e.created_at),
            note,
            author: author_view(base, author),
            author_username: author.username.clone(),
        }
    }
}

fn author_view(base: &str, u: &user::Model) -> EventAuthor {
    EventAuthor {
        name: u.name.clone(),
        username: u.username.clone(),
        id: u.id,
        state: u.state.clone(),
        avatar_url: users::avatar_url(u),
        web_url: users::web_url(base, u),
    }
}

#[derive(Serialize)]
pub struct ActivityView {
    pub username: String,
    pub last_activity_on: Option<String>,
    pub last_activity_at: Option<String>,
}

impl From<&user::Model> for ActivityView {
    fn from(u: &user::Model) -> Self {
        ActivityView {
            username: u.username.clone(),
            last_activity_on: date(u.last_activity_on),
            last_activity_at: date(u.last_activity_on),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = DateTime::parse_from_rfc3339("2012-05-23T08:00:58Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(t), "2012-05-23T08:00:58.000Z");
    }
}
