//! Users over GraphQL: reads, filters, pagination, field guards and the admin mutations.

use entity::{email, identity, token, user};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::{TestApp, each_backend};

const CREATE: &str = "mutation($input: CreateUserInput!) { createUser(input: $input) { user {
    id username name email state isAdmin projectsLimit canCreateGroup canCreateProject external confirmedAt
    bio location skype linkedin twitter websiteUrl organization webUrl avatarUrl createdAt
    identities { provider externUid } } } }";

const UPDATE: &str = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user {
    id username email bio passwordExpiresAt identities { provider externUid } } } }";

fn input(username: &str) -> serde_json::Value {
    json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "name": "Some Body",
        "password": "s3cret-password",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_user_with_every_parameter() {
    each_backend(|app| async move {
        let res = app
            .gql(
                Some(app.admin()),
                CREATE,
                json!({ "input": {
                    "username": "John_Smith", "email": " John@Example.COM ", "name": "John Smith",
                    "password": "s3cret-password", "skype": "js", "linkedin": "in/js", "twitter": "@js",
                    "websiteUrl": "https://js.example", "organization": "ACME", "projectsLimit": 7,
                    "externUid": "67890", "provider": "github", "bio": "hi", "location": "Mars",
                    "admin": true, "canCreateGroup": false, "external": true, "skipConfirmation": true
                }}),
            )
            .await;
        let u = &res.data()["createUser"]["user"];
        assert_eq!(u["username"], "John_Smith");
        assert_eq!(u["email"], "john@example.com", "stored trimmed and lower-cased");
        assert_eq!(u["state"], "active");
        assert_eq!(u["isAdmin"], true);
        assert_eq!(u["projectsLimit"], 7);
        assert_eq!(u["canCreateGroup"], false);
        assert_eq!(u["canCreateProject"], true);
        assert_eq!(u["external"], true);
        assert!(u["confirmedAt"].is_string(), "skipConfirmation confirms at once");
        assert_eq!(u["identities"], json!([{ "provider": "github", "externUid": "67890" }]));
        for (k, v) in [
            ("skype", "js"),
            ("linkedin", "in/js"),
            ("twitter", "@js"),
            ("websiteUrl", "https://js.example"),
            ("organization", "ACME"),
            ("bio", "hi"),
            ("location", "Mars"),
        ] {
            assert_eq!(u[k], v, "{k}");
        }
        assert_eq!(u["webUrl"], format!("{}/John_Smith", app.base));
        assert!(
            u["avatarUrl"]
                .as_str()
                .unwrap()
                .starts_with("https://www.gravatar.com/avatar/")
        );

        // Defaults: confirmation required, not admin, limits as GitLab.
        let res = app
            .gql(Some(app.admin()), CREATE, json!({ "input": input("plain") }))
            .await;
        let u = &res.data()["createUser"]["user"];
        assert_eq!(u["confirmedAt"], json!(null));
        assert_eq!(u["isAdmin"], false);
        assert_eq!(u["projectsLimit"], 100);
        assert_eq!(u["external"], false);
        assert_eq!(u["identities"], json!([]));

        // What is in the database: the primary address row and a legacy token, no plain secret.
        let id: i32 = u["id"].as_str().unwrap().parse().unwrap();
        let row = user::Entity::find_by_id(id).one(app.db()).await.unwrap().unwrap();
        assert!(row.password_hash.starts_with("$argon2id$"));
        let emails = email::Entity::find()
            .filter(email::Column::UserId.eq(id))
            .all(app.db())
            .await
            .unwrap();
        assert_eq!(emails.len(), 1);
        assert!(emails[0].is_primary);
        let tokens = token::Entity::find()
            .filter(token::Column::UserId.eq(id))
            .all(app.db())
            .await
            .unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].token_digest.len(), 64);
        assert!(!tokens[0].token_encrypted.as_deref().unwrap().contains("glptt-"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_user_refusals() {
    each_backend(|app| async move {
        let user = app.user("regular").await;
        // Anonymous: UNAUTHENTICATED; a user: FORBIDDEN; nothing written.
        assert_eq!(app.gql(None, CREATE, json!({ "input": input("x1") })).await.code(), "UNAUTHENTICATED");
        assert_eq!(app.gql(Some(&user.token), CREATE, json!({ "input": input("x1") })).await.code(), "FORBIDDEN");

        // GitLab's validation messages, by field.
        let res = app
            .gql(
                Some(app.admin()),
                CREATE,
                json!({ "input": { "password": "pass", "email": "test@example.com", "username": "test!",
                    "name": "test", "bio": "g".repeat(256), "projectsLimit": -1 } }),
            )
            .await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        let f = &res.body["errors"][0]["extensions"]["fields"];
        assert_eq!(f["password"], json!(["is too short (minimum is 8 characters)"]));
        assert_eq!(f["bio"], json!(["is too long (maximum is 255 characters)"]));
        assert_eq!(f["projectsLimit"], json!(["must be greater than or equal to 0"]));
        assert_eq!(
            f["username"],
            json!(["can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.', '.git' or '.atom'."])
        );

        for (patch, field, msg) in [
            (json!({ "email": "invalid email" }), "email", "is invalid"),
            (json!({ "username": "admin" }), "username", "admin is a reserved name"),
            (json!({ "name": " " }), "name", "can't be blank"),
            (json!({ "name": "n".repeat(256) }), "name", "is too long (maximum is 255 characters)"),
        ] {
            let mut i = input("valid_name");
            for (k, v) in patch.as_object().unwrap() {
                i[k] = v.clone();
            }
            let res = app.gql(Some(app.admin()), CREATE, json!({ "input": i })).await;
            assert_eq!(res.code(), "BAD_USER_INPUT", "{patch}");
            assert_eq!(res.body["errors"][0]["extensions"]["fields"][field], json!([msg]), "{patch}");
        }

        // Neither password nor resetPassword; extern uid without provider.
        let mut i = input("nopass");
        i.as_object_mut().unwrap().remove("password");
        let res = app.gql(Some(app.admin()), CREATE, json!({ "input": i })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        assert!(res.body["errors"][0]["message"].as_str().unwrap().contains("password, reset_password"));
        let mut i = input("halfid");
        i["externUid"] = json!("123");
        assert_eq!(app.gql(Some(app.admin()), CREATE, json!({ "input": i })).await.code(), "BAD_USER_INPUT");

        // resetPassword alone is enough.
        let mut i = input("resetme");
        i.as_object_mut().unwrap().remove("password");
        i["resetPassword"] = json!(true);
        app.gql(Some(app.admin()), CREATE, json!({ "input": i })).await.data();

        // Taken e-mail or username, any case: CONFLICT, checked before other validation.
        let mut i = input("other");
        i["email"] = json!("REGULAR@example.com");
        i["password"] = json!("short");
        let res = app.gql(Some(app.admin()), CREATE, json!({ "input": i })).await;
        assert_eq!(res.code(), "CONFLICT");
        assert_eq!(res.body["errors"][0]["message"], "Email has already been taken");
        let mut i = input("ReGuLaR");
        i["email"] = json!("fresh@example.com");
        let res = app.gql(Some(app.admin()), CREATE, json!({ "input": i })).await;
        assert_eq!(res.code(), "CONFLICT");
        assert_eq!(res.body["errors"][0]["message"], "Username has already been taken");

        // An identity another user holds.
        let mut i = input("gh1");
        i["externUid"] = json!("42");
        i["provider"] = json!("github");
        app.gql(Some(app.admin()), CREATE, json!({ "input": i.clone() })).await.data();
        i["username"] = json!("gh2");
        i["email"] = json!("gh2@example.com");
        let res = app.gql(Some(app.admin()), CREATE, json!({ "input": i })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        assert_eq!(res.body["errors"][0]["extensions"]["fields"]["externUid"], json!(["has already been taken"]));

        // root, regular, resetme, gh1: nothing else was written.
        assert_eq!(user::Entity::find().count(app.db()).await.unwrap(), 4);
        assert_eq!(identity::Entity::find().count(app.db()).await.unwrap(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_username_yield_one_user() {
    each_backend(|app| async move {
        let tasks = (0..50).map(|i| {
            let app = app.clone();
            async move {
                let mut inp = input("racer");
                inp["username"] = json!(if i % 2 == 0 { "racer" } else { "RACER" });
                inp["email"] = json!(format!("racer{i}@example.com"));
                app.gql(Some(app.admin()), CREATE, json!({ "input": inp })).await
            }
        });
        let results = futures::future::join_all(tasks).await;
        let ok = results.iter().filter(|r| r.body.get("errors").is_none()).count();
        let conflicts = results.iter().filter(|r| r.codes() == vec!["CONFLICT"]).count();
        assert_eq!(
            (ok, conflicts),
            (1, 49),
            "{:?}",
            results.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        assert!(results.iter().all(|r| r.status == 200));
        let n = user::Entity::find()
            .filter(user::Column::UsernameCanonical.eq("racer"))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(n, 1);
        // And one e-mail, many users.
        let tasks = (0..50).map(|i| {
            let app = app.clone();
            async move {
                let mut inp = input(&format!("mail{i}"));
                inp["email"] = json!(if i % 2 == 0 {
                    "same@example.com"
                } else {
                    "SAME@example.com"
                });
                app.gql(Some(app.admin()), CREATE, json!({ "input": inp })).await
            }
        });
        let results = futures::future::join_all(tasks).await;
        let ok = results.iter().filter(|r| r.body.get("errors").is_none()).count();
        assert_eq!(ok, 1);
        assert!(
            results
                .iter()
                .filter(|r| r.body.get("errors").is_some())
                .all(|r| r.code() == "CONFLICT")
        );
        let n = email::Entity::find()
            .filter(email::Column::EmailCanonical.eq("same@example.com"))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(n, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_guards_hide_private_fields() {
    each_backend(|app| async move {
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        let q = "query($id: ID!) { user(id: $id) { id username name state createdAt email isAdmin projectsLimit identities { provider } lastActivityOn privateToken } }";
        let vars = json!({ "id": alice.id.to_string() });

        // Another user: public fields, private ones null with one FORBIDDEN error each, with path.
        let res = app.gql(Some(&bob.token), q, vars.clone()).await;
        let u = &res.body["data"]["user"];
        assert_eq!(u["username"], "alice");
        assert_eq!(u["state"], "active");
        assert!(u["createdAt"].is_string());
        for f in ["email", "isAdmin", "projectsLimit", "identities", "lastActivityOn", "privateToken"] {
            assert!(u.get(f).is_some_and(|v| v.is_null()), "{f} must be present and null: {u}");
        }
        let errors = res.body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 6);
        for e in errors {
            assert_eq!(e["extensions"]["code"], "FORBIDDEN");
            assert_eq!(e["path"][0], "user");
        }
        let paths: Vec<&str> = errors.iter().map(|e| e["path"][1].as_str().unwrap()).collect();
        assert!(paths.contains(&"email") && paths.contains(&"privateToken"));

        // Anonymous: the same.
        let res = app.gql(None, q, vars.clone()).await;
        assert_eq!(res.body["data"]["user"]["email"], json!(null));
        assert_eq!(res.codes().len(), 6);

        // Themself and an admin: everything.
        for token in [alice.token.as_str(), app.admin()] {
            let res = app.gql(Some(token), q, vars.clone()).await;
            let u = &res.data()["user"];
            assert_eq!(u["email"], "alice@example.com");
            assert_eq!(u["isAdmin"], false);
            assert_eq!(u["projectsLimit"], 100);
            assert_eq!(u["privateToken"], alice.token.as_str());
        }

        // By username, either case; both or neither argument is an error; unknown is null.
        let res = app.gql(None, "{ user(username: \"ALICE\") { id } }", json!({})).await;
        assert_eq!(res.data()["user"]["id"], alice.id.to_string());
        assert_eq!(app.gql(None, "{ user(username: \"nobody\") { id } }", json!({})).await.data()["user"], json!(null));
        assert_eq!(app.gql(None, "{ user(id: \"999999\") { id } }", json!({})).await.data()["user"], json!(null));
        let res = app.gql(None, "{ user(id: \"1\", username: \"root\") { id } }", json!({})).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        assert_eq!(app.gql(None, "{ user { id } }", json!({})).await.code(), "BAD_USER_INPUT");
        assert_eq!(app.gql(None, "{ user(id: \"abc\") { id } }", json!({})).await.code(), "BAD_USER_INPUT");

        // currentUser: null for anonymous, the caller otherwise.
        assert_eq!(app.gql(None, "{ currentUser { id } }", json!({})).await.data()["currentUser"], json!(null));
        let res = app.gql(Some(&bob.token), "{ currentUser { username email isAdmin } }", json!({})).await;
        assert_eq!(res.data()["currentUser"], json!({ "username": "bob", "email": "bob@example.com", "isAdmin": false }));
    })
    .await;
}

async fn names(app: &TestApp, token: Option<&str>, args: &str) -> Vec<String> {
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({args})")
    };
    let res = app
        .gql(
            token,
            &format!("{{ users{args} {{ nodes {{ username }} }} }}"),
            json!({}),
        )
        .await;
    res.data()["users"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_filters_and_order() {
    each_backend(|app| async move {
        let a = app
            .user_with("anna", json!({ "name": "Anna Zed", "external": true }))
            .await;
        let b = app
            .user_with(
                "bert",
                json!({ "name": "Bert Young", "provider": "github", "externUid": "gh-bert" }),
            )
            .await;
        let c = app.user_with("carl_x", json!({ "name": "Carl 100% Xu" })).await;
        let _ = c;
        let admin = Some(app.admin());
        let user = Some(a.token.as_str());
        let blocked = app
            .gql(
                admin,
                "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }",
                json!({ "id": b.id.to_string() }),
            )
            .await;
        assert_eq!(blocked.data()["blockUser"]["changed"], true);

        assert_eq!(names(&app, admin, "").await, vec!["root", "anna", "bert", "carl_x"]);
        // search: case-insensitive on username and name; LIKE wildcards are literal.
        assert_eq!(names(&app, user, "filter: { search: \"ANN\" }").await, vec!["anna"]);
        assert_eq!(names(&app, user, "filter: { search: \"young\" }").await, vec!["bert"]);
        assert_eq!(names(&app, user, "filter: { search: \"100%\" }").await, vec!["carl_x"]);
        assert_eq!(names(&app, user, "filter: { search: \"_\" }").await, vec!["carl_x"]);
        // e-mail search only for admins.
        assert_eq!(
            names(&app, admin, "filter: { search: \"bert@example\" }").await,
            vec!["bert"]
        );
        assert_eq!(
            names(&app, user, "filter: { search: \"bert@example\" }").await,
            Vec::<String>::new()
        );
        // username: exact, case-insensitive.
        assert_eq!(names(&app, user, "filter: { username: \"BERT\" }").await, vec!["bert"]);
        assert_eq!(
            names(&app, user, "filter: { username: \"ber\" }").await,
            Vec::<String>::new()
        );
        // active / blocked; false means no filter.
        assert_eq!(names(&app, user, "filter: { blocked: true }").await, vec!["bert"]);
        assert_eq!(
            names(&app, user, "filter: { active: true }").await,
            vec!["root", "anna", "carl_x"]
        );
        assert_eq!(names(&app, user, "filter: { active: false }").await.len(), 4);
        // external: applied for admins only.
        assert_eq!(names(&app, admin, "filter: { external: true }").await, vec!["anna"]);
        assert_eq!(names(&app, user, "filter: { external: true }").await.len(), 4);
        // externUid + provider: admin only, together.
        assert_eq!(
            names(&app, admin, "filter: { externUid: \"gh-bert\", provider: \"github\" }").await,
            vec!["bert"]
        );
        let res = app
            .gql(
                user,
                "{ users(filter: { externUid: \"gh-bert\", provider: \"github\" }) { nodes { id } } }",
                json!({}),
            )
            .await;
        assert_eq!(res.code(), "FORBIDDEN");
        let res = app
            .gql(
                admin,
                "{ users(filter: { externUid: \"gh-bert\" }) { nodes { id } } }",
                json!({}),
            )
            .await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        // order.
        assert_eq!(
            names(&app, user, "orderBy: NAME, sort: DESC").await,
            vec!["carl_x", "bert", "anna", "root"]
        );
        assert_eq!(
            names(&app, user, "orderBy: USERNAME").await,
            vec!["anna", "bert", "carl_x", "root"]
        );
        assert_eq!(
            names(&app, user, "orderBy: ID, sort: DESC").await,
            vec!["carl_x", "bert", "anna", "root"]
        );
        assert_eq!(names(&app, user, "orderBy: CREATED_AT").await.len(), 4);
        assert_eq!(
            names(&app, user, "orderBy: UPDATED_AT, sort: DESC").await[0],
            "bert",
            "block touched bert last"
        );
        // Anonymous callers must name a username.
        let res = app.gql(None, "{ users { nodes { id } } }", json!({})).await;
        assert_eq!(res.code(), "FORBIDDEN");
        assert_eq!(names(&app, None, "filter: { username: \"anna\" }").await, vec!["anna"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_relay_pagination() {
    each_backend(|app| async move {
        for i in 0..5 {
            app.user(&format!("page{i}")).await;
        }
        let admin = Some(app.admin());
        let q = "query($first: Int, $after: String, $last: Int, $before: String) {
            users(first: $first, after: $after, last: $last, before: $before) {
                totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
                edges { cursor node { username } } } }";
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let res = app.gql(admin, q, json!({ "first": 2, "after": after })).await;
            let c = &res.data()["users"];
            assert_eq!(c["totalCount"], 6);
            for e in c["edges"].as_array().unwrap() {
                seen.push(e["node"]["username"].as_str().unwrap().to_string());
            }
            if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
                break;
            }
            after = c["pageInfo"]["endCursor"].as_str().map(str::to_string);
        }
        assert_eq!(seen, vec!["root", "page0", "page1", "page2", "page3", "page4"]);

        // last without before: the tail.
        let res = app.gql(admin, q, json!({ "last": 2 })).await;
        let c = &res.data()["users"];
        let tail: Vec<_> = c["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["username"].clone())
            .collect();
        assert_eq!(tail, vec![json!("page3"), json!("page4")]);
        assert_eq!(c["pageInfo"]["hasPreviousPage"], true);
        // last with before.
        let before = c["pageInfo"]["startCursor"].as_str().unwrap().to_string();
        let res = app.gql(admin, q, json!({ "last": 2, "before": before })).await;
        let prev: Vec<_> = res.data()["users"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["username"].clone())
            .collect();
        assert_eq!(prev, vec![json!("page1"), json!("page2")]);

        // Bounds and bad cursors.
        assert_eq!(
            app.gql(admin, q, json!({ "first": 101 })).await.code(),
            "BAD_USER_INPUT"
        );
        assert_eq!(app.gql(admin, q, json!({ "first": -1 })).await.code(), "BAD_USER_INPUT");
        assert_eq!(
            app.gql(admin, q, json!({ "first": 1, "after": "nonsense" }))
                .await
                .code(),
            "BAD_USER_INPUT"
        );
        // Default page size 20: all six.
        let res = app.gql(admin, "{ users { nodes { id } } }", json!({})).await;
        assert_eq!(res.data()["users"]["nodes"].as_array().unwrap().len(), 6);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_user() {
    each_backend(|app| async move {
        let u = app.user("upd").await;
        let other = app.user("taken").await;
        let admin = Some(app.admin());
        let id = u.id.to_string();
        let res = app.gql(admin, UPDATE, json!({ "input": { "id": id, "bio": "new test bio" } })).await;
        assert_eq!(res.data()["updateUser"]["user"]["bio"], "new test bio");
        assert_eq!(res.data()["updateUser"]["user"]["passwordExpiresAt"], json!(null));

        // Own e-mail and username again: fine. Someone else's: CONFLICT.
        app.gql(admin, UPDATE, json!({ "input": { "id": id, "email": "UPD@example.com", "username": "UPD" } })).await.data();
        let res = app.gql(admin, UPDATE, json!({ "input": { "id": id, "email": "Taken@example.com" } })).await;
        assert_eq!((res.code(), res.body["errors"][0]["message"].as_str()), ("CONFLICT".into(), Some("Email has already been taken")));
        let res = app.gql(admin, UPDATE, json!({ "input": { "id": id, "username": "TAKEN" } })).await;
        assert_eq!(res.code(), "CONFLICT");
        assert_eq!(app.gql(admin, UPDATE, json!({ "input": { "id": id, "email": "invalid email" } })).await.code(), "BAD_USER_INPUT");
        assert_eq!(app.gql(admin, UPDATE, json!({ "input": { "id": id, "externUid": "x" } })).await.code(), "BAD_USER_INPUT");
        assert_eq!(app.gql(admin, UPDATE, json!({ "input": { "id": "999999", "bio": "x" } })).await.code(), "NOT_FOUND");
        assert_eq!(app.gql(Some(&other.token), UPDATE, json!({ "input": { "id": id, "bio": "x" } })).await.code(), "FORBIDDEN");

        // New address moves the primary e-mail row; identity is created, then updated.
        let res = app
            .gql(admin, UPDATE, json!({ "input": { "id": id, "email": "moved@example.com", "provider": "github", "externUid": "1" } }))
            .await;
        assert_eq!(res.data()["updateUser"]["user"]["email"], "moved@example.com");
        let res = app.gql(admin, UPDATE, json!({ "input": { "id": id, "provider": "github", "externUid": "2" } })).await;
        assert_eq!(res.data()["updateUser"]["user"]["identities"], json!([{ "provider": "github", "externUid": "2" }]));
        let addrs: Vec<String> = email::Entity::find()
            .filter(email::Column::UserId.eq(u.id))
            .all(app.db())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.email_canonical)
            .collect();
        assert_eq!(addrs, vec!["moved@example.com"]);
        // The old address is free again.
        let res = app
            .gql(admin, CREATE, json!({ "input": { "username": "newcomer", "email": "upd@example.com", "name": "N", "password": "s3cret-password" } }))
            .await;
        res.data();

        // A password set by an admin expires at once.
        let res = app.gql(admin, UPDATE, json!({ "input": { "id": id, "password": "12345678" } })).await;
        assert!(res.data()["updateUser"]["user"]["passwordExpiresAt"].is_string());
        let res = app.gql(admin, UPDATE, json!({ "input": { "id": id, "password": "short" } })).await;
        assert_eq!(res.body["errors"][0]["extensions"]["fields"]["password"], json!(["is too short (minimum is 8 characters)"]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_user_removes_everything_they_own() {
    each_backend(|app| async move {
        let u = app
            .user_with("gone", json!({ "provider": "github", "externUid": "gone-1" }))
            .await;
        let other = app.user("stays").await;
        let q = "mutation($id: ID!) { deleteUser(input: { id: $id }) { user { id username email } } }";
        assert_eq!(
            app.gql(Some(&other.token), q, json!({ "id": u.id.to_string() }))
                .await
                .code(),
            "FORBIDDEN"
        );
        assert_eq!(
            app.gql(None, q, json!({ "id": u.id.to_string() })).await.code(),
            "UNAUTHENTICATED"
        );
        let res = app.gql(Some(app.admin()), q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["deleteUser"]["user"]["username"], "gone");
        assert_eq!(res.data()["deleteUser"]["user"]["email"], "gone@example.com");
        for (table, n) in [
            (
                "users",
                user::Entity::find()
                    .filter(user::Column::Id.eq(u.id))
                    .count(app.db())
                    .await
                    .unwrap(),
            ),
            (
                "identities",
                identity::Entity::find()
                    .filter(identity::Column::UserId.eq(u.id))
                    .count(app.db())
                    .await
                    .unwrap(),
            ),
            (
                "emails",
                email::Entity::find()
                    .filter(email::Column::UserId.eq(u.id))
                    .count(app.db())
                    .await
                    .unwrap(),
            ),
            (
                "tokens",
                token::Entity::find()
                    .filter(token::Column::UserId.eq(u.id))
                    .count(app.db())
                    .await
                    .unwrap(),
            ),
        ] {
            assert_eq!(n, 0, "{table} rows left behind");
        }
        // Its token no longer works; a second delete is an idempotent null.
        assert_eq!(
            app.gql(Some(&u.token), "{ currentUser { id } }", json!({}))
                .await
                .code(),
            "UNAUTHENTICATED"
        );
        let res = app.gql(Some(app.admin()), q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["deleteUser"]["user"], json!(null));
        assert_eq!(user::Entity::find().count(app.db()).await.unwrap(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_and_unblock() {
    each_backend(|app| async move {
        let u = app.user("blocky").await;
        let admin = Some(app.admin());
        let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed user { state } } }";
        let unblock = "mutation($id: ID!) { unblockUser(input: { id: $id }) { changed user { state } } }";
        let id = json!({ "id": u.id.to_string() });

        assert_eq!(app.gql(Some(&u.token), block, id.clone()).await.code(), "FORBIDDEN");
        let res = app.gql(admin, block, id.clone()).await;
        assert_eq!(
            res.data()["blockUser"],
            json!({ "changed": true, "user": { "state": "blocked" } })
        );
        let res = app.gql(admin, block, id.clone()).await;
        assert_eq!(res.data()["blockUser"]["changed"], false);

        // A blocked user's token and password are refused.
        let res = app.gql(Some(&u.token), "{ currentUser { id } }", json!({})).await;
        assert_eq!(res.status, 403);
        assert_eq!(res.code(), "FORBIDDEN");
        assert_eq!(
            res.body["errors"][0]["message"],
            "403 Forbidden - Your account has been blocked."
        );
        let sign_in = "mutation { signIn(input: { login: \"blocky\", password: \"s3cret-password\" }) { token } }";
        assert_eq!(app.gql(None, sign_in, json!({})).await.code(), "FORBIDDEN");

        let res = app.gql(admin, unblock, id.clone()).await;
        assert_eq!(
            res.data()["unblockUser"],
            json!({ "changed": true, "user": { "state": "active" } })
        );
        assert_eq!(
            app.gql(admin, unblock, id.clone()).await.data()["unblockUser"]["changed"],
            false
        );
        app.gql(Some(&u.token), "{ currentUser { id } }", json!({}))
            .await
            .data();

        // LDAP-blocked users cannot be changed by the API; nor can the admin block themself.
        let mut m: user::ActiveModel = user::Entity::find_by_id(u.id)
            .one(app.db())
            .await
            .unwrap()
            .unwrap()
            .into();
        m.state = sea_orm::ActiveValue::Set("ldap_blocked".into());
        sea_orm::ActiveModelTrait::update(m, app.db()).await.unwrap();
        let res = app.gql(admin, block, id.clone()).await;
        assert_eq!(
            res.body["errors"][0]["message"],
            "403 Forbidden - LDAP blocked users cannot be modified by the API"
        );
        let res = app.gql(admin, unblock, id.clone()).await;
        assert_eq!(
            res.body["errors"][0]["message"],
            "403 Forbidden - LDAP blocked users cannot be unblocked by the API"
        );
        let root = user::Entity::find()
            .filter(user::Column::Username.eq("root"))
            .one(app.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app.gql(admin, block, json!({ "id": root.id.to_string() })).await.code(),
            "FORBIDDEN"
        );
        assert_eq!(
            app.gql(admin, block, json!({ "id": "999999" })).await.code(),
            "NOT_FOUND"
        );
    })
    .await;
}
