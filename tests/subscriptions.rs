//! Subscriptions over WebSocket: a real client speaking graphql-transport-ws (and graphql-ws) to
//! the real server, while changes are made over other HTTP connections.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use usergraph::domain::changes::{Change, UserAction};

use crate::common::{Backend, TestApp, backends, each_backend};

const WAIT: Duration = Duration::from_secs(10);

pub const CHANGED: &str = "subscription($id: ID) { userChanged(id: $id) {
    action userId user { id username name state email } } }";
const EVENTS: &str = "subscription($userId: ID) { userEvents(userId: $userId) {
    id action title authorId author { username } } }";
const CREATE_EVENT: &str = "mutation($input: CreateEventInput!) { createEvent(input: $input) { event { id } } }";

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the server sent.
#[derive(Debug)]
enum Incoming {
    Json(Value),
    Closed(u16, String),
}

/// A WebSocket client of `/graphql/ws`.
pub struct Ws {
    socket: Socket,
}

impl Ws {
    /// Opens `path` (with its query string) asking for `protocol`.
    async fn open(app: &TestApp, path: &str, protocol: &str) -> Ws {
        let url = format!("{}{path}", app.base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
        let (socket, res) = tokio_tungstenite::connect_async(req).await.expect("connect");
        assert_eq!(
            res.headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(protocol)
        );
        Ws { socket }
    }

    /// Opens a graphql-transport-ws connection and initialises it with `payload`; expects the ack.
    async fn connect(app: &TestApp, payload: Value) -> Ws {
        let mut ws = Ws::open(app, "/graphql/ws", "graphql-transport-ws").await;
        ws.send(json!({ "type": "connection_init", "payload": payload })).await;
        match ws.recv().await {
            Incoming::Json(m) if m["type"] == "connection_ack" => ws,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// As `token`, sent as a Bearer token in the init payload.
    pub async fn as_user(app: &TestApp, token: &str) -> Ws {
        Ws::connect(app, json!({ "Authorization": format!("Bearer {token}") })).await
    }

    async fn send(&mut self, v: Value) {
        self.socket.send(Message::text(v.to_string())).await.expect("send");
    }

    async fn recv(&mut self) -> Incoming {
        loop {
            let msg = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message within the time limit");
            match msg {
                Some(Ok(Message::Text(t))) => return Incoming::Json(serde_json::from_str(&t).expect("JSON")),
                Some(Ok(Message::Close(f))) => {
                    return f
                        .map(|f| Incoming::Closed(f.code.into(), f.reason.to_string()))
                        .unwrap_or(Incoming::Closed(1005, String::new()));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error: {e}"),
                None => return Incoming::Closed(1006, String::new()),
            }
        }
    }

    async fn json(&mut self) -> Value {
        match self.recv().await {
            Incoming::Json(v) => v,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The payload of the next `next` message, which must be for `id`.
    pub async fn next(&mut self, id: &str) -> Value {
        let m = self.json().await;
        assert_eq!((m["type"].as_str(), m["id"].as_str()), (Some("next"), Some(id)), "{m}");
        m["payload"].clone()
    }

    async fn complete(&mut self, id: &str) {
        let m = self.json().await;
        assert_eq!(
            (m["type"].as_str(), m["id"].as_str()),
            (Some("complete"), Some(id)),
            "{m}"
        );
    }

    /// The one error of a `next`, then the `complete`: its `extensions.code`.
    async fn refused(&mut self, id: &str) -> String {
        let p = self.next(id).await;
        let errors = p["errors"].as_array().unwrap_or_else(|| panic!("errors in {p}"));
        assert_eq!(errors.len(), 1, "{p}");
        self.complete(id).await;
        errors[0]["extensions"]["code"].as_str().unwrap_or_default().to_string()
    }

    /// Nothing arrives for a short while.
    async fn quiet(&mut self) {
        if let Ok(m) = tokio::time::timeout(Duration::from_millis(300), self.socket.next()).await {
            panic!("unexpected message: {m:?}");
        }
    }
}

/// Waits until the server serves `n` subscriptions (each holds a receiver of the change bus),
/// so a change made right after is certainly seen.
pub async fn subscribed(app: &TestApp, n: usize) {
    let start = tokio::time::Instant::now();
    while app.state.changes.subscribers() != n {
        assert!(
            start.elapsed() < WAIT,
            "{} subscribers, expected {n}",
            app.state.changes.subscribers()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Lets every change committed so far reach the app's bus before a test subscribes. On
/// PostgreSQL notifications arrive a moment after their commit (in commit order), so without
/// this a new subscription may still see the creation of the user it watches. Publishes a marker
/// that no subscription concerns and waits for it.
async fn settle(app: &TestApp) {
    let mut rx = app.state.changes.subscribe();
    let marker = Change::user(-1, UserAction::Updated);
    app.state.changes.publish(app.db(), marker.clone()).await;
    tokio::time::timeout(WAIT, async { while rx.recv().await.expect("bus open") != marker {} })
        .await
        .expect("the marker comes back");
}

pub fn id(n: i32) -> String {
    n.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_changed_delivers_changes_made_over_http() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        settle(&app).await;
        let mut ws = Ws::as_user(&app, app.admin()).await;
        ws.subscribe("1", CHANGED, json!({ "id": id(jane.id) })).await;
        subscribed(&app, 1).await;

        // GraphQL over another connection.
        let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }";
        app.gql(Some(app.admin()), block, json!({ "id": id(jane.id) }))
            .await
            .data();
        let p = ws.next("1").await;
        assert_eq!(
            p,
            json!({ "data": { "userChanged": { "action": "BLOCKED", "userId": id(jane.id), "user": {
                "id": id(jane.id), "username": "jane", "name": "jane name", "state": "blocked",
                "email": "jane@example.com" } } } })
        );
        // Blocking again changes nothing and tells nobody.
        app.gql(Some(app.admin()), block, json!({ "id": id(jane.id) }))
            .await
            .data();

        // REST too.
        let res = app
            .post(
                &format!("/api/v4/users/{}/unblock", jane.id),
                Some(app.admin()),
                json!({}),
            )
            .await;
        assert_eq!(res.status, 201);
        let p = ws.next("1").await;
        assert_eq!(p["data"]["userChanged"]["action"], "UNBLOCKED");
        assert_eq!(p["data"]["userChanged"]["user"]["state"], "active");
        let res = app
            .put(
                &format!("/api/v4/users/{}", jane.id),
                Some(app.admin()),
                json!({ "name": "Jane Q" }),
            )
            .await;
        assert_eq!(res.status, 200);
        let p = ws.next("1").await;
        assert_eq!(p["data"]["userChanged"]["action"], "UPDATED");
        assert_eq!(p["data"]["userChanged"]["user"]["name"], "Jane Q");

        // Changes to someone else are not this subscription's.
        let other = app.user("other").await;
        app.gql(Some(app.admin()), block, json!({ "id": id(other.id) }))
            .await
            .data();
        ws.quiet().await;

        // The client ends it; the server lets go of it.
        ws.send(json!({ "type": "complete", "id": "1" })).await;
        subscribed(&app, 0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_watch_every_user_created_and_deleted() {
    each_backend(|app| async move {
        let mut ws = Ws::as_user(&app, app.admin()).await;
        ws.subscribe("all", CHANGED, json!({})).await;
        subscribed(&app, 1).await;

        let sam = app.user("sam").await;
        let p = ws.next("all").await;
        assert_eq!(p["data"]["userChanged"]["action"], "CREATED");
        assert_eq!(p["data"]["userChanged"]["user"]["username"], "sam");

        let delete = "mutation($id: ID!) { deleteUser(input: { id: $id }) { user { id } } }";
        app.gql(Some(app.admin()), delete, json!({ "id": id(sam.id) }))
            .await
            .data();
        let p = ws.next("all").await;
        // The user as it was: the row is gone.
        assert_eq!(
            p["data"]["userChanged"],
            json!({ "action": "DELETED", "userId": id(sam.id), "user": {
                "id": id(sam.id), "username": "sam", "name": "sam name", "state": "active",
                "email": "sam@example.com" } })
        );
        // Deleting again (nothing there) tells nobody.
        app.gql(Some(app.admin()), delete, json!({ "id": id(sam.id) }))
            .await
            .data();
        ws.quiet().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_events_delivers_ingested_events() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let other = app.user("other").await;
        // Jane watches her own events (lower-case key, at /api/graphql/ws).
        let mut mine = Ws::open(&app, "/api/graphql/ws", "graphql-transport-ws").await;
        mine.send(json!({ "type": "connection_init", "payload": { "private-token": jane.token } }))
            .await;
        assert_eq!(mine.json().await["type"], "connection_ack");
        mine.subscribe("ev", EVENTS, json!({ "userId": id(jane.id) })).await;
        // The admin watches everyone's, and ingests over the same connection.
        let mut admin = Ws::as_user(&app, app.admin()).await;
        admin.subscribe("all", EVENTS, json!({})).await;
        subscribed(&app, 2).await;

        let ingest = |author: i32, title: &str| {
            json!({ "input": { "authorId": id(author), "action": "pushed", "title": title } })
        };
        app.gql(Some(app.admin()), CREATE_EVENT, ingest(other.id, "not jane's"))
            .await
            .data();
        let res = app.gql(Some(app.admin()), CREATE_EVENT, ingest(jane.id, "first")).await;
        let first = res.data()["createEvent"]["event"]["id"].clone();

        let p = mine.next("ev").await;
        assert_eq!(
            p,
            json!({ "data": { "userEvents": { "id": first, "action": "pushed", "title": "first",
                "authorId": id(jane.id), "author": { "username": "jane" } } } })
        );
        assert_eq!(admin.next("all").await["data"]["userEvents"]["title"], "not jane's");
        assert_eq!(admin.next("all").await["data"]["userEvents"]["title"], "first");

        // A mutation over the WebSocket publishes as well.
        admin.subscribe("m", CREATE_EVENT, ingest(jane.id, "over ws")).await;
        let mut got = Vec::new();
        for _ in 0..3 {
            let m = admin.json().await;
            got.push((m["type"].as_str().unwrap().to_string(), m["id"].as_str().unwrap().to_string()));
        }
        got.sort();
        assert_eq!(
            got,
            [("complete", "m"), ("next", "all"), ("next", "m")].map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(mine.next("ev").await["data"]["userEvents"]["title"], "over ws");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_watch_only_themselves() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let other = app.user("other").await;
        let mut ws = Ws::as_user(&app, &jane.token).await;
        ws.subscribe("a", CHANGED, json!({ "id": id(other.id) })).await;
        assert_eq!(ws.refused("a").await, "FORBIDDEN");
        ws.subscribe("b", CHANGED, json!({})).await;
        assert_eq!(ws.refused("b").await, "FORBIDDEN");
        ws.subscribe("c", EVENTS, json!({ "userId": id(other.id) })).await;
        assert_eq!(ws.refused("c").await, "FORBIDDEN");
        ws.subscribe("d", EVENTS, json!({})).await;
        assert_eq!(ws.refused("d").await, "FORBIDDEN");
        ws.subscribe("e", CHANGED, json!({ "id": "x" })).await;
        assert_eq!(ws.refused("e").await, "BAD_USER_INPUT");
        subscribed(&app, 0).await;

        // Themselves, yes: an admin's change to them arrives.
        settle(&app).await;
        ws.subscribe("me", CHANGED, json!({ "id": id(jane.id) })).await;
        subscribed(&app, 1).await;
        let update = "mutation($id: ID!) { updateUser(input: { id: $id, bio: \"hello\" }) { user { id } } }";
        app.gql(Some(app.admin()), update, json!({ "id": id(jane.id) }))
            .await
            .data();
        assert_eq!(ws.next("me").await["data"]["userChanged"]["action"], "UPDATED");

        // Subscriptions are not served over HTTP.
        let res = app.gql(Some(&jane.token), CHANGED, json!({ "id": id(jane.id) })).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
    })
    .await;
}

/// A connection runs at most `max_ws_operations` operations at a time: one more is refused
/// with `BAD_USER_INPUT` and serves nothing; a completed subscription frees its place; other
/// connections have places of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_runs_a_limited_number_of_operations() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.max_ws_operations = 2).await;
    let admin = app.admin().to_string();
    let mut ws = Ws::as_user(&app, &admin).await;
    ws.subscribe("a", CHANGED, json!({})).await;
    ws.subscribe("b", CHANGED, json!({ "id": "999999" })).await;
    subscribed(&app, 2).await;

    ws.subscribe("c", CHANGED, json!({})).await;
    let p = ws.next("c").await;
    assert_eq!(p["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{p}");
    let message = p["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("at most 2 operations"), "{message}");
    ws.complete("c").await;
    // A query is an operation too while it runs.
    ws.send(json!({ "type": "subscribe", "id": "q", "payload": { "query": "{ currentUser { id } }" } }))
        .await;
    let p = ws.next("q").await;
    assert_eq!(p["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{p}");
    ws.complete("q").await;
    assert_eq!(app.state.changes.subscribers(), 2);

    // Completing one frees its place.
    ws.send(json!({ "type": "complete", "id": "a" })).await;
    ws.complete("a").await;
    subscribed(&app, 1).await;
    ws.subscribe("d", CHANGED, json!({})).await;
    subscribed(&app, 2).await;

    // Another connection is not limited by this one's operations.
    let mut other = Ws::as_user(&app, &admin).await;
    other.subscribe("x", CHANGED, json!({})).await;
    other.subscribe("y", CHANGED, json!({})).await;
    subscribed(&app, 4).await;

    // And "d" serves: a new user reaches it (and not "b", which watches another id).
    settle(&app).await;
    let jane = app.user("jane").await;
    let created = ws.next("d").await;
    assert_eq!(created["data"]["userChanged"]["action"], "CREATED", "{created}");
    assert_eq!(created["data"]["userChanged"]["userId"], id(jane.id), "{created}");
    ws.quiet().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_subscriber_stops_receiving() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        settle(&app).await;
        let mut ws = Ws::as_user(&app, &jane.token).await;
        ws.subscribe("me", CHANGED, json!({ "id": id(jane.id) })).await;
        ws.subscribe("ev", EVENTS, json!({ "userId": id(jane.id) })).await;
        subscribed(&app, 2).await;
        let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }";
        app.gql(Some(app.admin()), block, json!({ "id": id(jane.id) }))
            .await
            .data();
        // Not the change, but the reason it can no longer be delivered; then the end.
        assert_eq!(ws.refused("me").await, "FORBIDDEN");
        // The other subscription ends at its next item.
        app.gql(
            Some(app.admin()),
            CREATE_EVENT,
            json!({ "input": { "authorId": id(jane.id), "action": "joined" } }),
        )
        .await
        .data();
        assert_eq!(ws.refused("ev").await, "FORBIDDEN");
        subscribed(&app, 0).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_or_missing_credentials_are_refused() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        let refusal = |payload: Value| {
            let app = app.clone();
            async move {
                let mut ws = Ws::open(&app, "/graphql/ws", "graphql-transport-ws").await;
                ws.send(json!({ "type": "connection_init", "payload": payload })).await;
                ws.recv().await
            }
        };
        for payload in [
            json!({ "Authorization": "Bearer glpat-nonsense" }),
            json!({ "PRIVATE-TOKEN": "glpat-nonsense" }),
            json!({}),
            Value::Null,
        ] {
            match refusal(payload.clone()).await {
                Incoming::Closed(4403, reason) => {
                    assert!(reason.starts_with("UNAUTHENTICATED: "), "{payload}: {reason}")
                }
                other => panic!("{payload}: {other:?}"),
            }
        }

        // The older graphql-ws protocol: a connection_error with the code.
        let mut ws = Ws::open(&app, "/graphql/ws", "graphql-ws").await;
        ws.send(json!({ "type": "connection_init", "payload": { "authToken": "nonsense" } }))
            .await;
        let m = ws.json().await;
        assert_eq!(m["type"], "connection_error");
        assert_eq!(m["payload"]["extensions"]["code"], "UNAUTHENTICATED");

        // A blocked user's own token: FORBIDDEN, as over HTTP.
        let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }";
        app.gql(Some(app.admin()), block, json!({ "id": id(jane.id) }))
            .await
            .data();
        match refusal(json!({ "authToken": jane.token })).await {
            Incoming::Closed(4403, reason) => assert!(reason.starts_with("FORBIDDEN: "), "{reason}"),
            other => panic!("{other:?}"),
        }

        // Subscribing before the connection is initialised closes it.
        let mut ws = Ws::open(&app, "/graphql/ws", "graphql-transport-ws").await;
        ws.subscribe("1", CHANGED, json!({})).await;
        assert!(matches!(ws.recv().await, Incoming::Closed(..)));

        // Without a GraphQL WebSocket protocol there is no upgrade.
        let url = format!("{}/graphql/ws", app.base.replacen("http://", "ws://", 1));
        assert!(tokio_tungstenite::connect_async(url).await.is_err());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_of_the_upgrade_request_and_the_older_protocol() {
    each_backend(|app| async move {
        let jane = app.user("jane").await;
        // The token in the URL; the older protocol (start / data / stop).
        let mut ws = Ws::open(&app, &format!("/graphql/ws?private_token={}", jane.token), "graphql-ws").await;
        ws.send(json!({ "type": "connection_init" })).await;
        assert_eq!(ws.json().await["type"], "connection_ack");
        ws.send(json!({ "type": "start", "id": "q", "payload": { "query": "{ currentUser { username } }" } }))
            .await;
        let m = ws.json().await;
        assert_eq!(
            m,
            json!({ "type": "data", "id": "q", "payload": { "data": { "currentUser": { "username": "jane" } } } })
        );
        assert_eq!(ws.json().await, json!({ "type": "complete", "id": "q" }));
        settle(&app).await;
        ws.send(
            json!({ "type": "start", "id": "s", "payload": { "query": CHANGED, "variables": { "id": id(jane.id) } } }),
        )
        .await;
        subscribed(&app, 1).await;
        let update = "mutation($id: ID!) { updateUser(input: { id: $id, bio: \"hi\" }) { user { id } } }";
        app.gql(Some(app.admin()), update, json!({ "id": id(jane.id) }))
            .await
            .data();
        let m = ws.json().await;
        assert_eq!((m["type"].as_str(), m["id"].as_str()), (Some("data"), Some("s")));
        assert_eq!(m["payload"]["data"]["userChanged"]["action"], "UPDATED");
        ws.send(json!({ "type": "stop", "id": "s" })).await;
        assert_eq!(ws.json().await, json!({ "type": "complete", "id": "s" }));
        subscribed(&app, 0).await;

        // The limits of HTTP apply to WebSocket operations too.
        let deep = format!(
            "{{ currentUser {}{{ id }}{} }}",
            "{ events { nodes { author ".repeat(5),
            " } } }".repeat(5)
        );
        let mut ws = Ws::as_user(&app, app.admin()).await;
        ws.subscribe("deep", &deep, json!({})).await;
        assert_eq!(ws.refused("deep").await, "BAD_USER_INPUT");
    })
    .await;
}

/// Two instances on one PostgreSQL database: a change made through B reaches A's subscribers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_cross_instances_on_postgres() {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("USERGRAPH_TEST_POSTGRES_URL is not set: skipped");
        return;
    }
    let a = TestApp::start(Backend::Postgres).await;
    let b = a.another_instance().await;
    let jane = a.user("jane").await;
    settle(&a).await;

    let mut ws = Ws::as_user(&a, a.admin()).await;
    ws.subscribe("u", CHANGED, json!({ "id": id(jane.id) })).await;
    ws.subscribe("e", EVENTS, json!({ "userId": id(jane.id) })).await;
    subscribed(&a, 2).await;

    let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }";
    b.gql(Some(b.admin()), block, json!({ "id": id(jane.id) })).await.data();
    let p = ws.next("u").await;
    assert_eq!(p["data"]["userChanged"]["action"], "BLOCKED");
    assert_eq!(p["data"]["userChanged"]["user"]["state"], "blocked");

    b.gql(
        Some(b.admin()),
        CREATE_EVENT,
        json!({ "input": { "authorId": id(jane.id), "action": "pushed", "title": "from b" } }),
    )
    .await
    .data();
    assert_eq!(ws.next("e").await["data"]["userEvents"]["title"], "from b");

    // Deleted through B: A's subscriber gets the user as it was, though A never saw the row go.
    let delete = "mutation($id: ID!) { deleteUser(input: { id: $id }) { user { id } } }";
    b.gql(Some(b.admin()), delete, json!({ "id": id(jane.id) }))
        .await
        .data();
    let p = ws.next("u").await;
    assert_eq!(p["data"]["userChanged"]["action"], "DELETED");
    assert_eq!(p["data"]["userChanged"]["user"]["username"], "jane");

    // And the other way round: B hears what A does, each change exactly once.
    settle(&b).await;
    let mut on_b = Ws::as_user(&b, b.admin()).await;
    on_b.subscribe("all", CHANGED, json!({})).await;
    subscribed(&b, 1).await;
    a.user("kim").await;
    assert_eq!(on_b.next("all").await["data"]["userChanged"]["user"]["username"], "kim");
    on_b.quiet().await;
}

/// A WebSocket outlives the HTTP request timeout: it is a connection, not a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_outlive_the_request_timeout() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.request_timeout_secs = 1).await;
    let jane = app.user("jane").await;
    let mut ws = Ws::as_user(&app, app.admin()).await;
    ws.subscribe("1", CHANGED, json!({ "id": id(jane.id) })).await;
    subscribed(&app, 1).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let block = "mutation($id: ID!) { blockUser(input: { id: $id }) { changed } }";
    app.gql(Some(app.admin()), block, json!({ "id": id(jane.id) }))
        .await
        .data();
    assert_eq!(ws.next("1").await["data"]["userChanged"]["action"], "BLOCKED");
}

/// A subscription whose root selection is a fragment spread (or an inline fragment) is refused
/// with an error naming why; before, the executor dropped the fragment and completed silently.
/// Past the body limit, a message closes the connection with 4413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_fragments_are_refused_and_oversized_messages_close_the_connection() {
    let app = TestApp::start_with(Backend::Sqlite, |c| c.max_body_bytes = 64 * 1024).await;
    let mut ws = Ws::as_user(&app, app.admin()).await;
    let spread = "subscription { ...F } fragment F on Subscription { userChanged { action } }";
    ws.subscribe("1", spread, json!({})).await;
    assert_eq!(ws.refused("1").await, "BAD_USER_INPUT");
    ws.subscribe(
        "2",
        "subscription { ... on Subscription { userChanged { action } } }",
        json!({}),
    )
    .await;
    assert_eq!(ws.refused("2").await, "BAD_USER_INPUT");
    ws.subscribe(
        "3",
        &format!("subscription {{ userChanged {{ action }} }} # {}", "x".repeat(100_000)),
        json!({}),
    )
    .await;
    match ws.recv().await {
        Incoming::Closed(code, reason) => assert_eq!((code, reason.contains("65536")), (4413, true), "{reason}"),
        other => panic!("expected the connection to close, got {other:?}"),
    }
}
