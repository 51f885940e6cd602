//! The authorization matrix: every GraphQL field and operation and every REST endpoint, for every
//! kind of caller, gets exactly what the policy allows. The GraphQL tables are checked against
//! the schema itself, so a new field or operation without a rule here fails this test.

use std::collections::BTreeSet;

use base64::Engine;
use rand::Rng;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Res, TestApp, each_backend};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Himself,
    Other,
    Admin,
    AdminSudo,
    ReadUser,
    Revoked,
    Expired,
    Impersonation,
    Blocked,
}

const CALLERS: [Caller; 10] = [
    Caller::Anonymous,
    Caller::Himself,
    Caller::Other,
    Caller::Admin,
    Caller::AdminSudo,
    Caller::ReadUser,
    Caller::Revoked,
    Caller::Expired,
    Caller::Impersonation,
    Caller::Blocked,
];

/// Who may read a field of the target user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Public,
    /// Anyone while the target's profile is public; the user themself and admins while private.
    Profile,
    /// Anyone signed in while the target's profile is public; the user themself and admins while
    /// private.
    SignedProfile,
    /// The user themself (however authenticated) and admins.
    Private,
    /// The user themself with a full credential, admins, and admins through sudo.
    Secret,
    Admin,
}

/// Who may run an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Anyone,
    Signed,
    /// Only about the target user: the user themself, or an admin.
    SelfOrAdmin,
    Admin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// Allowed, and the answer is null (not yours, or nothing to delete).
    Null,
    /// Allowed, and the target does not exist.
    NotFound,
    /// Allowed, and the input is refused (a bogus token).
    Invalid,
    /// Allowed, and refused for the state things are in.
    Conflict,
    Unauthenticated,
    Forbidden,
}

const USER_FIELDS: &[(&str, Field, &str)] = &[
    ("id", Field::Public, ""),
    ("username", Field::Public, ""),
    ("name", Field::Public, ""),
    ("state", Field::Public, ""),
    ("avatarUrl", Field::Public, ""),
    ("webUrl", Field::Public, ""),
    ("createdAt", Field::Profile, ""),
    ("bio", Field::Profile, ""),
    ("location", Field::Profile, ""),
    ("publicEmail", Field::Profile, ""),
    ("discord", Field::Profile, ""),
    ("jobTitle", Field::Profile, ""),
    ("pronouns", Field::Profile, ""),
    ("bot", Field::Profile, ""),
    ("themeId", Field::Private, ""),
    ("commitEmail", Field::Private, ""),
    ("locked", Field::Private, ""),
    ("privateProfile", Field::Private, ""),
    ("timezone", Field::Private, ""),
    ("localTime", Field::Profile, ""),
    ("note", Field::Admin, ""),
    ("status", Field::Public, "{ emoji }"),
    ("followers", Field::SignedProfile, "{ totalCount }"),
    ("following", Field::SignedProfile, "{ totalCount }"),
    ("skype", Field::Profile, ""),
    ("linkedin", Field::Profile, ""),
    ("twitter", Field::Profile, ""),
    ("websiteUrl", Field::Profile, ""),
    ("organization", Field::Profile, ""),
    ("events", Field::Public, "{ totalCount }"),
    ("email", Field::Private, ""),
    ("isAdmin", Field::Private, ""),
    ("lastSignInAt", Field::Private, ""),
    ("currentSignInAt", Field::Private, ""),
    ("confirmedAt", Field::Private, ""),
    ("lastActivityOn", Field::Private, ""),
    ("passwordExpiresAt", Field::Private, ""),
    ("colorSchemeId", Field::Private, ""),
    ("projectsLimit", Field::Private, ""),
    ("canCreateGroup", Field::Private, ""),
    ("canCreateProject", Field::Private, ""),
    ("twoFactorEnabled", Field::Private, ""),
    ("external", Field::Private, ""),
    ("identities", Field::Private, "{ provider }"),
    ("keys", Field::Private, "{ totalCount }"),
    ("gpgKeys", Field::Public, "{ totalCount }"),
    ("emails", Field::Private, "{ totalCount }"),
    ("personalAccessTokens", Field::Private, "{ totalCount }"),
    ("privateToken", Field::Secret, ""),
    ("impersonationTokens", Field::Admin, "{ totalCount }"),
    ("customAttributes", Field::Admin, "{ key }"),
];

struct World {
    target: i32,
    victim: i32,
    /// A user who never used their credentials (so may be deactivated).
    dormant: i32,
    key_id: i64,
    email_id: i64,
    imp_token_id: i64,
    tokens: Vec<(Caller, Option<String>)>,
}

fn random_key() -> String {
    let mut pk = [0u8; 32];
    rand::rng().fill(&mut pk);
    let mut blob = Vec::new();
    for part in [b"ssh-ed25519".as_slice(), pk.as_slice()] {
        blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
        blob.extend_from_slice(part);
    }
    format!("ssh-ed25519 {}", base64::engine::general_purpose::STANDARD.encode(blob))
}

fn unique() -> String {
    usergraph::auth::token::generate("").to_lowercase()
}

async fn world(app: &TestApp) -> World {
    // Every field of the target holds a value, so an allowed read is never a null.
    let target = app
        .user_with(
            "target",
            json!({ "publicEmail": "target@example.com", "pronouns": "they/them", "note": "watch", "timezone": "Europe/Berlin" }),
        )
        .await;
    let other = app.user("other").await;
    let victim = app.user("victim").await;
    let dormant = app.user("dormant").await;
    let blocked = app.user("blocked").await;
    let admin = Some(app.admin());
    let gql = |token: &str, q: String| {
        let token = token.to_string();
        async move { app.gql(Some(&token), &q, json!({})).await }
    };
    let pat = |scopes: &str| {
        format!(
            "mutation {{ createPersonalAccessToken(input: {{ name: \"p\", scopes: [{scopes}] }}) {{ token {{ id token }} }} }}"
        )
    };
    app.put("/api/v4/user/status", Some(&target.token), json!({ "emoji": "tea" }))
        .await;
    let res = gql(&target.token, pat("\"read_user\"")).await;
    let read_user = res.data()["createPersonalAccessToken"]["token"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = gql(&target.token, pat("\"api\"")).await;
    let revoked = res.data()["createPersonalAccessToken"]["token"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let revoked_id = res.data()["createPersonalAccessToken"]["token"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    gql(
        &target.token,
        format!("mutation {{ revokePersonalAccessToken(input: {{ id: \"{revoked_id}\" }}) {{ token {{ id }} }} }}"),
    )
    .await
    .data();
    let imp = |expires: &str| {
        format!(
            "mutation {{ createImpersonationToken(input: {{ userId: \"{}\", name: \"i\", scopes: [\"api\"]{expires} }}) {{ token {{ id token }} }} }}",
            target.id
        )
    };
    let res = app.gql(admin, &imp(""), json!({})).await;
    let impersonation = res.data()["createImpersonationToken"]["token"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    // A second one for the operations under test to read and revoke.
    let res = app.gql(admin, &imp(""), json!({})).await;
    let imp_token_id = res.data()["createImpersonationToken"]["token"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let res = app.gql(admin, &imp(", expiresAt: \"2099-01-01\""), json!({})).await;
    let expired = res.data()["createImpersonationToken"]["token"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let expired_id: i64 = res.data()["createImpersonationToken"]["token"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.backdate_token(expired_id, "2016-01-01").await;
    let res = gql(
        &target.token,
        format!(
            "mutation {{ addSshKey(input: {{ title: \"k\", key: \"{}\" }}) {{ key {{ id }} }} }}",
            random_key()
        ),
    )
    .await;
    let key_id = res.data()["addSshKey"]["key"]["id"].as_str().unwrap().parse().unwrap();
    let res = gql(
        &target.token,
        "mutation { addEmail(input: { email: \"target.second@example.com\" }) { email { id } } }".into(),
    )
    .await;
    let email_id = res.data()["addEmail"]["email"]["id"].as_str().unwrap().parse().unwrap();
    app.gql(
        admin,
        &format!(
            "mutation {{ blockUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
            blocked.id
        ),
        json!({}),
    )
    .await
    .data();
    World {
        target: target.id,
        victim: victim.id,
        dormant: dormant.id,
        key_id,
        email_id,
        imp_token_id,
        tokens: vec![
            (Caller::Anonymous, None),
            (Caller::Himself, Some(target.token.clone())),
            (Caller::Other, Some(other.token.clone())),
            (Caller::Admin, Some(app.admin().to_string())),
            (Caller::AdminSudo, Some(app.admin().to_string())),
            (Caller::ReadUser, Some(read_user)),
            (Caller::Revoked, Some(revoked)),
            (Caller::Expired, Some(expired)),
            (Caller::Impersonation, Some(impersonation)),
            (Caller::Blocked, Some(blocked.token.clone())),
        ],
    }
}

impl World {
    fn token(&self, c: Caller) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(k, _)| *k == c)
            .and_then(|(_, t)| t.as_deref())
    }
}

async fn send(app: &TestApp, w: &World, caller: Caller, query: &str) -> Res {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": query }));
    if let Some(t) = w.token(caller) {
        req = req.header("PRIVATE-TOKEN", t);
    }
    if caller == Caller::AdminSudo {
        req = req.header("Sudo", w.target.to_string());
    }
    TestApp::finish(req).await
}

/// Is `caller` the target user (however authenticated) or an admin?
fn is_self_or_admin(c: Caller) -> bool {
    matches!(
        c,
        Caller::Himself | Caller::Admin | Caller::AdminSudo | Caller::ReadUser | Caller::Impersonation
    )
}

/// Request-level refusals come first: dead credentials and blocked users.
fn request_level(c: Caller) -> Option<Outcome> {
    match c {
        Caller::Revoked | Caller::Expired => Some(Outcome::Unauthenticated),
        Caller::Blocked => Some(Outcome::Forbidden),
        _ => None,
    }
}

fn field_allowed(rule: Field, c: Caller, private_profile: bool) -> bool {
    match rule {
        Field::Public => true,
        Field::Profile => !private_profile || is_self_or_admin(c),
        Field::SignedProfile => c != Caller::Anonymous && (!private_profile || is_self_or_admin(c)),
        Field::Private => is_self_or_admin(c),
        Field::Secret => matches!(c, Caller::Himself | Caller::Admin | Caller::AdminSudo),
        Field::Admin => c == Caller::Admin,
    }
}

async fn schema_fields(app: &TestApp, type_name: &str) -> BTreeSet<String> {
    let res = app
        .gql(
            None,
            &format!("{{ __type(name: \"{type_name}\") {{ fields {{ name }} }} }}"),
            json!({}),
        )
        .await;
    res.data()["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_fields_for_every_caller() {
    each_backend(|app| async move {
        let listed: BTreeSet<String> = USER_FIELDS.iter().map(|(n, _, _)| n.to_string()).collect();
        assert_eq!(
            schema_fields(&app, "User").await,
            listed,
            "every User field needs a rule in USER_FIELDS"
        );
        let w = world(&app).await;
        // The target's profile public, then private.
        for private_profile in [false, true] {
            if private_profile {
                let res = app
                    .put(
                        &format!("/api/v4/users/{}", w.target),
                        Some(app.admin()),
                        json!({ "private_profile": true }),
                    )
                    .await;
                assert_eq!(res.body["private_profile"], json!(true), "{}", res.body);
            }
            for caller in CALLERS {
                for (field, rule, sub) in USER_FIELDS {
                    let q = format!("{{ user(id: \"{}\") {{ {field} {sub} }} }}", w.target);
                    let res = send(&app, &w, caller, &q).await;
                    let what = format!(
                        "{caller:?} reading {field} (private profile: {private_profile}): {}",
                        res.body
                    );
                    match request_level(caller) {
                        Some(Outcome::Unauthenticated) => assert_eq!(res.code(), "UNAUTHENTICATED", "{what}"),
                        Some(_) => assert_eq!(res.code(), "FORBIDDEN", "{what}"),
                        None if field_allowed(*rule, caller, private_profile) => {
                            assert!(res.body.get("errors").is_none(), "{what}");
                            if *field != "bio"
                                && *field != "location"
                                && !field.ends_with("At")
                                && *field != "lastActivityOn"
                            {
                                assert!(!res.body["data"]["user"][field].is_null(), "{what}");
                            }
                        }
                        None => {
                            assert_eq!(res.code(), "FORBIDDEN", "{what}");
                            assert!(
                                res.body["data"]["user"].get(*field).is_some_and(Value::is_null),
                                "{what}"
                            );
                            assert_eq!(res.body["errors"][0]["path"], json!(["user", field]), "{what}");
                        }
                    }
                }
            }
        }
    })
    .await;
}

struct Op {
    name: &'static str,
    level: Level,
    write: bool,
    /// What an allowed caller gets.
    allowed: Outcome,
    query: fn(&World) -> String,
}

fn ops() -> Vec<Op> {
    vec![
        Op {
            name: "currentUser",
            level: Level::Anyone,
            write: false,
            allowed: Outcome::Ok,
            query: |_| "{ currentUser { id } }".into(),
        },
        Op {
            name: "user",
            level: Level::Anyone,
            write: false,
            allowed: Outcome::Ok,
            query: |w| format!("{{ user(id: \"{}\") {{ id }} }}", w.target),
        },
        Op {
            name: "users",
            level: Level::Anyone,
            write: false,
            allowed: Outcome::Ok,
            query: |_| "{ users(filter: { username: \"target\" }) { nodes { id } } }".into(),
        },
        Op {
            name: "sshKey",
            level: Level::SelfOrAdmin,
            write: false,
            allowed: Outcome::Ok,
            query: |w| format!("{{ sshKey(id: \"{}\") {{ id }} }}", w.key_id),
        },
        Op {
            name: "email",
            level: Level::SelfOrAdmin,
            write: false,
            allowed: Outcome::Ok,
            query: |w| format!("{{ email(id: \"{}\") {{ id }} }}", w.email_id),
        },
        Op {
            name: "impersonationTokens",
            level: Level::Admin,
            write: false,
            allowed: Outcome::Ok,
            query: |w| format!("{{ impersonationTokens(userId: \"{}\") {{ totalCount }} }}", w.target),
        },
        Op {
            name: "impersonationToken",
            level: Level::Admin,
            write: false,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "{{ impersonationToken(userId: \"{}\", id: \"{}\") {{ id }} }}",
                    w.target, w.imp_token_id
                )
            },
        },
        Op {
            name: "personalAccessTokens",
            level: Level::SelfOrAdmin,
            write: false,
            allowed: Outcome::Ok,
            query: |w| format!("{{ personalAccessTokens(userId: \"{}\") {{ totalCount }} }}", w.target),
        },
        Op {
            name: "personalAccessToken",
            level: Level::Signed,
            write: false,
            // Nobody's: null to everyone signed in.
            allowed: Outcome::Null,
            query: |_| "{ personalAccessToken(id: \"999999\") { id } }".into(),
        },
        Op {
            name: "userActivities",
            level: Level::Admin,
            write: false,
            allowed: Outcome::Ok,
            query: |_| "{ userActivities { totalCount } }".into(),
        },
        Op {
            name: "signIn",
            level: Level::Anyone,
            write: true,
            allowed: Outcome::Ok,
            query: |_| {
                "mutation { signIn(input: { login: \"target\", password: \"s3cret-password\" }) { token } }".into()
            },
        },
        Op {
            name: "createUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |_| {
                let u = unique();
                format!(
                    "mutation {{ createUser(input: {{ username: \"u{u}\", email: \"{u}@example.com\", name: \"n\", password: \"s3cret-password\" }}) {{ user {{ id }} }} }}"
                )
            },
        },
        Op {
            name: "updateUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ updateUser(input: {{ id: \"{}\", bio: \"b\" }}) {{ user {{ id }} }} }}",
                    w.victim
                )
            },
        },
        Op {
            name: "deleteUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Null,
            query: |_| "mutation { deleteUser(input: { id: \"999999\" }) { user { id } } }".into(),
        },
        Op {
            name: "blockUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ blockUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.victim
                )
            },
        },
        Op {
            name: "unblockUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ unblockUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.victim
                )
            },
        },
        Op {
            name: "addSshKey",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Ok,
            query: |_| {
                format!(
                    "mutation {{ addSshKey(input: {{ title: \"k\", key: \"{}\" }}) {{ key {{ id }} }} }}",
                    random_key()
                )
            },
        },
        Op {
            name: "deleteSshKey",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Null,
            query: |_| "mutation { deleteSshKey(input: { id: \"999999\" }) { key { id } } }".into(),
        },
        Op {
            name: "addGpgKey",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Ok,
            query: |_| {
                format!(
                    "mutation {{ addGpgKey(input: {{ key: {} }}) {{ key {{ id }} }} }}",
                    json!(crate::common::gpg::key("M <m@example.com>", "ed25519").public)
                )
            },
        },
        Op {
            name: "deleteGpgKey",
            level: Level::Signed,
            write: true,
            allowed: Outcome::NotFound,
            query: |_| "mutation { deleteGpgKey(input: { id: \"999999\" }) { key { id } } }".into(),
        },
        Op {
            name: "addEmail",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Ok,
            query: |_| {
                format!(
                    "mutation {{ addEmail(input: {{ email: \"{}@example.com\" }}) {{ email {{ id }} }} }}",
                    unique()
                )
            },
        },
        Op {
            name: "deleteEmail",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Null,
            query: |_| "mutation { deleteEmail(input: { id: \"999999\" }) { email { id } } }".into(),
        },
        Op {
            name: "createImpersonationToken",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ createImpersonationToken(input: {{ userId: \"{}\", name: \"x\", scopes: [\"api\"] }}) {{ token {{ id }} }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "revokeImpersonationToken",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ revokeImpersonationToken(input: {{ userId: \"{}\", id: \"{}\" }}) {{ token {{ id }} }} }}",
                    w.target, w.imp_token_id
                )
            },
        },
        Op {
            name: "createPersonalAccessToken",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Ok,
            query: |_| {
                "mutation { createPersonalAccessToken(input: { name: \"x\", scopes: [\"read_user\"] }) { token { id } } }".into()
            },
        },
        Op {
            name: "revokePersonalAccessToken",
            level: Level::Signed,
            write: true,
            allowed: Outcome::NotFound,
            query: |_| "mutation { revokePersonalAccessToken(input: { id: \"999999\" }) { token { id } } }".into(),
        },
        Op {
            name: "followUser",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ followUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "unfollowUser",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ unfollowUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "setUserStatus",
            level: Level::Signed,
            write: true,
            allowed: Outcome::Ok,
            query: |_| "mutation { setUserStatus(input: { emoji: \"tea\" }) { status { emoji } } }".into(),
        },
        Op {
            name: "rotatePersonalAccessToken",
            level: Level::Signed,
            write: true,
            allowed: Outcome::NotFound,
            query: |_| "mutation { rotatePersonalAccessToken(input: { id: \"999999\" }) { token { id } } }".into(),
        },
        Op {
            name: "requestPasswordReset",
            level: Level::Anyone,
            write: true,
            allowed: Outcome::Ok,
            query: |_| "mutation { requestPasswordReset(input: { email: \"nobody@example.com\" }) { message } }".into(),
        },
        Op {
            name: "resetPassword",
            level: Level::Anyone,
            write: true,
            allowed: Outcome::Invalid,
            query: |_| {
                "mutation { resetPassword(input: { token: \"bogus\", password: \"s3cret-password\" }) { user { id } } }"
                    .into()
            },
        },
        Op {
            name: "resendConfirmation",
            level: Level::Anyone,
            write: true,
            allowed: Outcome::Ok,
            query: |_| "mutation { resendConfirmation(input: { email: \"nobody@example.com\" }) { message } }".into(),
        },
        Op {
            name: "confirmEmail",
            level: Level::Anyone,
            write: true,
            allowed: Outcome::Invalid,
            query: |_| "mutation { confirmEmail(input: { token: \"bogus\" }) { email } }".into(),
        },
        Op {
            name: "signUp",
            level: Level::Anyone,
            write: true,
            // Sign-up is off unless configured.
            allowed: Outcome::Forbidden,
            query: |_| {
                "mutation { signUp(input: { username: \"su\", email: \"su@example.com\", name: \"s\", password: \"s3cret-password\" }) { user { id } } }".into()
            },
        },
        Op {
            name: "deactivateUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ deactivateUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.dormant
                )
            },
        },
        Op {
            name: "activateUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ activateUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.dormant
                )
            },
        },
        Op {
            name: "banUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ banUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.dormant
                )
            },
        },
        Op {
            name: "unbanUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ unbanUser(input: {{ id: \"{}\" }}) {{ changed }} }}",
                    w.dormant
                )
            },
        },
        Op {
            name: "approveUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Conflict,
            query: |w| {
                format!(
                    "mutation {{ approveUser(input: {{ id: \"{}\" }}) {{ user {{ id }} }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "rejectUser",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Conflict,
            query: |w| {
                format!(
                    "mutation {{ rejectUser(input: {{ id: \"{}\" }}) {{ user {{ id }} }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "setCustomAttribute",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ setCustomAttribute(input: {{ userId: \"{}\", key: \"k\", value: \"v\" }}) {{ customAttribute {{ key }} }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "deleteCustomAttribute",
            level: Level::Admin,
            write: true,
            allowed: Outcome::NotFound,
            query: |w| {
                format!(
                    "mutation {{ deleteCustomAttribute(input: {{ userId: \"{}\", key: \"nope\" }}) {{ customAttribute {{ key }} }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "deleteUserIdentity",
            level: Level::Admin,
            write: true,
            allowed: Outcome::NotFound,
            query: |w| {
                format!(
                    "mutation {{ deleteUserIdentity(input: {{ userId: \"{}\", provider: \"nope\" }}) {{ user {{ id }} }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "disableTwoFactor",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Invalid,
            query: |w| {
                format!(
                    "mutation {{ disableTwoFactor(input: {{ id: \"{}\" }}) {{ user {{ id }} }} }}",
                    w.target
                )
            },
        },
        Op {
            name: "sshKeyByFingerprint",
            level: Level::Admin,
            write: false,
            allowed: Outcome::Null,
            query: |_| {
                "{ sshKeyByFingerprint(fingerprint: \"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\") { id } }"
                    .into()
            },
        },
        Op {
            name: "createEvent",
            level: Level::Admin,
            write: true,
            allowed: Outcome::Ok,
            query: |w| {
                format!(
                    "mutation {{ createEvent(input: {{ authorId: \"{}\", action: joined }}) {{ event {{ id }} }} }}",
                    w.target
                )
            },
        },
    ]
}

fn expected(op: &Op, c: Caller) -> Outcome {
    if let Some(o) = request_level(c) {
        return o;
    }
    if c == Caller::Anonymous {
        return if op.level == Level::Anyone {
            op.allowed
        } else {
            Outcome::Unauthenticated
        };
    }
    if op.write && c == Caller::ReadUser {
        return Outcome::Forbidden;
    }
    match op.level {
        Level::Anyone | Level::Signed => op.allowed,
        Level::SelfOrAdmin if is_self_or_admin(c) => op.allowed,
        // sshKey and email answer null rather than reveal that the id exists.
        Level::SelfOrAdmin if matches!(op.name, "sshKey" | "email") => Outcome::Null,
        Level::SelfOrAdmin => Outcome::Forbidden,
        Level::Admin if c == Caller::Admin => op.allowed,
        Level::Admin => Outcome::Forbidden,
    }
}

fn outcome(res: &Res, field: &str) -> Outcome {
    match res.body["errors"][0]["extensions"]["code"].as_str() {
        None if res.body["data"][field].is_null() => Outcome::Null,
        None => match res.body["data"][field].as_object() {
            Some(o) if o.values().all(Value::is_null) => Outcome::Null,
            _ => Outcome::Ok,
        },
        Some("UNAUTHENTICATED") => Outcome::Unauthenticated,
        Some("FORBIDDEN") => Outcome::Forbidden,
        Some("NOT_FOUND") => Outcome::NotFound,
        Some("BAD_USER_INPUT") => Outcome::Invalid,
        Some("CONFLICT") => Outcome::Conflict,
        Some(other) => panic!("unexpected error code {other}: {}", res.body),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_for_every_caller() {
    each_backend(|app| async move {
        let ops = ops();
        let mut listed: BTreeSet<String> = ops.iter().map(|o| o.name.to_string()).collect();
        let mut schema = schema_fields(&app, "Query").await;
        schema.extend(schema_fields(&app, "Mutation").await);
        schema.retain(|f| !f.starts_with("__"));
        listed.retain(|f| schema.contains(f));
        assert_eq!(schema, listed, "every root field needs a rule in ops()");
        let w = world(&app).await;
        for op in &ops {
            for caller in CALLERS {
                let res = send(&app, &w, caller, &(op.query)(&w)).await;
                let got = outcome(&res, op.name);
                // currentUser is null for anonymous callers, and that is its allowed answer.
                let want = match (op.name, caller) {
                    ("currentUser", Caller::Anonymous) => Outcome::Null,
                    _ => expected(op, caller),
                };
                assert_eq!(got, want, "{} as {caller:?}: {}", op.name, res.body);
            }
        }
    })
    .await;
}

/// REST: (method, path, level, allowed status). `{t}` is the target user's id, `{k}` a key of
/// theirs, `{e}` an e-mail of theirs, `{i}` an impersonation token of theirs.
const ENDPOINTS: &[(&str, &str, Level, u16)] = &[
    ("GET", "/api/v4/users?username=target", Level::Anyone, 200),
    ("GET", "/api/v4/users/{t}", Level::Anyone, 200),
    ("GET", "/api/v4/users/{t}/events", Level::Anyone, 200),
    ("GET", "/api/v4/user", Level::Signed, 200),
    ("GET", "/api/v4/user/keys", Level::Signed, 200),
    ("GET", "/api/v4/user/emails", Level::Signed, 200),
    ("POST", "/api/v4/user/keys", Level::Signed, 201),
    ("DELETE", "/api/v4/user/keys/999999", Level::Signed, 200),
    ("POST", "/api/v4/user/emails", Level::Signed, 201),
    ("GET", "/api/v4/user/gpg_keys", Level::Signed, 200),
    ("POST", "/api/v4/user/gpg_keys", Level::Signed, 201),
    ("DELETE", "/api/v4/user/gpg_keys/999999", Level::Signed, 404),
    ("POST", "/api/v4/user/gpg_keys/999999/revoke", Level::Signed, 404),
    ("GET", "/api/v4/users/{t}/gpg_keys", Level::Anyone, 200),
    ("GET", "/api/v4/users/{t}/gpg_keys/999999", Level::Anyone, 404),
    ("POST", "/api/v4/users/{t}/gpg_keys", Level::SelfOrAdmin, 201),
    ("DELETE", "/api/v4/users/{t}/gpg_keys/999999", Level::SelfOrAdmin, 404),
    (
        "POST",
        "/api/v4/users/{t}/gpg_keys/999999/revoke",
        Level::SelfOrAdmin,
        404,
    ),
    ("DELETE", "/api/v4/user/emails/999999", Level::Signed, 200),
    ("POST", "/api/v4/users", Level::Admin, 201),
    ("PUT", "/api/v4/users/{t}", Level::Admin, 200),
    ("DELETE", "/api/v4/users/999999", Level::Admin, 200),
    ("POST", "/api/v4/users/{t}/unblock", Level::Admin, 201),
    ("GET", "/api/v4/users/{t}/keys", Level::SelfOrAdmin, 200),
    ("GET", "/api/v4/users/{t}/keys/{k}", Level::SelfOrAdmin, 200),
    ("POST", "/api/v4/users/{t}/keys", Level::SelfOrAdmin, 201),
    ("DELETE", "/api/v4/users/{t}/keys/999999", Level::SelfOrAdmin, 404),
    ("GET", "/api/v4/users/{t}/emails", Level::SelfOrAdmin, 200),
    ("GET", "/api/v4/users/{t}/emails/{e}", Level::SelfOrAdmin, 200),
    ("POST", "/api/v4/users/{t}/emails", Level::SelfOrAdmin, 201),
    ("DELETE", "/api/v4/users/{t}/emails/999999", Level::SelfOrAdmin, 404),
    ("GET", "/api/v4/users/{t}/impersonation_tokens", Level::Admin, 200),
    ("GET", "/api/v4/users/{t}/impersonation_tokens/{i}", Level::Admin, 200),
    ("POST", "/api/v4/users/{t}/impersonation_tokens", Level::Admin, 201),
    (
        "DELETE",
        "/api/v4/users/{t}/impersonation_tokens/{i}",
        Level::Admin,
        204,
    ),
    ("POST", "/api/v4/users/{t}/personal_access_tokens", Level::Admin, 201),
    ("GET", "/api/v4/personal_access_tokens", Level::Signed, 200),
    ("GET", "/api/v4/personal_access_tokens/999999", Level::Signed, 404),
    ("DELETE", "/api/v4/personal_access_tokens/999999", Level::Signed, 404),
    (
        "POST",
        "/api/v4/personal_access_tokens/999999/rotate",
        Level::Signed,
        404,
    ),
    ("GET", "/api/v4/user/status", Level::Signed, 200),
    ("PUT", "/api/v4/user/status", Level::Signed, 200),
    ("PATCH", "/api/v4/user/status", Level::Signed, 200),
    ("GET", "/api/v4/users/{t}/status", Level::Anyone, 200),
    ("GET", "/api/v4/users/{t}/followers", Level::Signed, 200),
    ("GET", "/api/v4/users/{t}/following", Level::Signed, 200),
    ("GET", "/api/v4/user/activities", Level::Admin, 200),
    ("DELETE", "/api/v4/users/{t}/identities/nope", Level::Admin, 404),
    ("POST", "/api/v4/users/{d}/deactivate", Level::Admin, 201),
    ("POST", "/api/v4/users/{d}/activate", Level::Admin, 201),
    ("POST", "/api/v4/users/{d}/ban", Level::Admin, 201),
    ("POST", "/api/v4/users/{d}/unban", Level::Admin, 201),
    ("POST", "/api/v4/users/{t}/approve", Level::Admin, 409),
    ("POST", "/api/v4/users/{t}/reject", Level::Admin, 409),
    ("GET", "/api/v4/users/{t}/custom_attributes", Level::Admin, 200),
    ("PUT", "/api/v4/users/{t}/custom_attributes/color", Level::Admin, 200),
    ("GET", "/api/v4/users/{t}/custom_attributes/nope", Level::Admin, 404),
    ("DELETE", "/api/v4/users/{t}/custom_attributes/nope", Level::Admin, 404),
    ("PATCH", "/api/v4/users/{t}/disable_two_factor", Level::Admin, 400),
    ("GET", "/api/v4/keys/{k}", Level::Admin, 200),
    (
        "GET",
        "/api/v4/keys?fingerprint=SHA256%3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        Level::Admin,
        404,
    ),
];

fn rest_body(method: &str, path: &str) -> Option<Value> {
    if method != "POST" && method != "PUT" {
        return None;
    }
    let u = unique();
    Some(if path.ends_with("/gpg_keys") {
        json!({ "key": crate::common::gpg::key("M <m@example.com>", "ed25519").public })
    } else if path.ends_with("/keys") {
        json!({ "title": "k", "key": random_key() })
    } else if path.ends_with("/emails") {
        json!({ "email": format!("{u}@example.com") })
    } else if path.ends_with("impersonation_tokens") || path.ends_with("personal_access_tokens") {
        json!({ "name": "t", "scopes": ["api"] })
    } else if path.contains("/custom_attributes/") {
        json!({ "value": "v" })
    } else if path == "/api/v4/users" {
        json!({ "username": format!("u{u}"), "email": format!("{u}@example.com"), "name": "n", "password": "s3cret-password" })
    } else {
        json!({ "bio": "b" })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_endpoints_for_every_caller() {
    each_backend(|app| async move {
        let w = world(&app).await;
        for (method, path, level, ok) in ENDPOINTS {
            let path = path
                .replace("{t}", &w.target.to_string())
                .replace("{d}", &w.dormant.to_string())
                .replace("{k}", &w.key_id.to_string())
                .replace("{e}", &w.email_id.to_string())
                .replace("{i}", &w.imp_token_id.to_string());
            for caller in CALLERS {
                let op = Op {
                    name: "",
                    level: *level,
                    write: *method != "GET",
                    allowed: Outcome::Ok,
                    query: |_| String::new(),
                };
                let want = match expected(&op, caller) {
                    // GitLab answers an anonymous caller of these lists 403 "Not authorized!".
                    Outcome::Unauthenticated
                        if caller == Caller::Anonymous
                            && (path.ends_with("/followers") || path.ends_with("/following")) =>
                    {
                        403
                    }
                    Outcome::Ok => *ok,
                    Outcome::Unauthenticated => 401,
                    Outcome::Forbidden => 403,
                    Outcome::Conflict => 409,
                    other => panic!("no REST status for {other:?}"),
                };
                let mut req = app.client.request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{}{path}", app.base),
                );
                if let Some(t) = w.token(caller) {
                    req = req.header("PRIVATE-TOKEN", t);
                }
                if caller == Caller::AdminSudo {
                    req = req.header("Sudo", w.target.to_string());
                }
                if let Some(b) = rest_body(method, &path) {
                    req = req.json(&b);
                }
                let res = TestApp::finish(req).await;
                assert_eq!(res.status.as_u16(), want, "{method} {path} as {caller:?}: {}", res.body);
            }
        }
    })
    .await;
}
