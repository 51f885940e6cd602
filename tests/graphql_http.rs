//! GraphQL over HTTP and the limits around it: media types, status codes, batches, persisted
//! queries, depth/complexity/field limits, sign-in rate limits, introspection and GraphiQL
//! switches, metrics, and panics.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{Backend, TestApp, each_backend};

async fn post_raw(app: &TestApp, accept: Option<&str>, body: Value, token: Option<&str>) -> crate::common::Res {
    let mut req = app.client.post(format!("{}/graphql", app.base)).json(&body);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    TestApp::finish(req).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_types_and_statuses() {
    let app = TestApp::start(Backend::Sqlite).await;
    let ok = json!({ "query": "{ currentUser { username } }" });
    let invalid = json!({ "query": "{ nosuchfield }" });
    // application/graphql-response+json when asked: validation errors are 400.
    let res = post_raw(
        &app,
        Some("application/graphql-response+json"),
        ok.clone(),
        Some(app.admin()),
    )
    .await;
    assert_eq!(
        (res.status.as_u16(), res.header("content-type")),
        (200, Some("application/graphql-response+json"))
    );
    let res = post_raw(&app, Some("application/graphql-response+json"), invalid.clone(), None).await;
    assert_eq!(res.status, 400);
    assert!(
        res.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nosuchfield")
    );
    // Nothing ran: no `data` entry, for a document that fails validation or parsing.
    assert_eq!(res.body.get("data"), None, "{}", res.body);
    let res = post_raw(
        &app,
        Some("application/graphql-response+json"),
        json!({ "query": "{" }),
        None,
    )
    .await;
    assert_eq!((res.status.as_u16(), res.body.get("data")), (400, None), "{}", res.body);
    assert!(res.body["errors"].is_array());
    // No query at all (a misspelt parameter): 400 under either media type.
    for accept in [
        Some("application/graphql-response+json"),
        Some("application/json"),
        None,
    ] {
        let res = post_raw(&app, accept, json!({ "qeury": "{ __typename }" }), None).await;
        assert_eq!(res.status, 400, "{}", res.body);
        assert_eq!(res.code(), "BAD_USER_INPUT");
    }
    // application/json (and no Accept): 200 with errors, as older clients expect.
    for accept in [Some("application/json"), None] {
        let res = post_raw(&app, accept, invalid.clone(), None).await;
        assert_eq!(
            (res.status.as_u16(), res.header("content-type")),
            (200, Some("application/json"))
        );
        assert!(res.body["errors"].is_array());
    }
    // Execution errors keep 200 under either media type.
    let res = post_raw(
        &app,
        Some("application/graphql-response+json"),
        json!({ "query": "{ userActivities { totalCount } }" }),
        None,
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.code(), "UNAUTHENTICATED");
    // A body that is not a GraphQL request: 400.
    let res = TestApp::finish(
        app.client
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .body("[1,2"),
    )
    .await;
    assert_eq!(res.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.max_batch = 2).await;
    let batch =
        json!([{ "query": "{ currentUser { username } }" }, { "query": "{ users(first: 1) { nodes { id } } }" }]);
    let res = post_raw(&app, None, batch, Some(app.admin())).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body[0]["data"]["currentUser"]["username"], "root");
    assert_eq!(res.body[1]["data"]["users"]["nodes"].as_array().unwrap().len(), 1);
    let three = json!([{ "query": "{ currentUser { id } }" }, { "query": "{ currentUser { id } }" }, { "query": "{ currentUser { id } }" }]);
    let res = post_raw(&app, None, three, Some(app.admin())).await;
    assert_eq!((res.status.as_u16(), res.code()), (400, "BAD_USER_INPUT".into()));
    // Each operation of a batch is checked against the token's scope on its own.
    let u = app.user("batcher").await;
    let q =
        r#"mutation { createPersonalAccessToken(input: { name: "ro", scopes: ["read_user"] }) { token { token } } }"#;
    let res = app.gql(Some(&u.token), q, json!({})).await;
    let ro = res.data()["createPersonalAccessToken"]["token"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mixed = json!([{ "query": "{ currentUser { username } }" }, { "query": "mutation { signIn(input: { login: \"x\", password: \"y\" }) { token } }" }]);
    let res = post_raw(&app, None, mixed, Some(&ro)).await;
    assert_eq!(res.body[0]["data"]["currentUser"]["username"], "batcher");
    assert_eq!(res.body[1]["errors"][0]["extensions"]["code"], "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persisted_queries() {
    let app = TestApp::start(Backend::Sqlite).await;
    let query = "query Me { currentUser { username } }";
    let hash = hex::encode(Sha256::digest(query.as_bytes()));
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let res = post_raw(&app, None, json!({ "extensions": ext }), Some(app.admin())).await;
    assert_eq!(res.code(), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(res.body["errors"][0]["message"], "PersistedQueryNotFound");
    let res = post_raw(
        &app,
        None,
        json!({ "query": query, "extensions": ext }),
        Some(app.admin()),
    )
    .await;
    assert_eq!(res.data()["currentUser"]["username"], "root");
    let res = post_raw(&app, None, json!({ "extensions": ext }), Some(app.admin())).await;
    assert_eq!(res.data()["currentUser"]["username"], "root");
    // GET with the hash only, as CDN-friendly clients send it.
    let res = TestApp::finish(
        app.client
            .get(format!("{}/graphql", app.base))
            .query(&[("extensions", ext.to_string())])
            .bearer_auth(app.admin()),
    )
    .await;
    assert_eq!(res.data()["currentUser"]["username"], "root");
    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "00".repeat(32) } });
    let res = post_raw(
        &app,
        None,
        json!({ "query": query, "extensions": wrong }),
        Some(app.admin()),
    )
    .await;
    assert_eq!(res.code(), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_limits() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.max_depth = 5;
        c.max_fields = 50;
        c.max_complexity = 300;
    })
    .await;
    let deep = "{ currentUser { events(first: 1) { nodes { author { events(first: 1) { nodes { author { username } } } } } } } }";
    let res = app.gql(Some(app.admin()), deep, json!({})).await;
    assert!(
        res.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{}",
        res.body
    );
    let aliases: String = (0..60).map(|i| format!("a{i}: currentUser {{ id }} ")).collect();
    let res = app.gql(Some(app.admin()), &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!((res.status.as_u16(), res.code()), (400, "BAD_USER_INPUT".into()));
    let wide = "{ users(first: 100) { nodes { id username name email state } } }";
    let res = app.gql(Some(app.admin()), wide, json!({})).await;
    assert!(
        res.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{}",
        res.body
    );
    // Bodies over the limit are refused before they are read whole.
    let small = TestApp::start_with(Backend::Sqlite, |c| c.max_body_bytes = 1024).await;
    let big = json!({ "query": format!("{{ currentUser {{ id }} }} #{}", "x".repeat(4096)) });
    let res = post_raw(&small, None, big, None).await;
    assert_eq!(res.status, 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_client() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.signin_per_minute = 3).await;
    let q = "mutation { signIn(input: { login: \"nobody\", password: \"wrong-password\" }) { token } }";
    for _ in 0..3 {
        assert_eq!(app.gql(None, q, json!({})).await.code(), "UNAUTHENTICATED");
    }
    let res = app.gql(None, q, json!({})).await;
    assert_eq!(res.code(), "TOO_MANY_REQUESTS");
    assert!(res.body["errors"][0]["extensions"]["retryAfter"].as_u64().unwrap() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_and_graphiql_can_be_turned_off() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.introspection = false;
        c.graphiql = false;
    })
    .await;
    let res = app
        .gql(Some(app.admin()), "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        res.body["data"]["__schema"]["types"]
            .as_array()
            .is_none_or(|t| t.is_empty()),
        "{}",
        res.body
    );
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(!res.text().await.unwrap().to_lowercase().contains("graphiql"));
    // Nor are its files.
    let on = TestApp::start(Backend::Sqlite).await;
    let (_, assets) = playground_page(&on, "/graphql").await;
    let res = app
        .client
        .get(format!("{}{}", app.base, assets[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // With them on (the default), anyone may introspect.
    let open = TestApp::start(Backend::Sqlite).await;
    let res = open
        .gql(None, "{ __type(name: \"User\") { fields { name } } }", json!({}))
        .await;
    assert!(res.data()["__type"]["fields"].as_array().unwrap().len() > 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_requests() {
    each_backend(|app| async move {
        app.gql(Some(app.admin()), "query WhoAmI { currentUser { id } }", json!({}))
            .await
            .data();
        app.gql(None, "{ userActivities { totalCount } }", json!({})).await;
        app.get("/api/v4/users/999999", Some(app.admin())).await;
        let res = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
        assert_eq!(
            res.headers()["content-type"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let text = res.text().await.unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        for needle in [
            "usergraph_http_requests_total{route=\"/graphql\",method=\"POST\",status=\"200\"}",
            "usergraph_http_requests_total{route=\"/api/v4/users/{id}\",method=\"GET\",status=\"404\"}",
            "usergraph_http_request_duration_seconds_bucket{le=\"+Inf\",route=\"/graphql\"}",
            "usergraph_graphql_operations_total{operation=\"WhoAmI\",kind=\"query\"} 1",
            "usergraph_errors_total{code=\"UNAUTHENTICATED\"} 1",
            "usergraph_errors_total{code=\"404\"} 1",
            "usergraph_db_statements_total",
            "usergraph_db_pool_connections",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
    })
    .await;
}

async fn boom() -> &'static str {
    panic!("kaboom")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_json_500_with_a_request_id() {
    let cfg = usergraph::Config::for_database("sqlite::memory:");
    let metrics = Arc::new(usergraph::metrics::Metrics::default());
    let routes: Router = Router::new().route("/boom", get(boom));
    let router = usergraph::harden(routes, &cfg, metrics);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let res = reqwest::get(format!("http://{addr}/boom")).await.unwrap();
    assert_eq!(res.status(), 500);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "message": "500 Internal Server Error", "request_id": id })
    );
    // The server is still there.
    assert_eq!(reqwest::get(format!("http://{addr}/boom")).await.unwrap().status(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_introspection_is_not_held_to_the_depth_limit() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.max_depth = 4).await;
    let type_ref = "kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }";
    let q = format!(
        "{{ __schema {{ queryType {{ name }} types {{ name fields {{ name args {{ name type {{ {type_ref} }} }} type {{ {type_ref} }} }} }} }} }}"
    );
    let res = app.gql(None, &q, json!({})).await;
    assert_eq!(res.data()["__schema"]["queryType"]["name"], "Query");
    // The data graph is still held to it.
    let res = app
        .gql(
            Some(app.admin()),
            "{ currentUser { events { nodes { author { events { nodes { id } } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!((res.status.as_u16(), res.code()), (400, "BAD_USER_INPUT".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_fails_when_the_database_is_gone() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.slow_query_ms = 0).await;
    assert_eq!(app.get("/readyz", None).await.status, 200);
    // Every statement is "slow" at a 0 ms threshold: counted (and logged).
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let slow = text
        .lines()
        .find(|l| l.starts_with("usergraph_db_slow_statements_total "))
        .unwrap();
    assert!(slow.split(' ').nth(1).unwrap().parse::<u64>().unwrap() > 0, "{slow}");
    // Closing the pool the server shares is the database going away.
    app.state.db.clone().close().await.unwrap();
    let res = app.get("/readyz", None).await;
    assert_eq!(
        (res.status.as_u16(), res.body["status"].as_str()),
        (503, Some("database unavailable"))
    );
    assert_eq!(
        app.get("/healthz", None).await.status,
        200,
        "the process itself is alive"
    );
}

/// The GraphiQL page at `path` as a browser asks for it: its headers, and the addresses of the
/// files it loads (`src` and `href`), after checking that each is on this server.
async fn playground_page(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, Vec<String>) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    let html = res.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("//unpkg"),
        "{html}"
    );
    assert!(
        html.contains(&format!("data-endpoint=\"{path}\" data-subscriptions=\"{path}/ws\"")),
        "{html}"
    );
    let addresses: Vec<String> = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| {
            html.split(attr)
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().to_string())
        })
        .filter(|a| a != "data:,")
        .collect();
    assert!(addresses.iter().all(|a| a.starts_with("/-/graphiql/")), "{addresses:?}");
    (headers, addresses)
}

#[tokio::test]
async fn the_playground_is_served_whole_by_the_server() {
    let app = TestApp::start(Backend::Sqlite).await;
    for path in ["/graphql", "/api/graphql"] {
        let (headers, assets) = playground_page(&app, path).await;
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(headers["cache-control"], "no-cache");
        let csp = headers["content-security-policy"].to_str().unwrap();
        for rule in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(rule), "{csp}");
        }
        assert!(
            !csp.contains("unsafe-eval") && !csp.contains("script-src 'self' 'unsafe-inline'"),
            "{csp}"
        );
        // Six files: GraphiQL's script and style, React, ReactDOM, graphql-ws and the page's own.
        assert_eq!(assets.len(), 6, "{assets:?}");
        for address in &assets {
            let name = address.rsplit('/').next().unwrap();
            let on_disk = std::fs::read(format!("{}/assets/graphiql/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            // As they are, to a client that takes no compression.
            let res = app.client.get(format!("{}{address}", app.base)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{address}");
            let h = res.headers().clone();
            assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
            assert_eq!(h["x-content-type-options"], "nosniff");
            let ty = if name.ends_with(".css") {
                "text/css; charset=utf-8"
            } else {
                "text/javascript; charset=utf-8"
            };
            assert_eq!(h["content-type"], ty);
            assert!(h.get("content-encoding").is_none());
            assert_eq!(res.bytes().await.unwrap().as_ref(), on_disk.as_slice(), "{address}");
            // Gzipped, to one that takes it: the same bytes once inflated.
            let res = app
                .client
                .get(format!("{}{address}", app.base))
                .header("Accept-Encoding", "br, gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(res.headers()["content-encoding"], "gzip");
            let packed = res.bytes().await.unwrap();
            let mut inflated = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(packed.as_ref()), &mut inflated).unwrap();
            assert_eq!(inflated, on_disk, "{address}");
            if name.starts_with("graphiql-") && name.ends_with(".js") {
                assert!(
                    packed.len() * 2 < on_disk.len(),
                    "{} of {}",
                    packed.len(),
                    on_disk.len()
                );
            }
            // Another content's address, or another file: 404.
            let (root, _) = address.rsplit_once('/').unwrap();
            let stale = format!("{}/{}/{name}", root.rsplit_once('/').unwrap().0, "0123456789abcdef");
            let res = app.client.get(format!("{}{stale}", app.base)).send().await.unwrap();
            assert_eq!(res.status(), 404, "{stale}");
            let res = app
                .client
                .get(format!("{}{root}/secret", app.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404);
        }
    }
    // A client asking for JSON still gets GraphQL, not the page.
    let res = app
        .client
        .get(format!("{}/graphql?query=%7B__typename%7D", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), r#"{"data":{"__typename":"Query"}}"#);
}
