//! The declaration: every exposed field of a user, an identity, an SSH key, an e-mail, an access
//! token and an activity record, once, and every writable attribute of a user, once. Both fronts
//! are built from these tables (see `shape.rs` for what a row of them says):
//! - GraphQL registers and resolves `User`, `Identity`, `SshKey`, `Email`, `AccessToken` and
//!   `UserActivity` from them (`graphql/declared.rs`), on the derived path and the one-pass path
//!   (`graphql/fast.rs`) alike, and its `CreateUserInput` / `UpdateUserInput` from [`USER_ATTRS`];
//! - REST writes GitLab's JSON as cuts of them (`rest/views.rs`), and parses the parameters of
//!   `POST /users` and `PUT /users/:id` from [`USER_ATTRS`];
//! - the OpenAPI document describes them (`rest/openapi.rs`);
//! - a page of users read for some fields only reads their columns ([`UserRow`], the decoders
//!   below), and a deleted user travels to subscribers as the columns of these fields
//!   ([`snapshot`]).
//!
//! A field added here shows up on both fronts with its visibility; a field that is not here
//! cannot be served. The order of each table is the order of GitLab's JSON.

use chrono::{DateTime, Utc};
use entity::{custom_attribute, email, gpg_key, identity, ssh_key, token, user};
use sea_orm::{DbErr, Iterable, ModelTrait, QueryResult};
use serde_json::{Map, Value as Json};

use super::decode::{by_index, get, on_backend_row};
use super::shape::{Attr, AttrTy, AttrVal, Columns, Field, On, Shape, Subject, Ty, Val, Who};
use super::time;

/// The bit of a `users` column in [`Columns`].
pub const fn column(c: user::Column) -> Columns {
    1 << (c as u32)
}

/// The columns reading a field of `who` needs besides its own: a profile field is read with the
/// user's `private_profile`, which says who may see it.
pub const fn who_columns(who: Who) -> Columns {
    match who {
        Who::Profile => column(user::Column::PrivateProfile),
        _ => 0,
    }
}

/// Every `users` column.
pub fn all_columns() -> Columns {
    user::Column::iter().fold(0, |bits, c| bits | column(c))
}

/// A user as the domain read it: the columns in [`UserRow::holds`], and nothing else, carry
/// values; the identities and the legacy token only when they were read too.
#[derive(Clone, Debug)]
pub struct UserRow {
    read: Columns,
    m: user::Model,
    identities: Option<Vec<identity::Model>>,
    custom_attributes: Option<Vec<custom_attribute::Model>>,
    private_token: Option<String>,
    follows: Option<FollowCounts>,
}

/// What GitLab shows of a user's follows beside the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FollowCounts {
    /// How many (active) users follow them.
    pub followers: u64,
    /// How many (active) users they follow.
    pub following: u64,
    /// Whether the viewer follows them; `None` for an anonymous viewer.
    pub is_followed: Option<bool>,
}

impl UserRow {
    /// A whole row.
    pub fn full(m: user::Model) -> Self {
        UserRow {
            read: all_columns(),
            m,
            identities: None,
            custom_attributes: None,
            private_token: None,
            follows: None,
        }
    }

    /// A row of which only `read` was read (the other fields of `m` are blank).
    pub(crate) fn partial(m: user::Model, read: Columns) -> Self {
        UserRow {
            read: read | column(user::Column::Id),
            m,
            identities: None,
            custom_attributes: None,
            private_token: None,
            follows: None,
        }
    }

    pub fn with_identities(mut self, identities: Vec<identity::Model>) -> Self {
        self.identities = Some(identities);
        self
    }

    pub fn with_custom_attributes(mut self, attributes: Vec<custom_attribute::Model>) -> Self {
        self.custom_attributes = Some(attributes);
        self
    }

    pub fn with_follow_counts(mut self, counts: FollowCounts) -> Self {
        self.follows = Some(counts);
        self
    }

    pub fn with_private_token(mut self, token: Option<String>) -> Self {
        self.private_token = token;
        self
    }

    pub fn id(&self) -> i32 {
        self.m.id
    }

    /// The user, as far as reading their fields goes (whether the profile is private, if read).
    pub fn subject(&self) -> Subject {
        Subject {
            id: self.m.id,
            private_profile: (self.read & column(user::Column::PrivateProfile) != 0).then_some(self.m.private_profile),
        }
    }

    /// The columns read.
    pub fn read(&self) -> Columns {
        self.read
    }

    /// Whether the row holds what `field` is read from.
    pub fn holds(&self, field: &Field<UserRow>) -> bool {
        self.read & field.columns == field.columns
    }

    /// The value of column `c`, if it was read.
    pub fn get(&self, c: user::Column) -> Option<sea_orm::Value> {
        (self.read & column(c) != 0).then(|| self.m.get(c))
    }

    /// The whole model, for a row read whole (`None` otherwise).
    pub fn model(&self) -> Option<&user::Model> {
        (self.read == all_columns()).then_some(&self.m)
    }
}

/// The profile page of a user under the external URL.
pub fn web_url(external_url: &str, u: &user::Model) -> String {
    format!("{external_url}/{}", u.username)
}

/// A Gravatar identicon drawn from the username. Not from the primary e-mail: an MD5 of a private
/// address is easily reversed with a list of addresses, so it would publish the address (GitLab
/// uses the public e-mail; this server has none yet, so every user gets their identicon).
pub fn avatar_url(u: &user::Model) -> String {
    use md5::{Digest, Md5};
    let hash = hex::encode(Md5::digest(u.username.to_lowercase().as_bytes()));
    format!("https://www.gravatar.com/avatar/{hash}?s=80&d=identicon")
}

/// `Some(name)` for a name, `None` for `-`.
macro_rules! name {
    (-) => {
        None
    };
    ($n:literal) => {
        Some($n)
    };
}

/// `Some(reason)` for a deprecated field.
macro_rules! deprecated {
    () => {
        None
    };
    ($why:literal) => {
        Some($why)
    };
}

/// A table of fields of `$row`: one line a field, as
/// `graphql rest who shape type [columns] "doc" (deprecated "why")? => value;`, where `-` is
/// "not on this front" and the value is an expression of `$r` (the row) and `$env`.
macro_rules! fields {
    ($row:ty, |$r:ident, $env:ident| {
        $( $gql:tt $rest:tt $who:ident $shape:ident $ty:ident [$($col:ident)*] $doc:literal
           $(deprecated $why:literal)? => $val:expr; )*
    }) => {
        &[$(Field::<$row> {
            graphql: name!($gql),
            rest: name!($rest),
            doc: $doc,
            ty: Ty::$ty,
            who: Who::$who,
            shape: Shape::$shape,
            columns: 0 $(| column(user::Column::$col))* | who_columns(Who::$who),
            deprecation: deprecated!($($why)?),
            read: |$r, $env| {
                let _ = (&$r, $env);
                $val
            },
        }),*]
    };
}

/// A user. REST shows the basic cut in lists for non-admins, the single cut for one user to
/// non-admins, and everything to admins and on `GET /user`.
pub static USER: &[Field<UserRow>] = fields!(UserRow, |r, env| {
    "id" "id" Public Basic Id [Id] "The user's id, the same number the REST API uses." => Val::Id(r.m.id);
    "username" "username" Public Basic Str [Username] "Unique username." => Val::Str(&r.m.username);
    "email" "email" Private Full Str [Email] "Primary e-mail address. Private." => Val::Str(&r.m.email);
    "name" "name" Public Basic Str [Name] "Full name." => Val::Str(&r.m.name);
    "state" "state" Public Basic UserState [State] "Account state." => Val::State(&r.m.state);
    "avatarUrl" "avatar_url" Public Basic Str [Username] "URL of the user's avatar image." =>
        Val::String(avatar_url(&r.m));
    "customAttributes" "custom_attributes" Admin Basic Attributes []
        "Keys and values administrators keep on the user. Admin only." =>
        match &r.custom_attributes {
            Some(v) => Val::Attributes(v.iter().map(|a| (a.key.as_str(), a.value.as_str())).collect()),
            None => Val::Absent,
        };
    "webUrl" "web_url" Public Basic Str [Username] "URL of the user's profile page." =>
        Val::String(web_url(env.external_url, &r.m));
    "createdAt" "created_at" Profile Single Time [CreatedAt] "When the account was created." => Val::Time(r.m.created_at);
    "isAdmin" "is_admin" AdminFlag Full Bool [Admin] "Whether the user is an administrator. Private." => Val::Bool(r.m.admin);
    "bio" "bio" Profile Single OptStr [Bio] "Short biography." => Val::opt_str(r.m.bio.as_deref());
    "location" "location" Profile Single OptStr [Location] "Location." => Val::opt_str(r.m.location.as_deref());
    "publicEmail" "public_email" Profile Single OptStr [PublicEmail]
        "The address the user shows to everyone: one of their confirmed addresses, or null." =>
        Val::opt_str(r.m.public_email.as_deref());
    "skype" "skype" Profile Single Str [Skype] "Skype id." => Val::Str(&r.m.skype);
    "linkedin" "linkedin" Profile Single Str [Linkedin] "LinkedIn profile." => Val::Str(&r.m.linkedin);
    "twitter" "twitter" Profile Single Str [Twitter] "Twitter account." => Val::Str(&r.m.twitter);
    "discord" "discord" Profile Single Str [Discord] "Discord user id." => Val::Str(&r.m.discord);
    "websiteUrl" "website_url" Profile Single Str [WebsiteUrl] "Personal website." => Val::Str(&r.m.website_url);
    "organization" "organization" Profile Single Str [Organization] "Organization." => Val::Str(&r.m.organization);
    "jobTitle" "job_title" Profile Single Str [JobTitle] "Job title." => Val::Str(&r.m.job_title);
    "pronouns" "pronouns" Profile Single OptStr [Pronouns] "Pronouns." => Val::opt_str(r.m.pronouns.as_deref());
    "bot" "bot" Profile Single Bool [] "Whether the user is a bot: never here (usergraph has no bots)." =>
        Val::Bool(false);
    - "followers" Profile Single Int [] "How many active users follow the user (not shown on oneself)." =>
        r.follows.map_or(Val::Absent, |f| Val::Int(f.followers as i64));
    - "following" Profile Single Int [] "How many active users the user follows (not shown on oneself)." =>
        r.follows.map_or(Val::Absent, |f| Val::Int(f.following as i64));
    - "is_followed" Profile Single Bool [] "Whether the caller follows the user (signed-in callers, not on oneself)." =>
        r.follows.and_then(|f| f.is_followed).map_or(Val::Absent, Val::Bool);
    "localTime" "local_time" Profile Single OptStr [Timezone]
        "The time of day now where the user is (`3:07 PM`), from their time zone; null without one." =>
        time::local_time(r.m.timezone.as_deref(), time::now()).map_or(Val::Null, Val::String);
    "lastSignInAt" "last_sign_in_at" Private Full OptTime [LastSignInAt]
        "When the user last signed in before the current session. Private." => Val::opt_time(r.m.last_sign_in_at);
    "confirmedAt" "confirmed_at" Private Full OptTime [ConfirmedAt]
        "When the primary address was confirmed; null while unconfirmed. Private." => Val::opt_time(r.m.confirmed_at);
    "lastActivityOn" "last_activity_on" Private Full OptDate [LastActivityOn]
        "The last day the user was active. Private." => Val::opt_date(r.m.last_activity_on);
    "themeId" "theme_id" Private Full Int [ThemeId] "Theme of the user's UI (1-11). Private." =>
        Val::Int(r.m.theme_id.into());
    "colorSchemeId" "color_scheme_id" Private Full Int [ColorSchemeId]
        "Colour scheme of the user's UI. Private." => Val::Int(r.m.color_scheme_id.into());
    "projectsLimit" "projects_limit" Private Full Int [ProjectsLimit]
        "How many projects the user may create. Private." => Val::Int(r.m.projects_limit.into());
    "currentSignInAt" "current_sign_in_at" Private Full OptTime [CurrentSignInAt]
        "When the user signed in most recently. Private." => Val::opt_time(r.m.current_sign_in_at);
    "identities" "identities" Private Full Identities [] "Links to external authentication providers. Private." =>
        match &r.identities {
            Some(v) => Val::Identities(v.iter().map(|i| (i.provider.as_str(), i.extern_uid.as_str())).collect()),
            None => Val::Absent,
        };
    "canCreateGroup" "can_create_group" Private Full Bool [CanCreateGroup]
        "Whether the user may create groups. Private." => Val::Bool(r.m.can_create_group);
    "canCreateProject" "can_create_project" Private Full Bool [ProjectsLimit]
        "Whether the user may create projects. Private." => Val::Bool(r.m.projects_limit > 0);
    "twoFactorEnabled" "two_factor_enabled" Private Full Bool [TwoFactorEnabled]
        "Whether two-factor authentication is on. Private." => Val::Bool(r.m.two_factor_enabled);
    "external" "external" Private Full Bool [External]
        "Whether the user is external (sees only what they are given). Private." => Val::Bool(r.m.external);
    "commitEmail" "commit_email" Private Full Str [CommitEmail Email]
        "The address commits are made with: the one chosen, else the primary. Private." =>
        Val::Str(r.m.commit_email.as_deref().unwrap_or(&r.m.email));
    "note" "note" Admin Admin OptStr [Note] "Administrators' note on the user. Admin only." =>
        Val::opt_str(r.m.note.as_deref());
    "locked" "locked" Private Full Bool [LockedUntil]
        "Whether the account is locked after too many failed sign-ins (for ten minutes). Private." =>
        Val::Bool(r.m.locked_until.is_some_and(|t| t > time::now()));
    "privateProfile" "private_profile" Private Full Bool [PrivateProfile]
        "Whether others see only who the user is (id, username, name, state, avatar and web URL), not their \
         profile. Private." => Val::Bool(r.m.private_profile);
    "timezone" "timezone" Private Full OptStr [Timezone]
        "The user's time zone, a name of the tz database (`Europe/Berlin`), or null. Private." =>
        Val::opt_str(r.m.timezone.as_deref());
    "privateToken" "private_token" PrivateToken Full Secret [] "The user's legacy private token. Private." =>
        r.private_token.as_deref().map_or(Val::Absent, Val::Str);
    "passwordExpiresAt" - Private Full OptTime [PasswordExpiresAt]
        "When the password stops working and must be changed at sign-in. Private." => Val::opt_time(r.m.password_expires_at);
});

/// The fields of an event's author, in the order of GitLab 9.x's events (REST names).
pub const EVENT_AUTHOR: [&str; 6] = ["name", "username", "id", "state", "avatar_url", "web_url"];

/// A user's link to an external authentication provider.
pub static IDENTITY: &[Field<identity::Model>] = fields!(identity::Model, |r, env| {
    "provider" "provider" Public Basic Str [] "Name of the provider, e.g. `github`." => Val::Str(&r.provider);
    "externUid" "extern_uid" Public Basic Str [] "The user's id at the provider." => Val::Str(&r.extern_uid);
    "createdAt" - Public Basic Time [] "When the identity was linked." => Val::Time(r.created_at);
});

/// An SSH key. (Who may read a user's keys, e-mails and identities is decided before they are
/// loaded; their fields are public then.)
pub static SSH_KEY: &[Field<ssh_key::Model>] = fields!(ssh_key::Model, |r, env| {
    "id" "id" Public Basic Id [] "The key's id." => Val::Id(r.id);
    "userId" - Public Basic Id [] "The owner's id." => Val::Id(r.user_id);
    "title" "title" Public Basic Str [] "Title of the key." => Val::Str(&r.title);
    "key" "key" Public Basic Str [] "The public key in OpenSSH form: type, base64 body and comment." => Val::Str(&r.key);
    "keyType" - Public Basic Str [] "The key type, e.g. `ssh-ed25519`." => Val::Str(&r.key_type);
    "fingerprint" - Public Basic Str [] "Legacy MD5 fingerprint, colon-separated hex." => Val::Str(&r.fingerprint_md5);
    "fingerprintSha256" - Public Basic Str [] "SHA256 fingerprint, `SHA256:<base64>`." => Val::Str(&r.fingerprint_sha256);
    "createdAt" "created_at" Public Basic Time [] "When the key was added." => Val::Time(r.created_at);
    "expiresAt" - Public Basic OptTime [] "When the key stops working; null when it does not expire." =>
        Val::opt_time(r.expires_at);
});

/// A GPG key (GitLab shows its id, block and date; GraphQL what was read from it besides).
pub static GPG_KEY: &[Field<gpg_key::Model>] = fields!(gpg_key::Model, |r, env| {
    "id" "id" Public Basic Id [] "The key's id." => Val::Id(r.id);
    "userId" - Public Basic Id [] "The owner's id." => Val::Id(r.user_id);
    "key" "key" Public Basic Str [] "The armored OpenPGP public key block." => Val::Str(&r.key);
    "primaryKeyid" - Public Basic Str [] "The primary key's id: 16 upper-case hex digits." => Val::Str(&r.primary_keyid);
    "fingerprint" - Public Basic Str [] "The primary key's fingerprint: 40 upper-case hex digits." => Val::Str(&r.fingerprint);
    "emails" - Public Basic Strings [] "The e-mail addresses of the key's self-signed user ids, lower-cased." =>
        Val::Strings(r.emails.lines().filter(|l| !l.is_empty()).map(str::to_string).collect());
    "createdAt" "created_at" Public Basic Time [] "When the key was added." => Val::Time(r.created_at);
});

/// A secondary e-mail address.
pub static EMAIL: &[Field<email::Model>] = fields!(email::Model, |r, env| {
    "id" "id" Public Basic Id [] "The address's id." => Val::Id(r.id);
    "email" "email" Public Basic Str [] "The address." => Val::Str(&r.email);
    "confirmedAt" - Public Basic OptTime [] "When the address was confirmed; null while unconfirmed." =>
        Val::opt_time(r.confirmed_at);
    "createdAt" - Public Basic Time [] "When the address was added." => Val::Time(r.created_at);
});

/// A custom attribute of a user. (Who may read them is decided before they are loaded.)
pub static CUSTOM_ATTRIBUTE: &[Field<custom_attribute::Model>] = fields!(custom_attribute::Model, |r, env| {
    "key" "key" Public Basic Str [] "The attribute's key." => Val::Str(&r.key);
    "value" "value" Public Basic Str [] "Its value." => Val::Str(&r.value);
});

/// A personal access token or an impersonation token, with its value where the API shows it.
#[derive(Clone, Debug)]
pub struct ShownToken {
    pub model: token::Model,
    /// The value: at creation, and for impersonation tokens on every read.
    pub value: Option<String>,
}

/// Not revoked, and not past its expiry date.
pub fn token_is_active(m: &token::Model) -> bool {
    !m.revoked && m.expires_at.is_none_or(|d| d >= time::today())
}

pub fn token_scopes(m: &token::Model) -> Vec<String> {
    m.scopes.split_whitespace().map(str::to_string).collect()
}

/// A token. (Who may read a token is decided before it is loaded; its fields are public then.)
pub static TOKEN: &[Field<ShownToken>] = fields!(ShownToken, |r, env| {
    "id" "id" Public Basic Id [] "The token's id." => Val::Id(r.model.id);
    "name" "name" Public Basic Str [] "Name of the token." => Val::Str(&r.model.name);
    "revoked" "revoked" Public Basic Bool [] "Whether the token was revoked (by hand, or by a rotation)." =>
        Val::Bool(r.model.revoked);
    "createdAt" "created_at" Public Basic Time [] "When the token was created." => Val::Time(r.model.created_at);
    "description" "description" Public Basic OptStr [] "What the token is for." =>
        Val::opt_str(r.model.description.as_deref());
    "scopes" "scopes" Public Basic Strings []
        "Scopes, GitLab's names: `api`, `read_api` and `read_user` (reads only), `sudo`, `self_rotate` (may rotate itself and nothing else), and others accepted that grant nothing here." =>
        Val::Strings(token_scopes(&r.model));
    "userId" "user_id" Public Basic Id [] "The id of the user the token acts as." => Val::Id(r.model.user_id);
    "lastUsedAt" "last_used_at" Public Basic OptTime [] "When the token was last used (updated at most every ten minutes)." =>
        Val::opt_time(r.model.last_used_at);
    "active" "active" Public Basic Bool [] "Neither revoked nor expired." => Val::Bool(token_is_active(&r.model));
    "expiresAt" "expires_at" Public Basic OptDate [] "The last day the token works; null when it does not expire." =>
        Val::opt_date(r.model.expires_at);
    "token" "token" Public Basic Revealed []
        "The token value: shown when it is created or rotated, and for impersonation tokens on every read (REST leaves the key out when there is no value)." =>
        r.value.as_deref().map_or(Val::Absent, Val::Str);
    "impersonation" "impersonation" Public Basic Bool [] "Whether this is an impersonation token." =>
        Val::Bool(r.model.kind == "impersonation");
});

/// A message as HTML: the text escaped, so a client that renders it shows it as written.
pub fn message_html(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A user's status, or none (GitLab then shows every part as null).
#[derive(Clone, Debug, Default)]
pub struct StatusRow(pub Option<entity::user_status::Model>);

/// A user's status. Public.
pub static STATUS: &[Field<StatusRow>] = fields!(StatusRow, |r, env| {
    "emoji" "emoji" Public Basic OptStr [] "The emoji's name (GitLab's names, e.g. `coffee`)." =>
        Val::opt_str(r.0.as_ref().map(|s| s.emoji.as_str()));
    "availability" "availability" Public Basic OptStr [] "`not_set` or `busy`." =>
        Val::opt_str(r.0.as_ref().map(|s| s.availability.as_str()));
    "message" "message" Public Basic OptStr [] "The message (at most 100 characters)." =>
        Val::opt_str(r.0.as_ref().and_then(|s| s.message.as_deref()));
    "messageHtml" "message_html" Public Basic OptStr [] "The message as HTML, escaped." =>
        match r.0.as_ref() {
            Some(s) => Val::String(message_html(s.message.as_deref().unwrap_or(""))),
            None => Val::Null,
        };
    "clearStatusAt" "clear_status_at" Public Basic OptTime [] "When the status clears itself; null: never." =>
        Val::opt_time(r.0.as_ref().and_then(|s| s.clear_status_at));
});

/// When a user was last active (`GET /user/activities`), for admins.
#[derive(Clone, Debug)]
pub struct ActivityRow(pub user::Model);

pub static ACTIVITY: &[Field<ActivityRow>] = fields!(ActivityRow, |r, env| {
    "username" "username" Public Basic Str [Username] "The user's username." => Val::Str(&r.0.username);
    "lastActivityOn" "last_activity_on" Public Basic OptDate [LastActivityOn] "The last day the user was active." =>
        Val::opt_date(r.0.last_activity_on);
    "lastActivityAt" "last_activity_at" Public Basic OptDate [LastActivityOn] "Same as `lastActivityOn`."
        deprecated "Use `lastActivityOn`." => Val::opt_date(r.0.last_activity_on);
});

/// The attributes of create and update; `None` leaves a value as it is (or at its default).
#[derive(Clone, Debug, Default)]
pub struct UserAttrs {
    pub email: Option<String>,
    pub username: Option<String>,
    pub name: Option<String>,
    pub password: Option<String>,
    pub skype: Option<String>,
    pub linkedin: Option<String>,
    pub twitter: Option<String>,
    pub website_url: Option<String>,
    pub organization: Option<String>,
    /// One of the user's confirmed addresses; empty clears it.
    pub public_email: Option<String>,
    pub discord: Option<String>,
    pub job_title: Option<String>,
    /// Empty clears them.
    pub pronouns: Option<String>,
    pub theme_id: Option<i32>,
    /// One of the user's confirmed addresses; empty means the primary.
    pub commit_email: Option<String>,
    /// Empty clears it.
    pub note: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub private_profile: Option<bool>,
    /// A name of the tz database; empty clears it.
    pub timezone: Option<String>,
    pub projects_limit: Option<i64>,
    pub admin: Option<bool>,
    pub can_create_group: Option<bool>,
    pub external: Option<bool>,
    pub extern_uid: Option<String>,
    pub provider: Option<String>,
    pub color_scheme_id: Option<i32>,
}

/// A new user: the attributes and what to do on creation.
#[derive(Clone, Debug, Default)]
pub struct CreateUser {
    pub attrs: UserAttrs,
    /// Send a reset link instead of taking a password (takes priority over `password`).
    pub reset_password: bool,
    /// Confirm the user's address at once (`confirm=false` / `skip_confirmation=true`).
    pub skip_confirmation: bool,
}

fn text(v: AttrVal) -> Option<String> {
    match v {
        AttrVal::Str(s) => Some(s),
        AttrVal::Int(n) => Some(n.to_string()),
        AttrVal::Bool(b) => Some(b.to_string()),
    }
}

fn int(v: AttrVal) -> Option<i64> {
    match v {
        AttrVal::Int(n) => Some(n),
        _ => None,
    }
}

fn flag(v: AttrVal) -> Option<bool> {
    match v {
        AttrVal::Bool(b) => Some(b),
        _ => None,
    }
}

/// A table of writable attributes: `graphql rest type on "doc" => |input, value| statement;`.
macro_rules! attrs {
    ($input:ty, { $( $gql:tt $rest:tt $ty:ident $on:ident $doc:literal => |$i:ident, $v:ident| $set:expr; )* }) => {
        &[$(Attr::<$input> {
            graphql: name!($gql),
            rest: name!($rest),
            doc: $doc,
            ty: AttrTy::$ty,
            on: On::$on,
            set: |$i, $v| $set,
        }),*]
    };
}

/// The writable attributes of a user, in the order REST reads them (the first bad one is the
/// one reported).
pub static USER_ATTRS: &[Attr<CreateUser>] = attrs!(CreateUser, {
    "email" "email" Str Required "Primary e-mail address." => |c, v| c.attrs.email = text(v);
    "username" "username" Str Required "Unique username." => |c, v| c.attrs.username = text(v);
    "name" "name" Str Required "Full name." => |c, v| c.attrs.name = text(v);
    "password" "password" Str Both
        "Password (at least 8 characters): needed to create a user unless `resetPassword` is true; set by an \
         administrator for someone else, it must be changed at the next sign-in." => |c, v| c.attrs.password = text(v);
    "skype" "skype" Str Both "Skype id." => |c, v| c.attrs.skype = text(v);
    "linkedin" "linkedin" Str Both "LinkedIn profile." => |c, v| c.attrs.linkedin = text(v);
    "twitter" "twitter" Str Both "Twitter account." => |c, v| c.attrs.twitter = text(v);
    "discord" "discord" Str Both "Discord user id (17 to 20 digits); empty clears it." =>
        |c, v| c.attrs.discord = text(v);
    "websiteUrl" "website_url" Str Both "Personal website." => |c, v| c.attrs.website_url = text(v);
    "organization" "organization" Str Both "Organization." => |c, v| c.attrs.organization = text(v);
    "note" "note" Str Both "Administrators' note on the user (at most 1000 characters); empty clears it." =>
        |c, v| c.attrs.note = text(v);
    "jobTitle" "job_title" Str Both "Job title (at most 200 characters)." => |c, v| c.attrs.job_title = text(v);
    "pronouns" "pronouns" Str Both "Pronouns (at most 50 characters); empty clears them." =>
        |c, v| c.attrs.pronouns = text(v);
    "bio" "bio" Str Both "Short biography." => |c, v| c.attrs.bio = text(v);
    "privateProfile" "private_profile" Bool Both
        "Whether others see only who the user is (id, username, name, state, avatar and web URL), not their profile." =>
        |c, v| c.attrs.private_profile = flag(v);
    "timezone" "timezone" Str Both
        "The user's time zone, a name of the tz database such as `Europe/Berlin`; empty clears it." =>
        |c, v| c.attrs.timezone = text(v);
    "location" "location" Str Both "Location." => |c, v| c.attrs.location = text(v);
    "publicEmail" "public_email" Str Both
        "The address to show to everyone: one of the user's confirmed addresses; empty shows none." =>
        |c, v| c.attrs.public_email = text(v);
    "projectsLimit" "projects_limit" Int Both "Number of projects the user may create." =>
        |c, v| c.attrs.projects_limit = int(v);
    "admin" "admin" Bool Both "Whether the user is an administrator." => |c, v| c.attrs.admin = flag(v);
    "canCreateGroup" "can_create_group" Bool Both "Whether the user may create groups." =>
        |c, v| c.attrs.can_create_group = flag(v);
    "external" "external" Bool Both "Whether the user is external." => |c, v| c.attrs.external = flag(v);
    "externUid" "extern_uid" Str Both "External uid at `provider`." => |c, v| c.attrs.extern_uid = text(v);
    "provider" "provider" Str Both "External authentication provider of `externUid`." =>
        |c, v| c.attrs.provider = text(v);
    "themeId" "theme_id" Int32 Both "Theme of the user's UI (1-11)." =>
        |c, v| c.attrs.theme_id = int(v).and_then(|n| i32::try_from(n).ok());
    "commitEmail" "commit_email" Str Both
        "The address commits are made with: one of the user's confirmed addresses; empty means the primary." =>
        |c, v| c.attrs.commit_email = text(v);
    "colorSchemeId" "color_scheme_id" Int32 Both "Colour scheme of the user's UI (1-7)." =>
        |c, v| c.attrs.color_scheme_id = int(v).and_then(|n| i32::try_from(n).ok());
    "resetPassword" "reset_password" Bool Create "Send the user a password reset link instead of setting a password." =>
        |c, v| c.reset_password = flag(v).unwrap_or(false);
    "skipConfirmation" "skip_confirmation" Bool Create
        "Confirm the primary address at once instead of requiring confirmation." =>
        |c, v| c.skip_confirmation |= flag(v).unwrap_or(false);
    - "confirm" Bool Create "False to confirm the primary address at once (GitLab's older name)." =>
        |c, v| c.skip_confirmation |= flag(v) == Some(false);
});

// ---- reading rows

by_index!(entity::user::Model {
    id,
    username,
    username_canonical,
    email,
    name,
    state,
    password_hash,
    admin,
    bio,
    location,
    skype,
    linkedin,
    twitter,
    website_url,
    organization,
    projects_limit,
    can_create_group,
    external,
    two_factor_enabled,
    color_scheme_id,
    auth_epoch,
    failed_attempts,
    locked_until,
    password_expires_at,
    created_at,
    updated_at,
    confirmed_at,
    last_sign_in_at,
    current_sign_in_at,
    last_activity_on,
    created_by_id,
    public_email,
    discord,
    job_title,
    pronouns,
    theme_id,
    commit_email,
    note,
    private_profile,
    timezone,
});

/// A user with nothing read yet: empty text, `false`, zero, `None`, the epoch.
pub(crate) fn blank_user() -> user::Model {
    user::Model {
        id: 0,
        username: String::new(),
        username_canonical: String::new(),
        email: String::new(),
        name: String::new(),
        state: String::new(),
        password_hash: String::new(),
        admin: false,
        bio: None,
        location: None,
        skype: String::new(),
        linkedin: String::new(),
        twitter: String::new(),
        website_url: String::new(),
        organization: String::new(),
        projects_limit: 0,
        can_create_group: false,
        external: false,
        two_factor_enabled: false,
        color_scheme_id: 0,
        auth_epoch: 0,
        failed_attempts: 0,
        locked_until: None,
        password_expires_at: None,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
        confirmed_at: None,
        last_sign_in_at: None,
        current_sign_in_at: None,
        last_activity_on: None,
        created_by_id: None,
        public_email: None,
        discord: String::new(),
        job_title: String::new(),
        pronouns: None,
        theme_id: 0,
        commit_email: None,
        note: None,
        private_profile: false,
        timezone: None,
    }
}

/// Reads cell `i` of `row`, column `col` of `users`, into its field of `m`.
macro_rules! set_user_field {
    ($row:expr, $i:expr, $col:expr, $m:expr; $($c:ident => $f:ident),+ $(,)?) => {
        match $col {
            $(user::Column::$c => $m.$f = get($row, $i)?,)+
        }
    };
}

/// A user row of a statement that selected only `columns`, in that order.
pub(crate) fn partial_user(res: &QueryResult, columns: &[user::Column]) -> Result<UserRow, DbErr> {
    let mut m = blank_user();
    macro_rules! fill {
        ($row:expr) => {{
            let row = $row;
            if sqlx::Row::len(row) != columns.len() {
                return Err(DbErr::Type(format!(
                    "a partial user row has {} cells for {} columns",
                    sqlx::Row::len(row),
                    columns.len()
                )));
            }
            for (i, col) in columns.iter().enumerate() {
                set_user_field!(row, i, *col, m;
                    Id => id, Username => username, UsernameCanonical => username_canonical,
                    Email => email, Name => name, State => state, PasswordHash => password_hash,
                    Admin => admin, Bio => bio, Location => location, Skype => skype,
                    Linkedin => linkedin, Twitter => twitter, WebsiteUrl => website_url,
                    Organization => organization, ProjectsLimit => projects_limit,
                    CanCreateGroup => can_create_group, External => external,
                    TwoFactorEnabled => two_factor_enabled, ColorSchemeId => color_scheme_id,
                    AuthEpoch => auth_epoch, FailedAttempts => failed_attempts,
                    LockedUntil => locked_until, PasswordExpiresAt => password_expires_at,
                    CreatedAt => created_at, UpdatedAt => updated_at, ConfirmedAt => confirmed_at,
                    LastSignInAt => last_sign_in_at, CurrentSignInAt => current_sign_in_at,
                    LastActivityOn => last_activity_on, CreatedById => created_by_id,
                    PublicEmail => public_email, Discord => discord, JobTitle => job_title,
                    Pronouns => pronouns, ThemeId => theme_id, CommitEmail => commit_email, Note => note,
                    PrivateProfile => private_profile, Timezone => timezone,
                );
            }
            let read = columns.iter().fold(0, |bits, c| bits | column(*c));
            return Ok(UserRow::partial(m, read));
        }};
    }
    on_backend_row!(res, fill);
    Err(DbErr::Type("a partial user row from an unknown backend".into()))
}

// ---- a user as it was, for subscribers of a deletion

/// The columns of `u` that some field of [`USER`] reads, as a JSON object by column name: what
/// subscribers may be shown of a user deleted meanwhile (no password hash, counters or epoch).
pub fn snapshot(u: &user::Model) -> Map<String, Json> {
    let shown = USER.iter().fold(0, |bits, f| bits | f.columns);
    user::Column::iter()
        .filter(|c| shown & column(*c) != 0)
        .map(|c| (sea_orm::IdenStatic::as_str(&c).to_string(), to_json(u.get(c))))
        .collect()
}

/// The row a [`snapshot`] was made of, holding the columns it carries (none that do not parse).
pub fn from_snapshot(s: &Map<String, Json>) -> UserRow {
    let mut m = blank_user();
    let mut read = 0;
    for c in user::Column::iter() {
        if let Some(v) = s
            .get(sea_orm::IdenStatic::as_str(&c))
            .and_then(|j| from_json(m.get(c), j))
            && m.try_set(c, v).is_ok()
        {
            read |= column(c);
        }
    }
    UserRow::partial(m, read)
}

fn to_json(v: sea_orm::Value) -> Json {
    use sea_orm::Value as V;
    match v {
        V::String(Some(s)) => Json::String(s),
        V::Int(Some(n)) => Json::from(n),
        V::Bool(Some(b)) => Json::Bool(b),
        V::ChronoDateTimeUtc(Some(t)) => Json::String(t.to_rfc3339()),
        V::ChronoDate(Some(d)) => Json::String(d.to_string()),
        _ => Json::Null,
    }
}

/// `j` as a value of the column whose blank value is `like`.
fn from_json(like: sea_orm::Value, j: &Json) -> Option<sea_orm::Value> {
    use sea_orm::Value as V;
    if j.is_null() {
        return Some(like.as_null());
    }
    Some(match like {
        V::String(_) => V::String(Some(j.as_str()?.to_string())),
        V::Int(_) => V::Int(Some(i32::try_from(j.as_i64()?).ok()?)),
        V::Bool(_) => V::Bool(Some(j.as_bool()?)),
        V::ChronoDateTimeUtc(_) => V::ChronoDateTimeUtc(Some(
            DateTime::parse_from_rfc3339(j.as_str()?).ok()?.with_timezone(&Utc),
        )),
        V::ChronoDate(_) => V::ChronoDate(Some(j.as_str()?.parse().ok()?)),
        _ => return None,
    })
}

/// An active, unconfirmed, non-admin user with the given id and `u<id>` names, for unit tests.
#[cfg(test)]
pub fn fixture(id: i32) -> user::Model {
    let now = time::now();
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
        theme_id: 1,
        created_at: now,
        updated_at: now,
        ..blank_user()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::shape::Env;

    #[test]
    fn every_user_column_has_a_bit() {
        assert!(user::Column::iter().all(|c| (c as usize) < 64));
        assert_eq!(all_columns().count_ones() as usize, user::Column::iter().count());
    }

    #[test]
    fn a_snapshot_carries_what_the_fields_show_and_no_secret() {
        let mut u = fixture(7);
        u.bio = Some("bio".into());
        u.last_activity_on = Some(time::today());
        u.password_hash = "secret-hash".into();
        u.failed_attempts = 3;
        let s = snapshot(&u);
        assert!(!s.contains_key("password_hash") && !s.contains_key("failed_attempts"));
        let back = from_snapshot(&serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap());
        let env = Env {
            external_url: "http://x",
        };
        for f in USER.iter().filter(|f| f.columns != 0) {
            assert!(back.holds(f), "{:?}", f.graphql);
            assert_eq!(
                (f.read)(&back, &env),
                (f.read)(&UserRow::full(u.clone()), &env),
                "{:?}",
                f.graphql
            );
        }
        assert_eq!(back.m.password_hash, "");
    }

    #[test]
    fn names_are_unique_per_front() {
        fn check<R>(fields: &[Field<R>]) {
            let mut g: Vec<_> = fields.iter().filter_map(|f| f.graphql).collect();
            let mut r: Vec<_> = fields.iter().filter_map(|f| f.rest).collect();
            let (gn, rn) = (g.len(), r.len());
            g.sort_unstable();
            g.dedup();
            r.sort_unstable();
            r.dedup();
            assert_eq!((g.len(), r.len()), (gn, rn));
        }
        check(USER);
        check(IDENTITY);
        check(SSH_KEY);
        check(GPG_KEY);
        check(EMAIL);
        check(TOKEN);
        check(ACTIVITY);
        check(STATUS);
        check(CUSTOM_ATTRIBUTE);
        // Private fields of a user are in the full cut only (custom attributes, admin-only, show
        // in every cut, but only when asked for and only to admins).
        assert!(
            USER.iter()
                .all(|f| matches!(f.who, Who::Public | Who::Profile | Who::Admin) || f.shape >= Shape::Full)
        );
        // The basic cut is who a user is, shown to everyone; the single cut adds the profile, which
        // a private profile withholds (REST cuts such a user to the basic one).
        assert!(USER.iter().all(|f| match f.shape {
            Shape::Basic => matches!(f.who, Who::Public | Who::Admin),
            Shape::Single => f.who == Who::Profile,
            _ => true,
        }));
    }
}
