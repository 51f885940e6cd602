//! No N+1: the number of SQL statements a request runs depends on the query's shape, never on the
//! page size. Counted through a hook on the server's connection.

use serde_json::json;

use crate::common::{TestApp, each_backend};

const NESTED: &str = "{ users(first: 100) { nodes { id username
    identities { provider externUid }
    keys { nodes { id title key } }
    emails { nodes { id email } }
    events(first: 3) { nodes { actionName author { username } } }
    personalAccessTokens { nodes { name } } } } }";

/// The benchmark's query: answered by the fast path, children read by the list resolver.
const FAST: &str = "{ users(first: 100) { nodes { id username name state email
    identities { provider externUid } keys { nodes { id title key } } emails { nodes { id email } } } } }";

async fn measure(app: &TestApp) -> (usize, usize, usize, usize) {
    // Warm-up: the first request of the day marks the caller's activity (one extra write).
    app.gql(Some(app.admin()), "{ currentUser { id } }", json!({}))
        .await
        .data();
    let (res, gql) = app
        .count_statements(app.gql(Some(app.admin()), NESTED, json!({})))
        .await;
    let nodes = res.data()["users"]["nodes"].as_array().unwrap().len();
    let (res, fast) = app.count_statements(app.gql(Some(app.admin()), FAST, json!({}))).await;
    assert_eq!(res.data()["users"]["nodes"].as_array().unwrap().len(), nodes);
    let (res, rest) = app
        .count_statements(app.get("/api/v4/users?per_page=100", Some(app.admin())))
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body.as_array().unwrap().len(), nodes);
    (nodes, gql, fast, rest)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_do_not_grow_with_page_size() {
    each_backend(|app| async move {
        usergraph::seed::run(app.db(), &app.state.keys, 9).await.unwrap();
        let (n10, gql10, fast10, rest10) = measure(&app).await;
        assert_eq!(n10, 10);
        usergraph::seed::run(app.db(), &app.state.keys, 90).await.unwrap();
        let (n100, gql100, fast100, rest100) = measure(&app).await;
        assert_eq!(n100, 100);
        eprintln!("statements: GraphQL {gql10} / {gql100}, REST {rest10} / {rest100}");
        assert_eq!(gql10, gql100, "GraphQL statements grew with the page");
        assert_eq!(rest10, rest100, "REST statements grew with the page");
        assert_eq!(fast10, fast100, "fast-path statements grew with the page");
        // token look-up, users, then identities, keys and e-mails in one statement
        assert_eq!(fast100, 3, "the fast path ran {fast100} statements");
        // token look-up, users, identities, keys, e-mails, events, authors, tokens
        assert!(gql100 <= 8, "GraphQL ran {gql100} statements");
        // token look-up, users, count, identities
        assert!(rest100 <= 4, "REST ran {rest100} statements");
        // totalCount costs one statement, and only when asked for.
        let (_, plain) = app
            .count_statements(app.gql(Some(app.admin()), "{ users(first: 5) { nodes { id } } }", json!({})))
            .await;
        let (res, counted) = app
            .count_statements(app.gql(
                Some(app.admin()),
                "{ users(first: 5) { totalCount nodes { id } } }",
                json!({}),
            ))
            .await;
        assert_eq!(res.data()["users"]["totalCount"], 100);
        assert_eq!(counted, plain + 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_lists_page_per_user() {
    each_backend(|app| async move {
        usergraph::seed::run(app.db(), &app.state.keys, 3).await.unwrap();
        let q = "{ users(first: 10) { nodes { username events(first: 2) { totalCount nodes { action }
            pageInfo { hasNextPage } } keys(first: 1) { totalCount nodes { title } } } } }";
        let res = app.gql(Some(app.admin()), q, json!({})).await;
        let nodes = res.data()["users"]["nodes"].as_array().unwrap().clone();
        assert_eq!(nodes.len(), 4);
        for n in &nodes[1..] {
            assert_eq!(n["events"]["totalCount"], 5);
            assert_eq!(n["events"]["nodes"].as_array().unwrap().len(), 2);
            assert_eq!(n["events"]["pageInfo"]["hasNextPage"], true);
            assert_eq!(n["keys"]["totalCount"], 2);
            assert_eq!(n["keys"]["nodes"].as_array().unwrap().len(), 1);
        }
        assert_eq!(nodes[0]["events"]["totalCount"], 0);
        // The batched window equals what one user's own query gives.
        let id = nodes[1]["username"].as_str().unwrap();
        let one = app
            .gql(
                Some(app.admin()),
                &format!("{{ user(username: \"{id}\") {{ events(first: 2) {{ nodes {{ action }} }} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(one.data()["user"]["events"]["nodes"], nodes[1]["events"]["nodes"]);
    })
    .await;
}

/// `usergraph seed` writes batches of 500 users two at a time (on PostgreSQL and MariaDB): every
/// user gets exactly its own rows, none twice, none lost, and the API serves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_in_concurrent_batches_writes_each_users_rows_once() {
    use entity::{email, event, identity, ssh_key, token, user};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    each_backend(|app| async move {
        let before = user::Entity::find().count(app.db()).await.unwrap();
        let s = usergraph::seed::run(app.db(), &app.state.keys, 1_250).await.unwrap();
        assert_eq!((s.users, s.rows), (1_250, 1_250 * 13));
        let db = app.db();
        assert_eq!(user::Entity::find().count(db).await.unwrap(), before + 1_250);
        assert_eq!(
            email::Entity::find()
                .filter(email::Column::IsPrimary.eq(false))
                .count(db)
                .await
                .unwrap(),
            1_250
        );
        assert_eq!(identity::Entity::find().count(db).await.unwrap(), 1_250);
        assert_eq!(ssh_key::Entity::find().count(db).await.unwrap(), 2_500);
        assert_eq!(
            token::Entity::find()
                .filter(token::Column::Name.eq("ci"))
                .count(db)
                .await
                .unwrap(),
            1_250
        );
        assert_eq!(event::Entity::find().count(db).await.unwrap(), 6_250);
        // Each user's rows are its own: its addresses carry its name.
        let page = app
            .get(
                "/api/v4/users?per_page=100&page=7&order_by=id&sort=asc",
                Some(app.admin()),
            )
            .await;
        for u in page.body.as_array().unwrap() {
            let res = app
                .get(&format!("/api/v4/users/{}/emails", u["id"]), Some(app.admin()))
                .await;
            let name = u["username"].as_str().unwrap().to_lowercase();
            let addrs: Vec<&str> = res
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["email"].as_str().unwrap())
                .collect();
            assert_eq!(addrs, [format!("{name}@work.example.com")], "{u}");
        }
    })
    .await;
}
