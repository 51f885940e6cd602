//! Custom attributes: keys and values admins keep on users, over REST and GraphQL.

use entity::custom_attribute;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::common::each_backend;

#[tokio::test]
async fn admins_set_read_filter_and_delete_them() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let u = app.user("attrs").await;
        let other = app.user("plain").await;
        let path = |rest: &str| format!("/api/v4/users/{}/custom_attributes{rest}", u.id);

        // Admins only; a user may not even read their own.
        let res = app.get(&path(""), Some(&u.token)).await;
        res.assert(403, json!({ "message": "403 Forbidden" }));
        let res = app
            .put(&path("/team"), Some(&u.token), json!({ "value": "blue" }))
            .await;
        assert_eq!(res.status, 403);
        let res = app.get("/api/v4/users/99999/custom_attributes", admin).await;
        res.assert(404, json!({ "message": "404 Not Found" }));

        // Set (200 on create and on change), read, list.
        let res = app.put(&path("/team"), admin, json!({ "value": "blue" })).await;
        res.assert(200, json!({ "key": "team", "value": "blue" }));
        let res = app.put(&path("/team"), admin, json!({ "value": "green" })).await;
        res.assert(200, json!({ "key": "team", "value": "green" }));
        let res = app.put(&path("/team"), admin, json!({ "value": "green" })).await;
        res.assert(200, json!({ "key": "team", "value": "green" }));
        let res = app.put(&path("/office"), admin, json!({ "value": "Ghent" })).await;
        assert_eq!(res.status, 200);
        let res = app.get(&path(""), admin).await;
        res.assert(
            200,
            json!([{ "key": "team", "value": "green" }, { "key": "office", "value": "Ghent" }]),
        );
        let res = app.get(&path("/team"), admin).await;
        res.assert(200, json!({ "key": "team", "value": "green" }));
        let res = app.get(&path("/nope"), admin).await;
        res.assert(404, json!({ "message": "404 Not found" }));
        let res = app.put(&path("/team"), admin, json!({})).await;
        res.assert(400, json!({ "error": "value is missing" }));
        let res = app
            .put(&path("/team"), admin, json!({ "value": "x".repeat(256) }))
            .await;
        assert_eq!(res.status, 400, "{}", res.body);
        let res = app.put(&path("/team"), admin, json!({ "value": "two\nlines" })).await;
        assert_eq!(res.status, 400, "{}", res.body);

        // The filter and `with_custom_attributes`, for admins; ignored for anyone else.
        let res = app
            .get(
                "/api/v4/users?custom_attributes[team]=green&custom_attributes[office]=Ghent",
                admin,
            )
            .await;
        let names: Vec<&str> = res
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["attrs"]);
        let res = app.get("/api/v4/users?custom_attributes[team]=red", admin).await;
        assert!(res.body.as_array().unwrap().is_empty());
        let res = app
            .get("/api/v4/users?custom_attributes[team]=green", Some(&other.token))
            .await;
        assert_eq!(res.body.as_array().unwrap().len(), 3);
        let res = app
            .get("/api/v4/users?username=attrs&with_custom_attributes=true", admin)
            .await;
        let user = &res.body[0];
        assert_eq!(user["custom_attributes"][0], json!({ "key": "team", "value": "green" }));
        // In GitLab's place: after avatar_url, before web_url.
        let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
        assert!(keys.contains(&&"custom_attributes".to_string()));
        let res = app.get("/api/v4/users?username=attrs", admin).await;
        assert!(res.body[0].get("custom_attributes").is_none());
        let res = app
            .get(
                "/api/v4/users?username=attrs&with_custom_attributes=true",
                Some(&other.token),
            )
            .await;
        assert!(res.body[0].get("custom_attributes").is_none());
        let res = app
            .get(&format!("/api/v4/users/{}?with_custom_attributes=true", u.id), admin)
            .await;
        assert_eq!(res.body["custom_attributes"].as_array().unwrap().len(), 2);
        let text = app
            .client
            .get(format!(
                "{}/api/v4/users/{}?with_custom_attributes=true",
                app.base, u.id
            ))
            .header("PRIVATE-TOKEN", app.admin())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let at = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
        assert!(
            at("avatar_url") < at("custom_attributes") && at("custom_attributes") < at("web_url"),
            "{text}"
        );

        // Delete: 204, then 404.
        let res = app.delete(&path("/office"), admin).await;
        assert_eq!(res.status, 204);
        let res = app.delete(&path("/office"), admin).await;
        res.assert(404, json!({ "message": "404 Custom attribute Not Found" }));

        // Over GraphQL: the field (admins only), the mutations, the filter.
        let q = "query($id: ID!) { user(id: $id) { customAttributes { key value } } }";
        let res = app.gql(admin, q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(
            res.data()["user"]["customAttributes"],
            json!([{ "key": "team", "value": "green" }])
        );
        let res = app.gql(Some(&u.token), q, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.code(), "FORBIDDEN");
        assert!(res.body["data"]["user"]["customAttributes"].is_null());
        let set = "mutation($id: ID!) { setCustomAttribute(input: { userId: $id, key: \"level\", value: \"3\" }) {
            customAttribute { key value } } }";
        let res = app.gql(admin, set, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["setCustomAttribute"]["customAttribute"]["value"], "3");
        let res = app.gql(Some(&u.token), set, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.code(), "FORBIDDEN");
        let f = "{ users(filter: { customAttributes: [{ key: \"level\", value: \"3\" }] }) { nodes { username } } }";
        let res = app.gql(admin, f, json!({})).await;
        assert_eq!(res.data()["users"]["nodes"], json!([{ "username": "attrs" }]));
        let del = "mutation($id: ID!) { deleteCustomAttribute(input: { userId: $id, key: \"level\" }) {
            customAttribute { key } } }";
        let res = app.gql(admin, del, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.data()["deleteCustomAttribute"]["customAttribute"]["key"], "level");
        let res = app.gql(admin, del, json!({ "id": u.id.to_string() })).await;
        assert_eq!(res.code(), "NOT_FOUND");

        // They go with their user.
        let res = app.delete(&format!("/api/v4/users/{}", u.id), admin).await;
        assert_eq!(res.status, 200);
        let left = custom_attribute::Entity::find()
            .filter(custom_attribute::Column::UserId.eq(u.id))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(left, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sets_of_one_key_leave_one_row() {
    each_backend(|app| async move {
        let u = app.user("racy").await;
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let app = app.clone();
                let path = format!("/api/v4/users/{}/custom_attributes/k", u.id);
                tokio::spawn(async move {
                    app.put(&path, Some(app.admin()), json!({ "value": format!("v{i}") }))
                        .await
                        .status
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200);
        }
        let rows = custom_attribute::Entity::find()
            .filter(custom_attribute::Column::UserId.eq(u.id))
            .count(app.db())
            .await
            .unwrap();
        assert_eq!(rows, 1);
    })
    .await;
}
