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
