//! The users list as today's GitLab serves it: its newer filters, keyset pagination, totals left
//! out past 10,000 rows, the deepest offset page, and GraphQL's `ids`/`usernames`/`admins`/
//! `search` with GitLab's global ids.

use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};

use crate::common::{TestApp, each_backend};

fn usernames(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("a list: {body}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect()
}

/// Sets columns the API cannot write (two-factor) straight in the database.
async fn two_factor_on(app: &TestApp, id: i32) {
    let row = entity::user::ActiveModel {
        id: Set(id),
        two_factor_enabled: Set(true),
        ..Default::default()
    };
    entity::user::Entity::update(row).exec(app.db()).await.unwrap();
}

#[tokio::test]
async fn newer_filters() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        let ann = app.user("ann").await;
        let ext = app.user_with("ext", json!({ "external": true })).await;
        let boss = app.user_with("boss", json!({ "admin": true })).await;
        let blk = app.user("blk").await;
        two_factor_on(&app, ann.id).await;
        let res = app
            .post(&format!("/api/v4/users/{}/block", blk.id), admin, json!({}))
            .await;
        assert_eq!(res.status, 201);

        let list = |q: &'static str, token: Option<String>| {
            let app = app.clone();
            async move {
                let res = app.get(&format!("/api/v4/users?{q}"), token.as_deref()).await;
                assert_eq!(res.status, 200, "{q}: {}", res.body);
                usernames(&res.body)
            }
        };
        let a = Some(app.admin().to_string());
        assert_eq!(list("admins=true", a.clone()).await, ["root", "boss"]);
        assert_eq!(list("two_factor=enabled", a.clone()).await, ["ann"]);
        assert_eq!(
            list("two_factor=disabled", a.clone()).await,
            ["root", "ext", "boss", "blk"]
        );
        assert_eq!(list("exclude_active=true", a.clone()).await, ["blk"]);
        assert_eq!(
            list("exclude_external=true", a.clone()).await,
            ["root", "ann", "boss", "blk"]
        );
        assert_eq!(
            list("humans=true", a.clone()).await,
            ["root", "ann", "ext", "boss", "blk"]
        );
        assert!(list("exclude_humans=true", a.clone()).await.is_empty());
        assert_eq!(
            list("admins=true&exclude_active=false", a.clone()).await,
            ["root", "boss"]
        );
        // Filters on private fields are applied for admins only: others learn nothing from them.
        let user = Some(ext.token.clone());
        assert_eq!(list("admins=true", user.clone()).await.len(), 5);
        assert_eq!(list("two_factor=enabled", user.clone()).await.len(), 5);
        assert_eq!(list("exclude_external=true", user.clone()).await.len(), 5);
        assert_eq!(list("exclude_active=true", user).await, ["blk"]);
        let res = app.get("/api/v4/users?two_factor=maybe", admin).await;
        res.assert(400, json!({ "error": "two_factor does not have a valid value" }));
        let _ = boss;
    })
    .await;
}

#[tokio::test]
async fn keyset_pagination_follows_next_links() {
    each_backend(|app| async move {
        let admin = Some(app.admin());
        for name in ["kc", "ka", "ke", "kb", "kd"] {
            app.user(name).await;
        }
        // Newest first by default, GitLab's keyset order; no totals, no page numbers.
        let mut url = format!("{}/api/v4/users?pagination=keyset&per_page=2&search=k", app.base);
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let res = TestApp::finish(app.client.get(&url).header("PRIVATE-TOKEN", app.admin())).await;
            assert_eq!(res.status, 200, "{}", res.body);
            assert!(res.header("x-total").is_none() && res.header("x-page").is_none());
            seen.extend(usernames(&res.body));
            pages += 1;
            let Some(link) = res.header("link") else { break };
            assert!(link.ends_with("rel=\"next\"") && link.contains("search=k"), "{link}");
            url = link.trim_start_matches('<').split('>').next().unwrap().to_string();
        }
        assert_eq!(seen, ["kd", "kb", "ke", "ka", "kc"]);
        assert_eq!(pages, 3);

        // By username, ascending, one at a time.
        let mut url = format!(
            "{}/api/v4/users?pagination=keyset&per_page=1&order_by=username&sort=asc&search=k",
            app.base
        );
        let mut seen = Vec::new();
        loop {
            let res = TestApp::finish(app.client.get(&url).header("PRIVATE-TOKEN", app.admin())).await;
            seen.extend(usernames(&res.body));
            let Some(link) = res.header("link") else { break };
            url = link.trim_start_matches('<').split('>').next().unwrap().to_string();
        }
        assert_eq!(seen, ["ka", "kb", "kc", "kd", "ke"]);

        // By creation time (ties, in the same second or millisecond, by id), two at a time.
        let mut url = format!(
            "{}/api/v4/users?pagination=keyset&per_page=2&order_by=created_at&sort=asc&search=k",
            app.base
        );
        let mut seen = Vec::new();
        loop {
            let res = TestApp::finish(app.client.get(&url).header("PRIVATE-TOKEN", app.admin())).await;
            assert_eq!(res.status, 200, "{}", res.body);
            seen.extend(usernames(&res.body));
            let Some(link) = res.header("link") else { break };
            url = link.trim_start_matches('<').split('>').next().unwrap().to_string();
        }
        assert_eq!(seen, ["kc", "ka", "ke", "kb", "kd"]);

        // A cursor is bound to its order, and a forged one is refused.
        let res = app
            .get(
                "/api/v4/users?pagination=keyset&order_by=username&sort=asc&per_page=1&search=k",
                admin,
            )
            .await;
        let link = res.header("link").unwrap().to_string();
        let cursor = link.split("cursor=").nth(1).unwrap().split(['&', '>']).next().unwrap();
        let res = app
            .get(
                &format!("/api/v4/users?pagination=keyset&order_by=name&cursor={cursor}"),
                admin,
            )
            .await;
        res.assert(400, json!({ "error": "cursor is invalid" }));
        let res = app.get("/api/v4/users?pagination=keyset&cursor=nonsense", admin).await;
        res.assert(400, json!({ "error": "cursor is invalid" }));
        let res = app.get("/api/v4/users?pagination=sideways", admin).await;
        res.assert(400, json!({ "error": "pagination does not have a valid value" }));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_ten_thousand_users_totals_are_left_out() {
    each_backend(|app| async move {
        // 10,000 more users (10,001 with root), written straight to the database.
        let now = chrono::Utc::now();
        for chunk in (0..10_000).collect::<Vec<i32>>().chunks(500) {
            let rows = chunk.iter().map(|i| entity::user::ActiveModel {
                username: Set(format!("many{i}")),
                username_canonical: Set(format!("many{i}")),
                email: Set(format!("many{i}@example.com")),
                name: Set(format!("Many {i}")),
                password_hash: Set("x".into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            });
            entity::user::Entity::insert_many(rows).exec(app.db()).await.unwrap();
        }
        let admin = Some(app.admin());
        let res = app.get("/api/v4/users?per_page=100&page=2", admin).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.body.as_array().unwrap().len(), 100);
        assert!(res.header("x-total").is_none() && res.header("x-total-pages").is_none());
        assert_eq!(res.header("x-next-page"), Some("3"));
        assert_eq!(res.header("x-prev-page"), Some("1"));
        let link = res.header("link").unwrap();
        assert!(link.contains("rel=\"next\"") && link.contains("rel=\"first\"") && !link.contains("rel=\"last\""));
        // The last page still says there is no next one.
        let res = app.get("/api/v4/users?per_page=100&page=101", admin).await;
        assert_eq!(res.body.as_array().unwrap().len(), 1);
        assert_eq!(res.header("x-next-page"), Some(""));
        assert!(!res.header("link").unwrap().contains("rel=\"next\""));
        // 10,000 exactly still has its totals.
        let res = app.get("/api/v4/users?per_page=100&search=many", admin).await;
        assert_eq!(res.header("x-total"), Some("10000"));
        assert_eq!(res.header("x-total-pages"), Some("100"));
        // GraphQL counts up to 10,001, as its schema says.
        let res = app.gql(admin, "{ users(first: 1) { totalCount } }", json!({})).await;
        assert_eq!(res.data()["users"]["totalCount"], 10_001);

        // The deepest offset page is 50,000 items in, GitLab's limit; keyset goes further.
        let res = app.get("/api/v4/users?per_page=100&page=500", admin).await;
        assert_eq!(res.status, 200);
        let res = app.get("/api/v4/users?per_page=100&page=501", admin).await;
        res.assert(
            405,
            json!({ "error": "Offset pagination has a maximum allowed offset of 50000 for requests that return objects of type User. Remaining records can be retrieved using keyset pagination." }),
        );
    })
    .await;
}

#[tokio::test]
async fn graphql_users_by_ids_usernames_admins_and_search() {
    each_backend(|app| async move {
        let a = app.user("gida").await;
        let b = app.user_with("gidb", json!({ "admin": true })).await;
        app.user("gidc").await;
        let q = "query($ids: [ID!], $names: [String!], $admins: Boolean, $search: String) {
            users(ids: $ids, usernames: $names, admins: $admins, search: $search) { nodes { username } } }";
        let names = |res: &crate::common::Res| -> Vec<String> {
            res.data()["users"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["username"].as_str().unwrap().to_string())
                .collect()
        };
        let admin = Some(app.admin());
        let ids = json!([format!("gid://gitlab/User/{}", a.id), b.id.to_string()]);
        let res = app.gql(admin, q, json!({ "ids": ids })).await;
        assert_eq!(names(&res), ["gida", "gidb"]);
        let res = app.gql(admin, q, json!({ "names": ["GIDC", "gida"] })).await;
        assert_eq!(names(&res), ["gida", "gidc"]);
        let res = app.gql(admin, q, json!({ "admins": true, "search": "gid" })).await;
        assert_eq!(names(&res), ["gidb"]);
        let res = app.gql(admin, q, json!({ "ids": ["gid://gitlab/User/x"] })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
        let res = app.gql(admin, q, json!({ "ids": many })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        // A global id names a user wherever an id does.
        let res = app
            .gql(
                admin,
                "query($id: ID!) { user(id: $id) { username } }",
                json!({ "id": format!("gid://gitlab/User/{}", b.id) }),
            )
            .await;
        assert_eq!(res.data()["user"]["username"], "gidb");
        let res = app
            .gql(
                admin,
                "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }",
                json!({ "id": format!("gid://gitlab/User/{}", a.id) }),
            )
            .await;
        assert_eq!(res.data()["blockUser"]["changed"], true);
    })
    .await;
}

/// On PostgreSQL the users list's `search` (a substring of the username, the name, or for admins
/// the e-mail) is answered from the trigram indexes the migrations made, not by reading every row.
#[tokio::test]
async fn search_reads_the_trigram_indexes_on_postgres() {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    each_backend(|app| async move {
        let admin = Some(app.admin());
        app.user("needle_in_hay").await;
        let res = app.get("/api/v4/users?search=EDLE_IN", admin).await;
        assert_eq!(res.body[0]["username"], "needle_in_hay", "{}", res.body);
        if app.backend != crate::common::Backend::Postgres {
            return;
        }
        let db = app.db();
        // Planned as the list plans it (a few rows make a scan cheapest, so scans are priced
        // out: what is left shows that an index can answer the condition).
        let plan = db
            .transaction::<_, String, sea_orm::DbErr>(|txn| {
                Box::pin(async move {
                    txn.execute_unprepared("SET LOCAL enable_seqscan = off").await?;
                    let rows = txn
                        .query_all_raw(Statement::from_sql_and_values(
                            sea_orm::DatabaseBackend::Postgres,
                            r"EXPLAIN SELECT id FROM users WHERE username_canonical LIKE $1 ESCAPE E'\\'
                                OR lower(name) LIKE $1 ESCAPE E'\\' OR email LIKE $1 ESCAPE E'\\'",
                            ["%edle\\_in%".into()],
                        ))
                        .await?;
                    Ok(rows
                        .iter()
                        .map(|r| r.try_get_by_index::<String>(0).unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("\n"))
                })
            })
            .await
            .unwrap();
        for index in ["ix_users_username_trgm", "ix_users_name_trgm", "ix_users_email_trgm"] {
            assert!(plan.contains(index), "{index} not in the plan:\n{plan}");
        }
    })
    .await;
}
