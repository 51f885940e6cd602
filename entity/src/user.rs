use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub username: String,
    /// Lower-cased username; carries the unique index so all backends agree on case.
    pub username_canonical: String,
    /// The primary address as given (trimmed, lower-cased); the row in `emails` with
    /// `is_primary` carries the cross-table uniqueness.
    pub email: String,
    pub name: String,
    /// `active` | `blocked` | `ldap_blocked`.
    pub state: String,
    pub password_hash: String,
    pub admin: bool,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub skype: String,
    pub linkedin: String,
    pub twitter: String,
    pub website_url: String,
    pub organization: String,
    pub projects_limit: i32,
    pub can_create_group: bool,
    pub external: bool,
    pub two_factor_enabled: bool,
    pub color_scheme_id: i32,
    /// Bumped whenever every JWT issued so far must stop working (password change, block).
    pub auth_epoch: i32,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub password_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub last_sign_in_at: Option<DateTimeUtc>,
    pub current_sign_in_at: Option<DateTimeUtc>,
    pub last_activity_on: Option<Date>,
    pub created_by_id: Option<i32>,
    /// The address shown to everyone: one of the user's confirmed addresses, or none.
    pub public_email: Option<String>,
    /// A Discord user id (17 to 20 digits), or empty.
    pub discord: String,
    pub job_title: String,
    pub pronouns: Option<String>,
    /// The UI theme (GitLab's 1-11).
    pub theme_id: i32,
    /// The address commits are made with: one of the user's confirmed addresses, or none (the
    /// primary is used).
    pub commit_email: Option<String>,
    /// Administrators' note on the user, for admins' eyes only.
    pub note: Option<String>,
    /// Whether others see only who the user is (id, username, name, state, avatar, web URL).
    pub private_profile: bool,
    /// IANA time zone name (`Europe/Berlin`), from which `local_time` is shown; none by default.
    pub timezone: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::identity::Entity")]
    Identity,
    #[sea_orm(has_many = "super::ssh_key::Entity")]
    SshKey,
    #[sea_orm(has_many = "super::email::Entity")]
    Email,
    #[sea_orm(has_many = "super::token::Entity")]
    Token,
    #[sea_orm(has_many = "super::event::Entity")]
    Event,
}

impl Related<super::identity::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Identity.def()
    }
}
impl Related<super::ssh_key::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SshKey.def()
    }
}
impl Related<super::email::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Email.def()
    }
}
impl Related<super::token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Token.def()
    }
}
impl Related<super::event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
