//! Relay connections over the domain's offset windows, shared by every list field.

use std::borrow::Cow;

use async_graphql::connection::{CursorType, PageInfo};
use async_graphql::{Context, Object, OutputType, TypeName};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::domain::page::{Listed, PageRequest};
use crate::error::{AppError, AppResult};

/// An opaque cursor: the offset of an edge in its list, and which list that is (see
/// [`list_scope`]), so that a cursor of one list, or of one order or filter of it, is refused by
/// another instead of pointing at an unrelated row there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetCursor {
    pub offset: u64,
    pub scope: u32,
}

/// The Relay arguments, which move within a list and so do not tell lists apart.
const RELAY_ARGS: [&str; 4] = ["first", "after", "last", "before"];

/// Which list a connection field is: its name and its other arguments (filters, order), sorted
/// by name, in a 32-bit FNV-1a hash (stable across builds and instances, unlike std's hasher).
pub fn list_scope(ctx: &Context<'_>) -> u32 {
    fn fnv(mut h: u32, bytes: &[u8]) -> u32 {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
        h
    }
    let written = &ctx.item.node;
    let mut h = fnv(0x811c_9dc5, written.name.node.as_bytes());
    // Most connections (a user's keys and e-mails, a page of users) take only Relay arguments:
    // their scope is the name's, with nothing resolved or allocated.
    if written
        .arguments
        .iter()
        .all(|(name, _)| RELAY_ARGS.contains(&name.node.as_str()))
    {
        return h;
    }
    let mut args = ctx.field().arguments().unwrap_or_default();
    args.retain(|(name, _)| !RELAY_ARGS.contains(&name.as_str()));
    args.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in &args {
        h = fnv(h, b"\0");
        h = fnv(h, name.as_bytes());
        h = fnv(h, b"=");
        h = fnv(h, value.to_string().as_bytes());
    }
    h
}

/// A cursor that was not made by this server.
#[derive(Debug)]
pub struct BadCursor;

impl std::fmt::Display for BadCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("is not a valid cursor")
    }
}

impl CursorType for OffsetCursor {
    type Error = BadCursor;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || BadCursor;
        let raw = B64.decode(s).map_err(|_| bad())?;
        let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
        let rest = text.strip_prefix("offset:").ok_or_else(bad)?;
        let (offset, scope) = rest.split_once(':').ok_or_else(bad)?;
        Ok(OffsetCursor {
            offset: offset.parse().map_err(|_| bad())?,
            scope: u32::from_str_radix(scope, 16).map_err(|_| bad())?,
        })
    }

    fn encode_cursor(&self) -> String {
        B64.encode(format!("offset:{}:{:08x}", self.offset, self.scope))
    }
}

/// The four Relay arguments of a connection field, and which list it is.
#[derive(Clone, Debug, Default)]
pub struct Relay {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    /// [`list_scope`] of the field: cursors are made for it and accepted only by it.
    pub scope: u32,
}

impl Relay {
    /// The Relay arguments of the connection field `ctx` resolves.
    pub fn new(
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Relay {
            first,
            after,
            last,
            before,
            scope: list_scope(ctx),
        }
    }

    fn decode(&self, field: &str, c: &Option<String>) -> AppResult<Option<u64>> {
        c.as_deref()
            .map(|s| match OffsetCursor::decode_cursor(s) {
                Ok(c) if c.scope == self.scope => Ok(c.offset),
                Ok(_) => Err(AppError::field(field, "is a cursor of another list or order")),
                Err(_) => Err(AppError::field(field, "is not a valid cursor")),
            })
            .transpose()
    }

    /// The page asked for, cursors decoded.
    pub fn request(&self) -> AppResult<PageRequest> {
        Ok(PageRequest::Relay {
            first: self.first,
            after: self.decode("after", &self.after)?,
            last: self.last,
            before: self.decode("before", &self.before)?,
        })
    }
}

/// Complexity of a connection field: the page size times what one item costs.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = first
        .or(last)
        .unwrap_or(crate::domain::page::DEFAULT_SIZE as i32)
        .clamp(0, 100) as usize;
    n.max(1).saturating_mul(child)
}

/// One page of a list, as a Relay connection with `totalCount`. Our own type rather than
/// async-graphql's, so that connections carry descriptions like every other type.
pub struct Page<N> {
    edges: Vec<PageEdge<N>>,
    has_previous_page: bool,
    has_next_page: bool,
    total_count: u64,
}

/// An item of a page with its cursor.
pub struct PageEdge<N> {
    cursor: OffsetCursor,
    node: N,
}

impl<N: OutputType> TypeName for Page<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

impl<N: OutputType> TypeName for PageEdge<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", N::type_name()).into()
    }
}

/// A page of a list: its items (as `nodes`, or as `edges` with cursors), where it stands in the
/// list (`pageInfo`), and how long the whole list is (`totalCount`).
#[Object(name_type)]
impl<N: OutputType> Page<N> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        self.info()
    }

    /// The items of this page with their cursors.
    async fn edges(&self) -> &[PageEdge<N>] {
        &self.edges
    }

    /// The items of this page.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    /// Number of items in the whole list, counted only when asked for and up to 10,000: a longer
    /// list reads 10,001 (GitLab's REST API likewise leaves its totals out past 10,000).
    async fn total_count(&self) -> u64 {
        self.count()
    }
}

/// An item of a page with the cursor that points at it.
#[Object(name_type)]
impl<N: OutputType> PageEdge<N> {
    /// Pass it as `after` or `before` to page from here.
    async fn cursor(&self) -> String {
        self.cursor.encode_cursor()
    }

    /// The item.
    async fn node(&self) -> &N {
        &self.node
    }
}

impl<N> Page<N> {
    /// `totalCount`.
    pub(crate) fn count(&self) -> u64 {
        self.total_count
    }

    /// The items with their cursors, in order (a cursor is encoded only where it is shown).
    pub(crate) fn items(&self) -> impl Iterator<Item = (OffsetCursor, &N)> {
        self.edges.iter().map(|e| (e.cursor, &e.node))
    }

    /// `pageInfo`.
    pub(crate) fn info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: self.has_previous_page,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|e| e.cursor.encode_cursor()),
            end_cursor: self.edges.last().map(|e| e.cursor.encode_cursor()),
        }
    }
}

/// A connection with `totalCount`.
pub type Counting<N> = Page<N>;

/// Does the current connection field select `totalCount`?
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

impl Relay {
    /// The connection of one page of a listing.
    pub fn page<N>(&self, listed: Listed<N>) -> Page<N> {
        let offset = listed.window.offset;
        Page {
            has_previous_page: offset > 0,
            has_next_page: listed.more || self.before.is_some(),
            total_count: listed.total.unwrap_or_default(),
            edges: listed
                .items
                .into_iter()
                .enumerate()
                .map(|(i, node)| PageEdge {
                    cursor: OffsetCursor {
                        offset: offset + i as u64,
                        scope: self.scope,
                    },
                    node,
                })
                .collect(),
        }
    }

    /// Pages a list already in memory (a user's keys or e-mails, loaded in one batch).
    pub fn slice<N>(&self, rows: Vec<N>) -> AppResult<Page<N>> {
        Ok(self.page(crate::domain::page::slice(rows, self.request()?)?))
    }

    /// Pages a list read through batch loaders: `fetch` gets a window (with one extra row),
    /// `count` runs only when `totalCount` is selected or the window needs it.
    pub async fn query<N, F, FFut, C, CFut>(&self, ctx: &Context<'_>, fetch: F, count: C) -> AppResult<Page<N>>
    where
        N: OutputType,
        F: FnOnce(crate::domain::page::Window) -> FFut,
        FFut: std::future::Future<Output = AppResult<Vec<N>>>,
        C: FnOnce() -> CFut,
        CFut: std::future::Future<Output = AppResult<u64>>,
    {
        let request = self.request()?;
        let total = match request.needs_total() || wants_total(ctx) {
            true => Some(count().await?),
            false => None,
        };
        let window = request.window(total)?;
        let rows = fetch(window.one_more()).await?;
        Ok(self.page(Listed::from_fetched(rows, window, total)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let cursor = OffsetCursor {
            offset: 42,
            scope: 0xdead_beef,
        };
        let c = cursor.encode_cursor();
        assert_eq!(OffsetCursor::decode_cursor(&c).unwrap(), cursor);
        assert!(OffsetCursor::decode_cursor("garbage!").is_err());
        assert!(OffsetCursor::decode_cursor(&B64.encode("offset:x")).is_err());
        assert!(
            OffsetCursor::decode_cursor(&B64.encode("offset:42")).is_err(),
            "a cursor names its list"
        );
    }
}
