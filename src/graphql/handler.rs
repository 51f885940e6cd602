//! axum glue: authenticate, check the token's scope against the operation, execute.

use async_graphql::dataloader::DataLoader;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ErrorExtensions, Pos};
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};

use super::loaders::DbLoader;
use crate::HttpState;
use crate::auth::{self, Access};
use crate::error::AppError;

fn error_response(e: AppError) -> Response {
    let status = e.status();
    let err = e.extend().into_server_error(Pos::default());
    let resp = async_graphql::Response::from_errors(vec![err]);
    (status, GraphQLResponse::from(resp)).into_response()
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// `GET /graphql` from a browser: the GraphiQL page.
pub fn graphiql(endpoint: &str) -> Response {
    Html(GraphiQLSource::build().endpoint(endpoint).title("usergraph").finish()).into_response()
}

/// The kind of the operation that will run, when the document parses.
fn operation_kind(doc: &async_graphql::parser::types::ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match &doc.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(map) => match name {
            Some(n) => map.get(n).map(|op| op.node.ty),
            None if map.len() == 1 => map.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}

pub async fn graphql(
    State(st): State<HttpState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    req: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    if method == Method::GET
        && st.app.cfg.graphiql
        && wants_html(&headers)
        && uri.query().is_none_or(|q| !q.contains("query="))
    {
        return graphiql(uri.path());
    }
    let req = match req {
        Ok(r) => r,
        Err(e) => {
            return error_response(AppError::BadParams(format!("malformed GraphQL request: {}", e.0)));
        }
    };
    let mut req = req.into_inner();
    let creds = auth::extract::credentials(&headers, &uri);
    let viewer = match auth::authenticate(&st.app.db, &st.app.keys, &creds).await {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    if let Err(e) = st.queries.resolve_persisted(&mut req) {
        return error_response(e);
    }
    if let Some(doc) = st.queries.parse(&req.query) {
        let kind = operation_kind(&doc, req.operation_name.as_deref());
        if kind == Some(OperationType::Mutation) && method == Method::GET {
            let mut res = error_response(AppError::BadParams(
                "mutations are not allowed over GET; use POST".into(),
            ));
            *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            res.headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return res;
        }
        let access = if kind == Some(OperationType::Mutation) {
            Access::Write
        } else {
            Access::Read
        };
        if let Err(e) = viewer.check_access(access) {
            return error_response(e);
        }
        req.set_parsed_query(doc);
    }
    let (spawner, driver) = super::driver::pair();
    let loader = DataLoader::new(DbLoader { db: st.app.db.clone() }, move |task| spawner.spawn(task))
        .delay(std::time::Duration::ZERO);
    let resp = super::driver::run_with(st.schema.execute(req.data(viewer).data(loader)), driver).await;
    GraphQLResponse::from(resp).into_response()
}
