//! Profile fields of today's GitLab: `public_email` (one of the user's confirmed addresses, shown
//! to everyone, and the `public_email` filter of the users list).

use entity::user;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, each_backend};

async fn public_email_of(app: &TestApp, id: i32) -> Option<String> {
    user::Entity::find_by_id(id)
        .one(app.db())
        .await
        .unwrap()
        .unwrap()
        .public_email
}

#[tokio::test]
async fn public_email_is_one_of_the_users_confirmed_addresses() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let not_owned = json!({ "message": { "public_email": ["is not an email you own"] } });
        // On creation only the primary address, confirmed at once, may be the public one.
        let users_before = user::Entity::find().count(app.db()).await.unwrap();
        let new = |extra: Value| {
            let app = app.clone();
            async move {
                let mut body = json!({ "username": "pub", "email": "Pub@Example.com", "name": "P",
                                       "password": "s3cret-password" });
                for (k, v) in extra.as_object().unwrap() {
                    body[k] = v.clone();
                }
                app.post("/api/v4/users", Some(app.admin()), body).await
            }
        };
        new(json!({ "public_email": "someone@example.com", "skip_confirmation": true }))
            .await
            .assert(400, not_owned.clone());
        new(json!({ "public_email": "pub@example.com" })).await.assert(400, not_owned.clone());
        assert_eq!(user::Entity::find().count(app.db()).await.unwrap(), users_before);
        let res = new(json!({ "public_email": "PUB@example.com", "skip_confirmation": true })).await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(res.body["public_email"], "pub@example.com");
        let id = res.body["id"].as_i64().unwrap() as i32;
        // Shown to everyone, over REST and GraphQL.
        let res = app.get(&format!("/api/v4/users/{id}"), None).await;
        assert_eq!(res.body["public_email"], "pub@example.com");
        let other = app.user("other").await;
        let res = app
            .gql(Some(&other.token), "query($id: ID!) { user(id: $id) { publicEmail } }", json!({ "id": id.to_string() }))
            .await;
        assert_eq!(res.data()["user"]["publicEmail"], "pub@example.com");
        // A secondary address: refused until it is confirmed.
        let path = format!("/api/v4/users/{id}");
        app.post(&format!("{path}/emails"), admin, json!({ "email": "second@example.com" }))
            .await;
        app.put(&path, admin, json!({ "public_email": "second@example.com" }))
            .await
            .assert(400, not_owned.clone());
        app.put(&path, admin, json!({ "public_email": "nobody@example.com" }))
            .await
            .assert(400, not_owned.clone());
        let res = app
            .post(&format!("{path}/emails"), admin, json!({ "email": "third@example.com", "skip_confirmation": true }))
            .await;
        let third = res.body["id"].as_i64().unwrap();
        let res = app.put(&path, admin, json!({ "public_email": "Third@example.com" })).await;
        assert_eq!(res.body["public_email"], "third@example.com");
        // The list filter, in any case; without_project_bots changes nothing (no bots here).
        for q in ["public_email=THIRD@example.com", "public_email=third@example.com&without_project_bots=true"] {
            let res = app.get(&format!("/api/v4/users?{q}"), admin).await;
            let ids: Vec<i64> = res.body.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
            assert_eq!(ids, vec![id as i64], "{q}");
        }
        let res = app.get("/api/v4/users?public_email=second@example.com", admin).await;
        assert_eq!(res.body, json!([]));
        app.get("/api/v4/users?without_project_bots=maybe", admin)
            .await
            .assert(400, json!({ "error": "without_project_bots is invalid" }));
        let res = app
            .gql(admin, "{ users(filter: { publicEmail: \"third@example.com\" }) { nodes { username } } }", json!({}))
            .await;
        assert_eq!(res.data()["users"]["nodes"], json!([{ "username": "pub" }]));
        // Deleting the address takes it off the profile.
        app.delete(&format!("{path}/emails/{third}"), admin).await;
        assert_eq!(public_email_of(&app, id).await, None);
        // An empty value clears it; a new primary address replaces an old public one.
        app.put(&path, admin, json!({ "public_email": "pub@example.com" })).await;
        assert_eq!(public_email_of(&app, id).await.as_deref(), Some("pub@example.com"));
        let res = app.put(&path, admin, json!({ "public_email": "" })).await;
        assert_eq!(res.body["public_email"], Value::Null);
        app.put(&path, admin, json!({ "public_email": "pub@example.com" })).await;
        app.put(&path, admin, json!({ "email": "renamed@example.com" })).await;
        assert_eq!(public_email_of(&app, id).await, None);
        // GraphQL writes it under the same rule.
        let set = "mutation($id: ID!, $e: String!) { updateUser(input: { id: $id, publicEmail: $e }) { user { publicEmail } } }";
        let res = app.gql(admin, set, json!({ "id": id.to_string(), "e": "nobody@example.com" })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
    })
    .await;
}

#[tokio::test]
async fn todays_profile_fields_round_trip_under_gitlabs_rules() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("prof").await;
        let path = format!("/api/v4/users/{}", u.id);
        // Defaults.
        let res = app.get(&path, admin).await;
        let b = &res.body;
        assert_eq!(
            (
                &b["discord"],
                &b["job_title"],
                &b["pronouns"],
                &b["bot"],
                &b["theme_id"]
            ),
            (&json!(""), &json!(""), &Value::Null, &json!(false), &json!(1))
        );
        assert_eq!(
            (&b["commit_email"], &b["locked"]),
            (&json!("prof@example.com"), &json!(false))
        );
        // Written and read back exactly.
        let res = app
            .put(
                &path,
                admin,
                json!({ "discord": "123456789012345678", "job_title": "Engineer", "pronouns": "she/her",
                        "theme_id": 11, "commit_email": "prof@example.com" }),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let b = &res.body;
        assert_eq!(
            (
                &b["discord"],
                &b["job_title"],
                &b["pronouns"],
                &b["theme_id"],
                &b["commit_email"]
            ),
            (
                &json!("123456789012345678"),
                &json!("Engineer"),
                &json!("she/her"),
                &json!(11),
                &json!("prof@example.com")
            )
        );
        // Others see the public ones, not the private ones.
        let other = app.user("other").await;
        let q = "query($id: ID!) { user(id: $id) { discord jobTitle pronouns bot themeId } }";
        let res = app.gql(Some(&other.token), q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.body["data"]["user"]["jobTitle"], "Engineer");
        assert_eq!(res.body["data"]["user"]["themeId"], Value::Null);
        assert_eq!(res.code(), "FORBIDDEN");
        let res = app.get(&path, Some(&other.token)).await;
        assert_eq!(res.body["pronouns"], "she/her");
        assert!(res.body.get("theme_id").is_none() && res.body.get("commit_email").is_none());
        // Bad values: 400 with GitLab's words, nothing changed.
        for (body, field, message) in [
            (
                json!({ "discord": "not-a-snowflake" }),
                "discord",
                "must contain only a discord user ID.",
            ),
            (json!({ "theme_id": 12 }), "theme_id", "is not included in the list"),
            (
                json!({ "pronouns": "p".repeat(51) }),
                "pronouns",
                "is too long (maximum is 50 characters)",
            ),
            (
                json!({ "job_title": "j".repeat(201) }),
                "job_title",
                "is too long (maximum is 200 characters)",
            ),
            (
                json!({ "commit_email": "nobody@example.com" }),
                "commit_email",
                "is not an email you own",
            ),
        ] {
            app.put(&path, admin, body)
                .await
                .assert(400, json!({ "message": { field: [message] } }));
        }
        let res = app.get(&path, admin).await;
        assert_eq!(
            (&res.body["discord"], &res.body["theme_id"]),
            (&json!("123456789012345678"), &json!(11))
        );
        // Empty clears; a removed commit address falls back to the primary.
        let e = app
            .post(
                &format!("{path}/emails"),
                admin,
                json!({ "email": "work@example.com", "skip_confirmation": true }),
            )
            .await;
        app.put(
            &path,
            admin,
            json!({ "commit_email": "work@example.com", "pronouns": "" }),
        )
        .await;
        let res = app.get(&path, admin).await;
        assert_eq!(
            (&res.body["commit_email"], &res.body["pronouns"]),
            (&json!("work@example.com"), &Value::Null)
        );
        app.delete(&format!("{path}/emails/{}", e.body["id"]), admin).await;
        assert_eq!(app.get(&path, admin).await.body["commit_email"], "prof@example.com");
        // Locked while too many wrong passwords keep it locked.
        for _ in 0..10 {
            app.sign_in("prof", "wrong-password").await;
        }
        assert_eq!(app.get(&path, admin).await.body["locked"], true);
        assert_eq!(app.get("/api/v4/user", Some(&u.token)).await.body["locked"], true);
    })
    .await;
}

#[tokio::test]
async fn the_admin_note_is_for_admins_alone() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user_with("noted", json!({ "note": "Asked for\na refund" })).await;
        let path = format!("/api/v4/users/{}", u.id);
        assert_eq!(app.get(&path, admin).await.body["note"], "Asked for\na refund");
        // Not to the user, on any representation; not to others.
        let res = app.get("/api/v4/user", Some(&u.token)).await;
        assert_eq!(res.status, 200);
        assert!(res.body.get("note").is_none());
        assert!(app.get(&path, Some(&u.token)).await.body.get("note").is_none());
        let res = app.gql(Some(&u.token), "{ currentUser { note } }", json!({})).await;
        assert_eq!(
            (res.code(), &res.body["data"]["currentUser"]["note"]),
            ("FORBIDDEN".to_string(), &Value::Null)
        );
        // An admin's own GET /user has it.
        assert!(app.get("/api/v4/user", admin).await.body.get("note").is_some());
        // Written by admins, up to 1000 characters; empty clears it.
        app.put(&path, admin, json!({ "note": "n".repeat(1001) })).await.assert(
            400,
            json!({ "message": { "note": ["is too long (maximum is 1000 characters)"] } }),
        );
        assert_eq!(
            app.put(&path, admin, json!({ "note": "" })).await.body["note"],
            Value::Null
        );
        app.put(&path, Some(&u.token), json!({ "note": "mine" }))
            .await
            .assert(403, json!({ "message": "403 Forbidden" }));
    })
    .await;
}

#[tokio::test]
async fn a_private_profile_shows_others_only_who_the_user_is() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        // python-gitlab sends private_profile on create and update; it round-trips.
        let res = app
            .post(
                "/api/v4/users",
                admin,
                json!({ "username": "shy", "email": "shy@example.com", "name": "Shy", "password": "s3cret-password",
                        "private_profile": true, "bio": "private bio", "job_title": "Keeper",
                        "skip_confirmation": true, "public_email": "shy@example.com" }),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.body);
        assert_eq!(res.body["private_profile"], true);
        let id = res.body["id"].as_i64().unwrap() as i32;
        let stored = user::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap();
        assert!(stored.private_profile);
        let path = format!("/api/v4/users/{id}");
        let shy = app.legacy_token(id).await;
        let other = app.user("curious").await;
        // Others, signed in or not: who the user is, and not one key more.
        for caller in [None, Some(other.token.as_str())] {
            let res = app.get(&path, caller).await;
            assert_eq!(res.status, 200);
            let mut keys: Vec<&str> = res.body.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                ["avatar_url", "id", "name", "state", "username", "web_url"],
                "{}",
                res.body
            );
            // The list shows everyone the basic cut anyway; the profile stays out of it too.
            let res = app.get("/api/v4/users?username=shy", caller).await;
            assert_eq!(res.body[0].get("bio"), None);
            let res = app
                .gql(
                    caller,
                    "query($id: ID!) { user(id: $id) { username bio jobTitle publicEmail } }",
                    json!({ "id": id.to_string() }),
                )
                .await;
            assert_eq!(
                res.body["data"]["user"],
                json!({ "username": "shy", "bio": null, "jobTitle": null, "publicEmail": null })
            );
            assert_eq!(res.codes(), ["FORBIDDEN"; 3]);
        }
        // The user and admins see it all.
        let res = app.get("/api/v4/user", Some(&shy)).await;
        assert_eq!(
            (&res.body["bio"], &res.body["private_profile"]),
            (&json!("private bio"), &json!(true))
        );
        let res = app.get(&path, Some(&shy)).await;
        assert_eq!(res.body["job_title"], "Keeper");
        let res = app.get(&path, admin).await;
        assert_eq!(
            (&res.body["bio"], &res.body["private_profile"]),
            (&json!("private bio"), &json!(true))
        );
        // Made public again, the profile shows; false round-trips.
        let res = app.put(&path, admin, json!({ "private_profile": false })).await;
        assert_eq!(res.body["private_profile"], false);
        let res = app.get(&path, None).await;
        assert_eq!(
            (&res.body["bio"], &res.body["public_email"]),
            (&json!("private bio"), &json!("shy@example.com"))
        );
        // Not a boolean: GitLab's 400.
        app.put(&path, admin, json!({ "private_profile": "maybe" }))
            .await
            .assert(400, json!({ "error": "private_profile is invalid" }));
    })
    .await;
}
