//! GitLab's offset pagination: `page` and `per_page` in, `X-*` and `Link` headers out. The
//! `Link` URLs use the configured external URL and keep every filter of the request, so clients
//! that follow `rel="next"` get every row exactly once.

use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::params::Params;
use crate::domain::page::{Listed, Numbered};
use crate::error::AppError;

/// Headers a browser client may read (CORS), as GitLab exposes them.
pub const EXPOSED_HEADERS: [&str; 8] = [
    "x-total",
    "x-total-pages",
    "x-per-page",
    "x-page",
    "x-next-page",
    "x-prev-page",
    "link",
    "x-request-id",
];

/// `page` and `per_page` as [`Numbered::new`] takes them; non-integers are 400 `page is invalid`.
pub fn page(p: &Params) -> Result<Numbered, AppError> {
    Numbered::new(p.int("page")?, p.int("per_page")?)
}

/// A page of a list as GitLab answers it: the items (`body`), with the pagination headers for
/// `page` of `listed` requested at `uri`.
pub fn paged<T, B: Serialize>(external_url: &str, uri: &Uri, page: Numbered, listed: &Listed<T>, body: B) -> Response {
    let h = headers(external_url, uri, page, listed.exact_total(), listed.more);
    (h, axum::Json(body)).into_response()
}

/// A page of GitLab's keyset pagination: the items, and `Link: <...&cursor=...>; rel="next"`
/// (every other parameter kept) when another page follows; no totals.
pub fn keyset<B: Serialize>(external_url: &str, uri: &Uri, next: Option<&str>, body: B) -> Response {
    let mut h = HeaderMap::new();
    if let Some(cursor) = next {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .filter(|(k, _)| k != "private_token" && k != "access_token" && k != "cursor")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.push(("cursor".into(), cursor.to_string()));
        let qs = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        if let Ok(v) = HeaderValue::from_str(&format!("<{external_url}{}?{qs}>; rel=\"next\"", uri.path())) {
            h.insert("link", v);
        }
    }
    (h, axum::Json(body)).into_response()
}

fn link(base: &str, path: &str, query: &[(String, String)], page: u64, per_page: u64) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .cloned()
        .collect();
    pairs.push(("page".into(), page.to_string()));
    pairs.push(("per_page".into(), per_page.to_string()));
    pairs.sort();
    let qs = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{base}{path}?{qs}")
}

/// The pagination headers for `page` of a list requested at `uri` (the full request URI,
/// `/api/v4/...`), of `total` items when that is known exactly (GitLab leaves `X-Total`,
/// `X-Total-Pages` and `rel="last"` out past 10,000), with `more` items after this page.
/// Credentials in the query are not copied into links.
pub fn headers(external_url: &str, uri: &Uri, page: Numbered, total: Option<u64>, more: bool) -> HeaderMap {
    let total_pages = total.map(|t| t.div_ceil(page.per_page).max(1));
    let query: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k != "private_token" && k != "access_token")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let path = uri.path();
    let mut links = Vec::new();
    if page.page > 1 {
        links.push(format!(
            "<{}>; rel=\"prev\"",
            link(external_url, path, &query, page.page - 1, page.per_page)
        ));
    }
    if more {
        links.push(format!(
            "<{}>; rel=\"next\"",
            link(external_url, path, &query, page.page + 1, page.per_page)
        ));
    }
    links.push(format!(
        "<{}>; rel=\"first\"",
        link(external_url, path, &query, 1, page.per_page)
    ));
    if let Some(last) = total_pages {
        links.push(format!(
            "<{}>; rel=\"last\"",
            link(external_url, path, &query, last, page.per_page)
        ));
    }
    let next = if more {
        (page.page + 1).to_string()
    } else {
        String::new()
    };
    let prev = if page.page > 1 {
        (page.page - 1).to_string()
    } else {
        String::new()
    };
    let mut h = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    if let (Some(total), Some(pages)) = (total, total_pages) {
        set("x-total", total.to_string());
        set("x-total-pages", pages.to_string());
    }
    set("x-per-page", page.per_page.to_string());
    set("x-page", page.page.to_string());
    set("x-next-page", next);
    set("x-prev-page", prev);
    set("link", links.join(", "));
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_for_a_middle_page() {
        let uri: Uri = "/api/v4/users?active=true&per_page=2&page=2&private_token=secret"
            .parse()
            .unwrap();
        let h = headers(
            "https://gl.example",
            &uri,
            Numbered { page: 2, per_page: 2 },
            Some(5),
            true,
        );
        assert_eq!(h["x-total"], "5");
        assert_eq!(h["x-total-pages"], "3");
        assert_eq!(h["x-next-page"], "3");
        assert_eq!(h["x-prev-page"], "1");
        let link = h["link"].to_str().unwrap();
        assert!(link.contains("<https://gl.example/api/v4/users?active=true&page=3&per_page=2>; rel=\"next\""));
        assert!(link.contains("rel=\"prev\"") && link.contains("page=3&per_page=2>; rel=\"last\""));
        assert!(!link.contains("secret"));
    }

    #[test]
    fn past_ten_thousand_no_totals_and_no_last() {
        let uri: Uri = "/api/v4/users?page=3".parse().unwrap();
        let h = headers("http://x", &uri, Numbered { page: 3, per_page: 20 }, None, true);
        assert!(h.get("x-total").is_none() && h.get("x-total-pages").is_none());
        let link = h["link"].to_str().unwrap();
        assert!(link.contains("rel=\"next\"") && link.contains("rel=\"prev\"") && !link.contains("rel=\"last\""));
        assert_eq!(h["x-next-page"], "4");
    }

    #[test]
    fn empty_list_has_one_page() {
        let uri: Uri = "/api/v4/users".parse().unwrap();
        let h = headers("http://x", &uri, Numbered { page: 1, per_page: 20 }, Some(0), false);
        assert_eq!(h["x-total-pages"], "1");
        assert_eq!(h["x-next-page"], "");
        assert!(!h["link"].to_str().unwrap().contains("next"));
    }
}
