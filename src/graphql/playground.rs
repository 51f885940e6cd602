//! The GraphiQL page on `GET /graphql` (and GitLab's `/api/graphql`) for browsers, served whole
//! by the server: GraphiQL, React and graphql-ws are embedded at build time (pinned versions,
//! `assets/graphiql/`, refreshed by a person with `assets/graphiql/update.sh`; THIRD-PARTY.md),
//! so the page works with no internet access and loads nothing from another host. Its
//! Content-Security-Policy allows the server itself only.
//!
//! Assets are served under `/-/graphiql/<content hash>/<file>`: a new build with a changed file
//! has a new address, so they are cached for a year (`immutable`), and gzipped for clients that
//! take it (compressed once, on first request).

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// Where the assets are served.
pub const ASSET_ROOT: &str = "/-/graphiql";

/// The page's policy: scripts, styles, connections (HTTP and WebSocket) from this server only;
/// fonts and images also as `data:` URLs (GraphiQL's stylesheet carries its fonts inline).
/// Inline styles are allowed for the style attributes GraphiQL's editor sets; inline scripts are
/// not.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $ty:expr) => {
        Asset {
            name: $name,
            content_type: $ty,
            body: include_bytes!(concat!("../../assets/graphiql/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// In the order the page loads them.
static ASSETS: [Asset; 6] = [
    asset!("graphiql-3.9.0.min.css", "text/css; charset=utf-8"),
    asset!("react-18.3.1.production.min.js", JS),
    asset!("react-dom-18.3.1.production.min.js", JS),
    asset!("graphiql-3.9.0.min.js", JS),
    asset!("graphql-ws-5.16.2.min.js", JS),
    asset!("playground.js", JS),
];

/// An asset as served: its address's hash and, once asked for, its gzipped body.
struct Served {
    hash: String,
    gzipped: OnceLock<Vec<u8>>,
}

fn served() -> &'static [Served] {
    static SERVED: OnceLock<Vec<Served>> = OnceLock::new();
    SERVED.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| Served {
                hash: hex::encode(&Sha256::digest(a.body)[..8]),
                gzipped: OnceLock::new(),
            })
            .collect()
    })
}

fn url(i: usize) -> String {
    format!("{ASSET_ROOT}/{}/{}", served()[i].hash, ASSETS[i].name)
}

/// Text for an HTML attribute value in double quotes.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The page for the GraphQL endpoint at `endpoint` (subscriptions at `<endpoint>/ws`).
pub fn page(endpoint: &str) -> Response {
    let mut head = String::new();
    let mut body = String::new();
    for (i, a) in ASSETS.iter().enumerate() {
        match a.name.ends_with(".css") {
            true => head.push_str(&format!("    <link rel=\"stylesheet\" href=\"{}\">\n", url(i))),
            false => body.push_str(&format!("    <script src=\"{}\"></script>\n", url(i))),
        }
    }
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n    \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n    \
         <meta name=\"robots\" content=\"noindex\">\n    <link rel=\"icon\" href=\"data:,\">\n    <title>usergraph · GraphiQL</title>\n{head}  </head>\n  \
         <body style=\"margin: 0\">\n    <div id=\"graphiql\" style=\"height: 100vh\" data-endpoint=\"{}\" \
         data-subscriptions=\"{}\">Loading GraphiQL…</div>\n{body}  </body>\n</html>\n",
        attr(endpoint),
        attr(&format!("{endpoint}/ws")),
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        html,
    )
        .into_response()
}

fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

fn takes_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.trim().split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| p.trim().trim_start_matches("q=").parse::<f32>() == Ok(0.0));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// `GET /-/graphiql/{hash}/{file}`: an asset, at the address of its current content only; 404
/// otherwise, and while the page is turned off (`--graphiql false`).
pub async fn asset(
    State(st): State<AppState>,
    Path((hash, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let found = ASSETS
        .iter()
        .position(|a| a.name == name)
        .filter(|&i| served()[i].hash == hash);
    let Some(i) = found.filter(|_| st.cfg.graphiql) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "404 Not Found",
        )
            .into_response();
    };
    let a = &ASSETS[i];
    let mut res = match takes_gzip(&headers) {
        true => {
            let body = served()[i].gzipped.get_or_init(|| gzip(a.body)).clone();
            let mut res = body.into_response();
            res.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            res
        }
        false => a.body.into_response(),
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_unless_refused() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            takes_gzip(&m)
        };
        assert!(h("gzip, deflate, br"));
        assert!(h("br;q=1.0, GZIP;q=0.5"));
        assert!(!h("gzip;q=0, br"));
        assert!(!h("br, identity"));
        assert!(!takes_gzip(&HeaderMap::new()));
    }

    #[test]
    fn attribute_text_is_escaped() {
        assert_eq!(attr("/a\"><script>"), "/a&quot;&gt;&lt;script&gt;");
    }
}
