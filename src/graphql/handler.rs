//! axum glue: authenticate, check each operation against the token's scope and the limits,
//! execute, and answer as the GraphQL-over-HTTP specification says.

use std::net::SocketAddr;

use async_graphql::dataloader::DataLoader;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
};
use async_graphql::{BatchRequest, BatchResponse, ErrorExtensions, Pos};
use async_graphql_axum::GraphQLBatchRequest;
use async_graphql_axum::rejection::GraphQLRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::context::ClientAddr;
use super::limits;
use super::loaders::DbLoader;
use crate::auth;
use crate::domain::viewer::{Access, Viewer};
use crate::error::AppError;
use crate::state::AppState;

/// The state of the GraphQL routes: the shared application state, the built schema and the
/// parsed-document cache.
#[derive(Clone)]
pub struct GraphqlState {
    pub app: AppState,
    pub schema: super::schema::AppSchema,
    pub queries: std::sync::Arc<super::cache::QueryCache>,
}

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

/// An error of the whole request (nothing ran), without a location: there is no place in the
/// document to point at.
pub(crate) fn request_error(e: &AppError) -> async_graphql::ServerError {
    let mut err = e.extend().into_server_error(Pos::default());
    err.locations.clear();
    err
}

fn error_response(e: AppError, media: &'static str) -> Response {
    let status = e.status();
    let mut res = json_response(
        status,
        media,
        &async_graphql::Response::from_errors(vec![request_error(&e)]),
    );
    if matches!(e, AppError::Unavailable) {
        crate::error::retry_later(res.headers_mut());
    }
    res
}

/// True for the media types a GraphQL POST may carry: JSON (and its `+json` kinds), GraphQL text
/// and multipart uploads. Plain text and forms are refused: a browser sends them cross-origin
/// without asking, and a missing type says nothing of what the body holds.
fn graphql_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/graphql"
        || essence == "multipart/form-data"
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// The operation that will run: the only one, or the one named.
fn chosen_operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match &doc.operations {
        DocumentOperations::Single(op) => Some(op),
        DocumentOperations::Multiple(map) => match name {
            Some(n) => map.get(n),
            None if map.len() == 1 => map.values().next(),
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

/// How an operation arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport<'a> {
    /// A GET or POST to `/graphql`: queries and mutations (mutations by POST only).
    Http(&'a Method),
    /// A WebSocket at `/graphql/ws`: any operation, subscriptions included.
    WebSocket,
}

/// Documents longer than this are parsed and measured on a blocking thread, so that a large one
/// does not hold up the other requests of a runtime thread.
const PARSE_INLINE_MAX: usize = 8 * 1024;

/// Parses and measures `query`: `Err` when it holds more than `max_names` names (refused
/// unparsed), `Ok(None)` on a syntax error.
#[allow(clippy::result_unit_err)]
fn parse_and_measure(query: &str, max_names: usize) -> Result<Option<(ExecutableDocument, limits::Figures)>, ()> {
    if query.len() > max_names && limits::name_tokens(query) > max_names {
        return Err(());
    }
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return Ok(None);
    };
    let figures = limits::measure(&doc);
    Ok(Some((doc, figures)))
}

fn too_many_fields(max: usize) -> AppError {
    AppError::BadParams(format!(
        "the query selects more than {max} fields (fragments counted at each spread)"
    ))
}

/// The refusal of a document past one of the limits, if it is.
fn check_limits(cfg: &crate::config::Config, f: &limits::Figures) -> Result<(), AppError> {
    let max_fields = cfg.max_fields as u64;
    if f.written_fields > max_fields || f.executed_fields > max_fields {
        return Err(too_many_fields(cfg.max_fields));
    }
    if f.depth > cfg.max_depth {
        return Err(AppError::BadParams("Query is nested too deep.".into()));
    }
    if f.introspection_lists >= limits::MAX_INTROSPECTION_LISTS {
        return Err(AppError::BadParams("Maximum introspection depth exceeded".into()));
    }
    if f.nul {
        return Err(crate::domain::validate::nul_refused(None));
    }
    Ok(())
}

/// True when the root selection of `op` is not only plain fields (a fragment at the root of a
/// subscription would be dropped by the executor, which would end it at once without a word).
fn root_not_fields(op: &OperationDefinition) -> bool {
    op.selection_set
        .node
        .items
        .iter()
        .any(|s| !matches!(s.node, Selection::Field(_)))
}

/// Checks one request before it runs; gives the response to send instead when it must not.
/// Documents are cached only once they passed the limits.
pub(crate) async fn admit(
    st: &GraphqlState,
    viewer: &Viewer,
    transport: Transport<'_>,
    req: &mut async_graphql::Request,
) -> Result<(), (AppError, StatusCode)> {
    let bad = |e: AppError| (e, StatusCode::BAD_REQUEST);
    st.queries.resolve_persisted(req).map_err(|e| {
        let status = e.status();
        (e, status)
    })?;
    // No document at all (a missing or misspelt `query` parameter) is a bad request, not a
    // document that fails to parse.
    if req.query.trim().is_empty() {
        return Err(bad(AppError::BadParams("a GraphQL request needs a `query`".into())));
    }
    if req.variables.values().any(limits::const_has_nul) {
        return Err(bad(crate::domain::validate::nul_refused(None)));
    }
    let doc = match st.queries.get(&req.query) {
        Some(doc) => doc,
        None => {
            let max_names = st.app.cfg.max_fields.saturating_mul(limits::NAMES_PER_FIELD);
            let parsed = if req.query.len() <= PARSE_INLINE_MAX {
                parse_and_measure(&req.query, max_names)
            } else {
                let internal = |e: String| {
                    (
                        AppError::Internal(anyhow::anyhow!("parsing a document: {e}")),
                        StatusCode::INTERNAL_SERVER_ERROR,
                    )
                };
                let _slot = st
                    .queries
                    .parse_slots
                    .acquire()
                    .await
                    .map_err(|e| internal(e.to_string()))?;
                let query = std::mem::take(&mut req.query);
                let (query, parsed) = tokio::task::spawn_blocking(move || {
                    let parsed = parse_and_measure(&query, max_names);
                    (query, parsed)
                })
                .await
                .map_err(|e| internal(e.to_string()))?;
                req.query = query;
                parsed
            };
            let parsed = parsed.map_err(|()| bad(too_many_fields(st.app.cfg.max_fields)))?;
            // A syntax error: the executor reports it in the standard shape.
            let Some((doc, figures)) = parsed else {
                return Ok(());
            };
            check_limits(&st.app.cfg, &figures).map_err(bad)?;
            st.queries.insert(&req.query, &doc);
            doc
        }
    };
    let op = chosen_operation(&doc, req.operation_name.as_deref());
    let kind = op.map(|op| op.node.ty);
    if kind == Some(OperationType::Mutation) && transport == Transport::Http(&Method::GET) {
        return Err((
            AppError::BadParams("mutations are not allowed over GET; use POST".into()),
            StatusCode::METHOD_NOT_ALLOWED,
        ));
    }
    if kind == Some(OperationType::Subscription) && transport != Transport::WebSocket {
        return Err(bad(AppError::BadParams(
            "subscriptions are served over WebSocket at /graphql/ws".into(),
        )));
    }
    if kind == Some(OperationType::Subscription) && op.is_some_and(|op| root_not_fields(&op.node)) {
        return Err(bad(AppError::BadParams(
            "a subscription's root selection must be a field, not a fragment".into(),
        )));
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

/// True when an error of `resp` says the database is unavailable; those errors lose their
/// locations (the document is not at fault).
fn mark_unavailable(resp: &mut async_graphql::Response) -> bool {
    let code = AppError::Unavailable.code();
    let mut any = false;
    for e in &mut resp.errors {
        let is = e
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|v| matches!(v, async_graphql::Value::String(s) if s == code));
        if is {
            e.locations.clear();
            any = true;
        }
    }
    any
}

/// A response written without its `data` entry.
struct WithoutData<'r>(&'r async_graphql::Response);

impl serde::Serialize for WithoutData<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("errors", &self.0.errors)?;
        if !self.0.extensions.is_empty() {
            map.serialize_entry("extensions", &self.0.extensions)?;
        }
        map.end()
    }
}

/// A request error (nothing executed: a parse or validation error) has no data and no error
/// with a path.
fn is_request_error(resp: &async_graphql::Response) -> bool {
    resp.data == async_graphql::Value::Null && !resp.errors.is_empty() && resp.errors.iter().all(|e| e.path.is_empty())
}

pub async fn graphql(
    State(st): State<GraphqlState>,
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
        return super::playground::page(uri.path());
    }
    let media = media_type(&headers);
    if method == Method::POST && !graphql_content_type(&headers) {
        let e = AppError::BadParams(
            "POST /graphql takes Content-Type: application/json (or application/graphql, multipart/form-data)".into(),
        );
        let mut res = error_response(e, media);
        *res.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return res;
    }
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
    let viewer = match crate::domain::caller::authenticate(&st.app.db, &st.app.keys, &st.app.cfg, &creds).await {
        Ok(v) => v,
        Err(e) => return error_response(e, media),
    };
    let client = ClientAddr(connect.map(|c| c.0.0.ip()));
    match batch {
        BatchRequest::Single(mut req) => {
            if let Err((e, status)) = admit(&st, &viewer, Transport::Http(&method), &mut req).await {
                let mut res = error_response(e, media);
                *res.status_mut() = status;
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    res.headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("POST"));
                }
                return res;
            }
            let mut resp = execute(&st, viewer, client, req).await;
            let unavailable = mark_unavailable(&mut resp);
            // Under `application/graphql-response+json`, a document that did not parse or
            // validate is a 400 whose body has no `data` entry (nothing ran).
            let request_error = media == GRAPHQL_RESPONSE && is_request_error(&resp);
            let status = if unavailable {
                StatusCode::SERVICE_UNAVAILABLE
            } else if request_error {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            let mut res = match request_error {
                true => json_response(status, media, &WithoutData(&resp)),
                false => json_response(status, media, &resp),
            };
            if unavailable {
                crate::error::retry_later(res.headers_mut());
            }
            res
        }
        BatchRequest::Batch(reqs) => {
            if reqs.len() > st.app.cfg.max_batch {
                let e = AppError::BadParams(format!("a batch may hold at most {} operations", st.app.cfg.max_batch));
                return error_response(e, media);
            }
            let mut out = Vec::with_capacity(reqs.len());
            for mut req in reqs {
                out.push(match admit(&st, &viewer, Transport::Http(&method), &mut req).await {
                    Ok(()) => execute(&st, viewer.clone(), client, req).await,
                    Err((e, _)) => async_graphql::Response::from_errors(vec![request_error(&e)]),
                });
            }
            json_response(StatusCode::OK, media, &BatchResponse::Batch(out))
        }
    }
}

async fn execute(
    st: &GraphqlState,
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

    /// Only documents that passed every limit are kept: a refused one is parsed again (and
    /// refused again) each time, so refused documents cannot fill the cache.
    #[tokio::test]
    async fn only_admitted_documents_are_cached() {
        let mut cfg = crate::Config::for_database("sqlite::memory:");
        cfg.secret = Some("usergraph-unit-test-secret-0123456789".into());
        cfg.data_dir = std::env::temp_dir().join("usergraph-unit-tests");
        let (app, _) = crate::init(cfg).await.unwrap();
        let st = GraphqlState {
            schema: crate::graphql::schema::schema_builder(&app.cfg)
                .data(app.clone())
                .finish(),
            app,
            queries: std::sync::Arc::new(crate::graphql::cache::QueryCache::new(1 << 20)),
        };
        let viewer = Viewer::anonymous();
        let post = Method::POST;
        let admit_text = |q: &str| {
            let mut req = async_graphql::Request::new(q);
            let (st, viewer, post) = (&st, &viewer, &post);
            async move { admit(st, viewer, Transport::Http(post), &mut req).await.is_ok() }
        };
        let fine = "{ __typename }";
        let deep = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        let nul = r#"{ user(username: "\u0000") { id } }"#;
        assert!(admit_text(fine).await);
        assert!(st.queries.get(fine).is_some());
        for refused in [deep, nul] {
            assert!(!admit_text(refused).await, "{refused}");
            assert!(st.queries.get(refused).is_none(), "{refused} was cached");
        }
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
