//! axum glue: authenticate, check each operation against the token's scope and the limits,
//! execute, and answer as the GraphQL-over-HTTP specification says.

use std::net::{IpAddr, SocketAddr};

use async_graphql::dataloader::DataLoader;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{BatchRequest, BatchResponse, ErrorExtensions, Pos};
use async_graphql_axum::GraphQLBatchRequest;
use async_graphql_axum::rejection::GraphQLRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use super::loaders::DbLoader;
use crate::HttpState;
use crate::auth::{self, Access, Viewer};
use crate::error::AppError;

/// The client's address, for per-client limits.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The media type to answer with: `application/graphql-response+json` when the client accepts
/// it, else `application/json` (for clients from before that type existed).
fn media_type(headers: &HeaderMap) -> &'static str {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.contains(GRAPHQL_RESPONSE) {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    }
}

fn json_response(status: StatusCode, media: &'static str, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut res = (status, bytes).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
            res
        }
        Err(e) => AppError::Internal(anyhow::anyhow!("serialising a GraphQL response: {e}")).into_response(),
    }
}

fn error_response(e: AppError, media: &'static str) -> Response {
    let status = e.status();
    let err = e.extend().into_server_error(Pos::default());
    json_response(status, media, &async_graphql::Response::from_errors(vec![err]))
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// `GET /graphql` from a browser: the GraphiQL page (the header editor sets `Authorization`;
/// subscriptions go to `<endpoint>/ws`).
pub fn graphiql(endpoint: &str) -> Response {
    let ws = format!("{endpoint}/ws");
    Html(
        GraphiQLSource::build()
            .endpoint(endpoint)
            .subscription_endpoint(&ws)
            .title("usergraph")
            .finish(),
    )
    .into_response()
}

/// The kind of the operation that will run, when the document names one.
fn operation_kind(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match &doc.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(map) => match name {
            Some(n) => map.get(n).map(|op| op.node.ty),
            None if map.len() == 1 => map.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}

/// The name written after `query`/`mutation`/`subscription` at the start of a one-operation
/// document (the parsed form keeps no name for a single operation).
fn operation_name(query: &str) -> Option<String> {
    let rest = query.trim_start();
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|k| rest.strip_prefix(k))?;
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Every field selection written in the document (aliases count, fragments once each).
fn field_count(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => 1 + walk(&f.node.selection_set.node),
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let ops: usize = doc
        .operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .sum();
    let frags: usize = doc.fragments.values().map(|f| walk(&f.node.selection_set.node)).sum();
    ops + frags
}

/// How deep the selections nest, fragments expanded, not counting introspection (`__schema`,
/// `__type`): clients must be able to introspect however deep their tooling's query goes, while
/// the data graph (user -> events -> author -> ...) is what the limit protects.
fn depth(doc: &ExecutableDocument) -> usize {
    fn walk(doc: &ExecutableDocument, set: &SelectionSet, seen: &mut Vec<String>) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) if f.node.name.node.starts_with("__") => 0,
                Selection::Field(f) => 1 + walk(doc, &f.node.selection_set.node, seen),
                Selection::InlineFragment(f) => walk(doc, &f.node.selection_set.node, seen),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.to_string();
                    // A cycle is a validation error reported later; here it just stops.
                    if seen.contains(&name) {
                        return 0;
                    }
                    let Some(frag) = doc.fragments.get(&spread.node.fragment_name.node) else {
                        return 0;
                    };
                    seen.push(name);
                    let d = walk(doc, &frag.node.selection_set.node, seen);
                    seen.pop();
                    d
                }
            })
            .max()
            .unwrap_or(0)
    }
    doc.operations
        .iter()
        .map(|(_, op)| walk(doc, &op.node.selection_set.node, &mut Vec::new()))
        .max()
        .unwrap_or(0)
}

/// How an operation arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport<'a> {
    /// A GET or POST to `/graphql`: queries and mutations (mutations by POST only).
    Http(&'a Method),
    /// A WebSocket at `/graphql/ws`: any operation, subscriptions included.
    WebSocket,
}

/// Checks one request before it runs; gives the response to send instead when it must not.
pub(crate) fn admit(
    st: &HttpState,
    viewer: &Viewer,
    transport: Transport<'_>,
    req: &mut async_graphql::Request,
) -> Result<(), (AppError, StatusCode)> {
    st.queries.resolve_persisted(req).map_err(|e| {
        let status = e.status();
        (e, status)
    })?;
    let Some(doc) = st.queries.parse(&req.query) else {
        // A syntax error: the executor reports it in the standard shape.
        return Ok(());
    };
    if depth(&doc) > st.app.cfg.max_depth {
        return Err((
            AppError::BadParams("Query is nested too deep.".into()),
            StatusCode::BAD_REQUEST,
        ));
    }
    let limit = st.app.cfg.max_fields;
    if field_count(&doc) > limit {
        return Err((
            AppError::BadParams(format!("the query selects more than {limit} fields")),
            StatusCode::BAD_REQUEST,
        ));
    }
    let kind = operation_kind(&doc, req.operation_name.as_deref());
    if kind == Some(OperationType::Mutation) && transport == Transport::Http(&Method::GET) {
        return Err((
            AppError::BadParams("mutations are not allowed over GET; use POST".into()),
            StatusCode::METHOD_NOT_ALLOWED,
        ));
    }
    if kind == Some(OperationType::Subscription) && transport != Transport::WebSocket {
        return Err((
            AppError::BadParams("subscriptions are served over WebSocket at /graphql/ws".into()),
            StatusCode::BAD_REQUEST,
        ));
    }
    let kind_name = match kind {
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        _ => "query",
    };
    let name = req.operation_name.clone().or_else(|| operation_name(&req.query));
    st.app.metrics.record_operation(name.as_deref(), kind_name);
    let access = if kind == Some(OperationType::Mutation) {
        Access::Write
    } else {
        Access::Read
    };
    viewer.check_access(access).map_err(|e| {
        let status = e.status();
        (e, status)
    })?;
    req.set_parsed_query(doc);
    Ok(())
}

/// A request error (nothing executed: a parse or validation error) has no data and no error
/// with a path.
fn is_request_error(resp: &async_graphql::Response) -> bool {
    resp.data == async_graphql::Value::Null && !resp.errors.is_empty() && resp.errors.iter().all(|e| e.path.is_empty())
}

pub async fn graphql(
    State(st): State<HttpState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    req: Result<GraphQLBatchRequest, GraphQLRejection>,
) -> Response {
    if method == Method::GET
        && st.app.cfg.graphiql
        && wants_html(&headers)
        && uri.query().is_none_or(|q| !q.contains("query="))
    {
        return graphiql(uri.path());
    }
    let media = media_type(&headers);
    let batch = match req {
        Ok(r) => r.into_inner(),
        Err(e) => {
            return error_response(
                AppError::BadParams(format!("malformed GraphQL request: {}", e.0)),
                media,
            );
        }
    };
    let creds = auth::extract::credentials(&headers, &uri);
    let viewer = match auth::authenticate(&st.app.db, &st.app.keys, &creds).await {
        Ok(v) => v,
        Err(e) => return error_response(e, media),
    };
    let client = ClientAddr(connect.map(|c| c.0.0.ip()));
    match batch {
        BatchRequest::Single(mut req) => {
            if let Err((e, status)) = admit(&st, &viewer, Transport::Http(&method), &mut req) {
                let mut res = error_response(e, media);
                *res.status_mut() = status;
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    res.headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("POST"));
                }
                return res;
            }
            let resp = execute(&st, viewer, client, req).await;
            let status = if media == GRAPHQL_RESPONSE && is_request_error(&resp) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            json_response(status, media, &resp)
        }
        BatchRequest::Batch(reqs) => {
            if reqs.len() > st.app.cfg.max_batch {
                let e = AppError::BadParams(format!("a batch may hold at most {} operations", st.app.cfg.max_batch));
                return error_response(e, media);
            }
            let mut out = Vec::with_capacity(reqs.len());
            for mut req in reqs {
                out.push(match admit(&st, &viewer, Transport::Http(&method), &mut req) {
                    Ok(()) => execute(&st, viewer.clone(), client, req).await,
                    Err((e, _)) => {
                        async_graphql::Response::from_errors(vec![e.extend().into_server_error(Pos::default())])
                    }
                });
            }
            json_response(StatusCode::OK, media, &BatchResponse::Batch(out))
        }
    }
}

async fn execute(
    st: &HttpState,
    viewer: Viewer,
    client: ClientAddr,
    req: async_graphql::Request,
) -> async_graphql::Response {
    let (spawner, driver) = super::driver::pair();
    let loader = DataLoader::new(DbLoader { db: st.app.db.clone() }, move |task| spawner.spawn(task))
        .delay(std::time::Duration::ZERO);
    let resp = super::driver::run_with(
        st.schema.execute(
            req.data(viewer)
                .data(loader)
                .data(client)
                .data(super::fast::Prefetch::default()),
        ),
        driver,
    )
    .await;
    record_errors(&st.app.metrics, &resp);
    resp
}

/// Counts the errors of a response by `extensions.code`.
pub(crate) fn record_errors(metrics: &crate::metrics::Metrics, resp: &async_graphql::Response) {
    for e in &resp.errors {
        let code = e
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|v| v.to_string().trim_matches('"').to_string());
        metrics.record_error(code.as_deref().unwrap_or("GRAPHQL_VALIDATION_FAILED"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fields_with_aliases_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: currentUser { id } b: currentUser { id username } ...F } fragment F on Query { users { nodes { id } } }",
        )
        .unwrap();
        assert_eq!(field_count(&doc), 2 + 3 + 3);
    }

    #[test]
    fn depth_skips_introspection_and_expands_fragments() {
        let d = |q: &str| depth(&async_graphql::parser::parse_query(q).unwrap());
        assert_eq!(d("{ a { b { c } } }"), 3);
        assert_eq!(
            d("{ __schema { types { fields { type { ofType { ofType { name } } } } } } a }"),
            1
        );
        assert_eq!(d("{ a { ...F } } fragment F on T { b { c } }"), 3);
        assert_eq!(d("{ a { ...F } } fragment F on T { b { ...F } }"), 2);
    }

    #[test]
    fn operation_names() {
        assert_eq!(operation_name("query WhoAmI { a }").as_deref(), Some("WhoAmI"));
        assert_eq!(
            operation_name("  mutation Do_it($x: Int) { a }").as_deref(),
            Some("Do_it")
        );
        assert_eq!(operation_name("{ a }"), None);
        assert_eq!(operation_name("query { a }"), None);
    }
}
