//! Following users (today's GitLab): follow and unfollow with GitLab's 201/304, the 300 limit,
//! followers and following lists, and the GraphQL mutations.

use entity::user_follow;
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::common::{Res, each_backend};

fn usernames(res: &Res) -> Vec<String> {
    res.body
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", res.body))
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn follow_unfollow_and_the_lists() {
    each_backend(|app| async move {
        let ann = app.user("ann").await;
        let ben = app.user("ben").await;
        let cat = app.user("cat").await;
        let me = Some(ann.token.as_str());
        let path = |id: i32, what: &str| format!("/api/v4/users/{id}/{what}");
        // Anonymous: 401; unknown user: 404.
        app.post(&path(ben.id, "follow"), None, json!({}))
            .await
            .assert(401, json!({ "message": "401 Unauthorized" }));
        app.post(&path(99999, "follow"), me, json!({}))
            .await
            .assert(404, json!({ "message": "404 User Not Found" }));
        // Follow: 201 with the user's basic representation; again, or oneself: 304, no body.
        let res = app.post(&path(ben.id, "follow"), me, json!({})).await;
        assert_eq!((res.status.as_u16(), &res.body["username"]), (201, &json!("ben")));
        assert_eq!(
            Res::keys_of(&res.body),
            ["avatar_url", "id", "name", "state", "username", "web_url"]
        );
        for id in [ben.id, ann.id] {
            let res = app.post(&path(id, "follow"), me, json!({})).await;
            assert_eq!((res.status.as_u16(), &res.body), (304, &Value::Null));
        }
        app.post(&path(cat.id, "follow"), me, json!({})).await;
        app.post(&path(ben.id, "follow"), Some(&cat.token), json!({})).await;
        assert_eq!(user_follow::Entity::find().count(app.db()).await.unwrap(), 3);
        // The lists, for anyone signed in, by id or username, oldest id first.
        let res = app.get(&path(ann.id, "following"), Some(&cat.token)).await;
        assert_eq!(usernames(&res), ["ben", "cat"]);
        assert_eq!(res.header("x-total"), Some("2"));
        let res = app.get("/api/v4/users/ben/followers", me).await;
        assert_eq!(usernames(&res), ["ann", "cat"]);
        app.get(&path(ben.id, "followers"), None)
            .await
            .assert(403, json!({ "message": "403 Forbidden - Not authorized!" }));
        // Blocked users drop out of the lists.
        app.post(&path(cat.id, "block"), Some(app.admin()), json!({})).await;
        assert_eq!(usernames(&app.get("/api/v4/users/ben/followers", me).await), ["ann"]);
        // Unfollow: 201, then 304.
        let res = app.post(&path(ben.id, "unfollow"), me, json!({})).await;
        assert_eq!((res.status.as_u16(), &res.body["username"]), (201, &json!("ben")));
        let res = app.post(&path(ben.id, "unfollow"), me, json!({})).await;
        assert_eq!(res.status.as_u16(), 304);
        // (cat is blocked: left out.)
        assert!(usernames(&app.get(&path(ann.id, "following"), me).await).is_empty());
        assert_eq!(user_follow::Entity::find().count(app.db()).await.unwrap(), 2);
        // A deleted user's follows go with them.
        let res = app
            .delete(&format!("/api/v4/users/{}", cat.id), Some(app.admin()))
            .await;
        assert!(res.status.is_success());
        assert_eq!(user_follow::Entity::find().count(app.db()).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn at_most_300_followees() {
    each_backend(|app| async move {
        let ann = app.user("ann").await;
        let ben = app.user("ben").await;
        let cat = app.user("cat").await;
        // 299 followees, made straight in the database (through the API each would hash a
        // password).
        let now = chrono::Utc::now();
        let people = (0..299).map(|i| entity::user::ActiveModel {
            username: Set(format!("f{i}")),
            username_canonical: Set(format!("f{i}")),
            email: Set(format!("f{i}@example.com")),
            name: Set(format!("F {i}")),
            state: Set("active".into()),
            password_hash: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        entity::user::Entity::insert_many(people).exec(app.db()).await.unwrap();
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        let ids: Vec<i32> = entity::user::Entity::find()
            .select_only()
            .column(entity::user::Column::Id)
            .filter(entity::user::Column::Username.starts_with("f"))
            .into_tuple()
            .all(app.db())
            .await
            .unwrap();
        assert_eq!(ids.len(), 299);
        let rows = ids.iter().map(|id| user_follow::ActiveModel {
            follower_id: Set(ann.id),
            followee_id: Set(*id),
            created_at: Set(chrono::Utc::now()),
        });
        user_follow::Entity::insert_many(rows).exec(app.db()).await.unwrap();
        let me = Some(ann.token.as_str());
        let res = app
            .post(&format!("/api/v4/users/{}/follow", ben.id), me, json!({}))
            .await;
        assert_eq!(res.status.as_u16(), 201);
        let full =
            json!({ "message": "You can't follow more than 300 users. To follow more users, unfollow some others." });
        app.post(&format!("/api/v4/users/{}/follow", cat.id), me, json!({}))
            .await
            .assert(400, full);
        assert_eq!(user_follow::Entity::find().count(app.db()).await.unwrap(), 300);
    })
    .await;
}

#[tokio::test]
async fn graphql_follows() {
    each_backend(|app| async move {
        let ann = app.user("ann").await;
        let ben = app.user("ben").await;
        let q =
            |op: &str| format!("mutation($id: ID!) {{ {op}(input: {{ id: $id }}) {{ changed user {{ username }} }} }}");
        let vars = json!({ "id": ben.id.to_string() });
        let res = app.gql(Some(&ann.token), &q("followUser"), vars.clone()).await;
        assert_eq!(
            res.data()["followUser"],
            json!({ "changed": true, "user": { "username": "ben" } })
        );
        let res = app.gql(Some(&ann.token), &q("followUser"), vars.clone()).await;
        assert_eq!(res.data()["followUser"]["changed"], false);
        let res = app.gql(Some(&ann.token), &q("unfollowUser"), vars.clone()).await;
        assert_eq!(res.data()["unfollowUser"]["changed"], true);
        let res = app.gql(None, &q("followUser"), vars).await;
        assert_eq!(res.code(), "UNAUTHENTICATED");
    })
    .await;
}

#[tokio::test]
async fn graphql_lists_of_followers_read_in_one_batch() {
    each_backend(|app| async move {
        let names = ["ann", "ben", "cat", "dan"];
        let mut u = Vec::new();
        for n in names {
            u.push(app.user(n).await);
        }
        let follow = |from: usize, to: usize| {
            let (app, token, id) = (app.clone(), u[from].token.clone(), u[to].id);
            async move { app.post(&format!("/api/v4/users/{id}/follow"), Some(&token), json!({})).await }
        };
        for (from, to) in [(0, 1), (0, 2), (2, 1), (3, 1), (1, 0)] {
            assert_eq!(follow(from, to).await.status.as_u16(), 201);
        }
        let q = "query($names: [String!]) { users(usernames: $names) { nodes { username
            followers(first: 2) { totalCount nodes { username } pageInfo { hasNextPage } }
            following(first: 5) { nodes { username } } } } }";
        let run = |list: Vec<&str>| {
            let (app, token) = (app.clone(), u[0].token.clone());
            let vars = json!({ "names": list });
            async move { app.count_statements(app.gql(Some(&token), q, vars)).await }
        };
        let (res, four) = run(names.to_vec()).await;
        let nodes = &res.data()["users"]["nodes"];
        assert_eq!(nodes[1]["username"], "ben");
        assert_eq!(
            nodes[1]["followers"],
            json!({ "totalCount": 3, "nodes": [{ "username": "ann" }, { "username": "cat" }],
                    "pageInfo": { "hasNextPage": true } })
        );
        assert_eq!(nodes[0]["following"]["nodes"], json!([{ "username": "ben" }, { "username": "cat" }]));
        assert_eq!(nodes[3]["followers"]["totalCount"], 0);
        // Twice the users, the same statements: no query per user.
        let (_, two) = run(vec!["ann", "ben"]).await;
        let (_, one) = run(vec!["dan"]).await;
        assert_eq!((four, two), (one, one), "statements for four, two and one users");
        // The next page, by cursor; and the last one.
        let q = "query($id: ID!, $after: String) { user(id: $id) {
            followers(first: 2, after: $after) { nodes { username } pageInfo { endCursor hasNextPage } } } }";
        let vars = |after: Value| json!({ "id": u[1].id.to_string(), "after": after });
        let res = app.gql(Some(&u[0].token), q, vars(Value::Null)).await;
        let end = res.data()["user"]["followers"]["pageInfo"]["endCursor"].clone();
        let res = app.gql(Some(&u[0].token), q, vars(end)).await;
        assert_eq!(
            res.data()["user"]["followers"],
            json!({ "nodes": [{ "username": "dan" }], "pageInfo": { "endCursor": res.data()["user"]["followers"]["pageInfo"]["endCursor"], "hasNextPage": false } })
        );
        let res = app
            .gql(Some(&u[0].token), "query($id: ID!) { user(id: $id) { followers(last: 1) { nodes { username } } } }", json!({ "id": u[1].id.to_string() }))
            .await;
        assert_eq!(res.data()["user"]["followers"]["nodes"], json!([{ "username": "dan" }]));
        // Anonymous callers get no list.
        let res = app
            .gql(None, "query($id: ID!) { user(id: $id) { username followers(first: 1) { totalCount } } }", json!({ "id": u[1].id.to_string() }))
            .await;
        assert_eq!((res.code(), &res.body["data"]["user"]["followers"]), ("FORBIDDEN".to_string(), &Value::Null));
    })
    .await;
}

#[tokio::test]
async fn counts_on_one_user_and_a_private_profile() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let ann = app.user("ann").await;
        let ben = app.user("ben").await;
        let cat = app.user("cat").await;
        for (who, whom) in [(&ann, &ben), (&cat, &ben), (&ben, &cat)] {
            let res = app
                .post(
                    &format!("/api/v4/users/{}/follow", whom.id),
                    Some(&who.token),
                    json!({}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
        }
        let ben_path = format!("/api/v4/users/{}", ben.id);
        // A signed-in caller: both counts and whether they follow.
        let res = app.get(&ben_path, Some(&ann.token)).await;
        assert_eq!(
            (&res.body["followers"], &res.body["following"], &res.body["is_followed"]),
            (&json!(2), &json!(1), &json!(true))
        );
        let res = app.get(&format!("/api/v4/users/{}", ann.id), Some(&ben.token)).await;
        assert_eq!(
            (&res.body["followers"], &res.body["following"], &res.body["is_followed"]),
            (&json!(0), &json!(1), &json!(false))
        );
        // Anonymous: the counts, no is_followed. Oneself: none of them.
        let res = app.get(&ben_path, None).await;
        assert_eq!((&res.body["followers"], res.body.get("is_followed")), (&json!(2), None));
        let res = app.get(&ben_path, Some(&ben.token)).await;
        assert_eq!(
            (
                res.body.get("followers"),
                res.body.get("following"),
                res.body.get("is_followed")
            ),
            (None, None, None)
        );
        // A blocked follower stops counting, as it leaves the list.
        app.post(&format!("/api/v4/users/{}/block", cat.id), admin, json!({}))
            .await;
        assert_eq!(app.get(&ben_path, Some(&ann.token)).await.body["followers"], 1);
        // A private profile: no counts for others, and its lists are a 404 to them.
        app.put(&ben_path, admin, json!({ "private_profile": true })).await;
        let res = app.get(&ben_path, Some(&ann.token)).await;
        assert_eq!(res.body.get("followers"), None, "{}", res.body);
        for list in ["followers", "following"] {
            app.get(&format!("{ben_path}/{list}"), Some(&ann.token))
                .await
                .assert(404, json!({ "message": "404 User Not Found" }));
            let res = app.get(&format!("{ben_path}/{list}"), Some(&ben.token)).await;
            assert_eq!(res.status, 200, "{}", res.body);
            let res = app.get(&format!("{ben_path}/{list}"), admin).await;
            assert_eq!(res.status, 200, "{}", res.body);
        }
        let res = app.get(&ben_path, admin).await;
        assert_eq!(
            (&res.body["followers"], &res.body["is_followed"]),
            (&json!(1), &json!(false))
        );
    })
    .await;
}
