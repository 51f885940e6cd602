//! GraphQL over WebSocket at `/graphql/ws` (and `/api/graphql/ws`): the graphql-transport-ws
//! protocol (`connection_init`, `subscribe`, `next`, `complete`) and the older graphql-ws one
//! (`start`, `data`, `stop`), as the client asks in `Sec-WebSocket-Protocol`.
//!
//! **Authentication** happens once, at `connection_init`, through [`crate::domain::caller::authenticate`] as for
//! HTTP. The token comes from the init payload — `{"Authorization": "Bearer <token>"}`,
//! `{"PRIVATE-TOKEN": "<token>"}`, `{"authToken": "<token>"}`, any case of those keys, also inside
//! a `headers` object; `Sudo` as well — or else from the upgrade request (`PRIVATE-TOKEN` or
//! `Authorization` header, `private_token` parameter). A missing or bad token refuses the
//! connection: close code 4403 with the reason `<CODE>: <message>` (graphql-ws: a
//! `connection_error` whose payload carries `extensions.code`). A connection that does not
//! initialise within [`INIT_TIMEOUT`] is closed with 4408.
//!
//! **Each operation** passes the checks of HTTP ([`super::handler::admit`]: persisted queries,
//! depth and field limits, token scope) and runs with its own loaders. A connection runs at most
//! `--max-ws-operations` operations at a time; one more is refused (`BAD_USER_INPUT`) until one
//! ends. The subscriptions check again before each item ([`crate::domain::watch`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor, Request, Response};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;

use super::context::ClientAddr;
use super::handler::GraphqlState;
use super::handler::{Transport, admit, record_errors};
use super::loaders::DbLoader;
use super::subscription::SubscriberCredentials;
use crate::auth;
use crate::auth::extract::Credentials;
use crate::domain::viewer::Viewer;
use crate::error::AppError;

/// How long a client may take to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Close code for a refused `connection_init` (graphql-transport-ws: "Forbidden").
const REFUSED: u16 = 4403;
/// Close code for a message larger than `--max-body-bytes` (HTTP's 413, as 4xxx).
const TOO_LARGE: u16 = 4413;
/// Close code for a connection that never initialised.
const INIT_TIMED_OUT: u16 = 4408;

/// Credentials in a `connection_init` payload.
pub fn payload_credentials(payload: &Value) -> Credentials {
    fn find(obj: &serde_json::Map<String, Value>, names: &[&str]) -> Option<String> {
        obj.iter()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
    fn from(obj: &serde_json::Map<String, Value>) -> Credentials {
        let bearer = find(obj, &["authorization"]).map(|v| match v.split_once(char::is_whitespace) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim().to_string(),
            _ => v,
        });
        Credentials {
            token: find(
                obj,
                &["private-token", "private_token", "privateToken", "authToken", "token"],
            )
            .or(bearer),
            sudo: find(obj, &["sudo"]),
        }
    }
    let Some(obj) = payload.as_object() else {
        return Credentials::default();
    };
    let top = from(obj);
    let nested = obj
        .get("headers")
        .and_then(Value::as_object)
        .map(from)
        .unwrap_or_default();
    Credentials {
        token: top.token.or(nested.token),
        sudo: top.sudo.or(nested.sudo),
    }
}

/// The payload's credentials, else those of the upgrade request.
fn merge(payload: Credentials, upgrade: &Credentials) -> Credentials {
    Credentials {
        token: payload.token.or_else(|| upgrade.token.clone()),
        sudo: payload.sudo.or_else(|| upgrade.sudo.clone()),
    }
}

/// One connection: who it is (once initialised) and why it was refused (if it was).
#[derive(Default)]
struct Session {
    viewer: OnceLock<(Viewer, Credentials)>,
    refusal: Mutex<Option<AppError>>,
    /// Operations running on the connection (a subscription runs until it ends).
    operations: AtomicUsize,
}

impl Session {
    /// A place for one more operation, if fewer than `max` run.
    fn take_slot(self: &Arc<Self>, max: usize) -> Option<Slot> {
        self.operations
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1))
            .ok()
            .map(|_| Slot(self.clone()))
    }
}

/// One running operation's place on its connection; given back when the operation's stream is
/// dropped (it ended, the client completed it, or the connection closed).
struct Slot(Arc<Session>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.operations.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs each operation of one connection as its viewer, after the checks of HTTP.
#[derive(Clone)]
struct ConnectionExecutor {
    st: GraphqlState,
    session: Arc<Session>,
    client: ClientAddr,
}

fn refused(e: AppError) -> Response {
    Response::from_errors(vec![super::handler::request_error(&e)])
}

impl Executor for ConnectionExecutor {
    async fn execute(&self, request: Request) -> Response {
        self.execute_stream(request, None)
            .next()
            .await
            .unwrap_or_else(|| refused(AppError::Internal(anyhow::anyhow!("an operation gave no response"))))
    }

    fn execute_stream(&self, request: Request, _session: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let this = self.clone();
        futures_util::stream::once(async move { this.prepare(request).await })
            .flatten()
            .boxed()
    }
}

impl ConnectionExecutor {
    /// The checks of HTTP, then the operation's stream (or the one response refusing it).
    async fn prepare(self, mut request: Request) -> BoxStream<'static, Response> {
        let Some((viewer, creds)) = self.session.viewer.get().cloned() else {
            return futures_util::stream::once(async { refused(AppError::Unauthorized) }).boxed();
        };
        let reject = |e: AppError| {
            self.st.app.metrics.record_error(e.code());
            futures_util::stream::once(async move { refused(e) }).boxed()
        };
        if let Err((e, _)) = admit(&self.st, &viewer, Transport::WebSocket, &mut request).await {
            return reject(e);
        }
        let max = self.st.app.cfg.max_ws_operations;
        let Some(slot) = self.session.take_slot(max) else {
            return reject(AppError::BadParams(format!(
                "a connection may run at most {max} operations at a time; complete one first"
            )));
        };
        let (spawner, driver) = super::driver::pair();
        let loader = DataLoader::new(
            DbLoader {
                db: self.st.app.db.clone(),
            },
            move |task| spawner.spawn(task),
        )
        .delay(Duration::ZERO);
        let request = request
            .data(viewer)
            .data(loader)
            .data(self.client)
            .data(SubscriberCredentials(creds));
        let metrics = self.st.app.metrics.clone();
        super::driver::drive_stream(self.st.schema.execute_stream(request), driver)
            .inspect(move |resp| {
                let _held = &slot;
                record_errors(&metrics, resp)
            })
            .boxed()
    }
}

/// The protocol the client asks for, by `Sec-WebSocket-Protocol` (the first one known).
fn requested_protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().parse().ok())
}

/// `GET /graphql/ws`: the WebSocket upgrade.
pub async fn upgrade(
    State(st): State<GraphqlState>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    headers: HeaderMap,
    uri: Uri,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
) -> HttpResponse {
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let Some(protocol) = requested_protocol(&headers) else {
        return AppError::BadParams("Sec-WebSocket-Protocol must name graphql-transport-ws or graphql-ws".into())
            .into_response();
    };
    let from_upgrade = auth::extract::credentials(&headers, &uri);
    let client = ClientAddr(connect.map(|c| c.0.0.ip()));
    // Every message is held to the body limit of HTTP; a larger one closes the connection (4413).
    let max = st.app.cfg.max_body_bytes;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(st, socket, protocol, from_upgrade, client))
}

async fn serve(
    st: GraphqlState,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    from_upgrade: Credentials,
    client: ClientAddr,
) {
    let session = Arc::new(Session::default());
    let executor = ConnectionExecutor {
        st: st.clone(),
        session: session.clone(),
        client,
    };
    let init = {
        let session = session.clone();
        let st = st.clone();
        move |payload: Value| async move {
            let creds = merge(payload_credentials(&payload), &from_upgrade);
            let outcome = match crate::domain::caller::authenticate(&st.app.db, &st.app.keys, &st.app.cfg, &creds).await
            {
                Ok(v) if v.user.is_none() => Err(AppError::Unauthorized),
                other => other,
            };
            match outcome {
                Ok(viewer) => {
                    let _ = session.viewer.set((viewer, creds));
                    Ok(Data::default())
                }
                Err(e) => {
                    st.app.metrics.record_error(e.code());
                    let message = e.message();
                    *session.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    Err(async_graphql::Error::new(message))
                }
            }
        }
    };
    let (mut sink, stream) = socket.split();
    let too_large = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = too_large.clone();
    let input = stream
        .take_while(move |m| {
            if let Err(e) = m
                && is_too_large(e)
            {
                flag.store(true, Ordering::Release);
            }
            futures_util::future::ready(m.is_ok())
        })
        .filter_map(|m| {
            futures_util::future::ready(match m {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        });
    let outgoing = async_graphql::http::WebSocket::new(executor, input, protocol).on_connection_init(init);
    futures_util::pin_mut!(outgoing);
    let deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(deadline);
    loop {
        let msg = tokio::select! {
            m = outgoing.next() => match m {
                Some(m) => m,
                None => break,
            },
            () = &mut deadline, if session.viewer.get().is_none() => {
                let _ = sink.send(close(INIT_TIMED_OUT, "Connection initialisation timeout".into())).await;
                break;
            }
        };
        let refusal = session.refusal.lock().unwrap_or_else(|p| p.into_inner()).take();
        let out = match (msg, refusal) {
            (_, Some(e)) if protocol == WebSocketProtocols::GraphQLWS => {
                close(REFUSED, format!("{}: {}", e.code(), e.message()))
            }
            (_, Some(e)) => {
                let body = serde_json::json!({
                    "type": "connection_error",
                    "payload": { "message": e.message(), "extensions": { "code": e.code() } },
                });
                Message::Text(body.to_string().into())
            }
            (WsMessage::Text(t), None) => Message::Text(t.into()),
            (WsMessage::Close(code, reason), None) => close(code, reason),
        };
        if sink.send(out).await.is_err() {
            break;
        }
    }
    if too_large.load(Ordering::Acquire) {
        let reason = format!("a message may hold at most {} bytes", st.app.cfg.max_body_bytes);
        let _ = sink.send(close(TOO_LARGE, reason)).await;
    }
    let _ = sink.close().await;
}

/// True for the error of a message or frame past the size limit (tungstenite's capacity error,
/// known by its text: axum does not re-export the type).
fn is_too_large(e: &axum::Error) -> bool {
    let text = e.to_string();
    text.contains("Space limit exceeded") || text.contains("too long") || text.contains("too big")
}

/// A close frame; the reason is cut to the 123 bytes a close frame may carry.
fn close(code: u16, mut reason: String) -> Message {
    if reason.len() > 123 {
        let mut end = 123;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn init_payload_credentials() {
        let t = |v: Value| payload_credentials(&v).token;
        assert_eq!(t(json!({ "Authorization": "Bearer abc" })).as_deref(), Some("abc"));
        assert_eq!(t(json!({ "authorization": "bearer abc" })).as_deref(), Some("abc"));
        assert_eq!(t(json!({ "PRIVATE-TOKEN": "abc" })).as_deref(), Some("abc"));
        assert_eq!(t(json!({ "private-token": "abc" })).as_deref(), Some("abc"));
        assert_eq!(t(json!({ "authToken": "abc" })).as_deref(), Some("abc"));
        assert_eq!(
            t(json!({ "headers": { "Authorization": "Bearer abc" } })).as_deref(),
            Some("abc")
        );
        assert_eq!(
            t(json!({ "PRIVATE-TOKEN": "a", "Authorization": "Bearer b" })).as_deref(),
            Some("a")
        );
        assert_eq!(t(json!({ "Authorization": "" })), None);
        assert_eq!(t(json!(null)), None);
        assert_eq!(t(json!("abc")), None);
        assert_eq!(
            payload_credentials(&json!({ "Sudo": "jane" })).sudo.as_deref(),
            Some("jane")
        );
        let upgrade = Credentials {
            token: Some("up".into()),
            sudo: None,
        };
        assert_eq!(merge(Credentials::default(), &upgrade).token.as_deref(), Some("up"));
        assert_eq!(
            merge(payload_credentials(&json!({ "authToken": "p" })), &upgrade)
                .token
                .as_deref(),
            Some("p")
        );
    }

    #[test]
    fn close_reasons_fit_a_frame() {
        let Message::Close(Some(f)) = close(4403, "é".repeat(100)) else {
            panic!()
        };
        assert!(f.reason.len() <= 123);
    }
}
