//! Relay connections over the domain's offset windows, shared by every list field.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, ObjectType, OutputType, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use crate::domain::page::Window;
use crate::error::{AppError, AppResult};

/// An opaque cursor holding the offset of an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetCursor(pub u64);

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
        let n = text.strip_prefix("offset:").ok_or_else(bad)?;
        n.parse().map(OffsetCursor).map_err(|_| bad())
    }

    fn encode_cursor(&self) -> String {
        B64.encode(format!("offset:{}", self.0))
    }
}

/// The four Relay arguments.
#[derive(Clone, Debug, Default)]
pub struct Relay {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl Relay {
    pub fn new(first: Option<i32>, after: Option<String>, last: Option<i32>, before: Option<String>) -> Self {
        Relay {
            first,
            after,
            last,
            before,
        }
    }

    fn decode(field: &str, c: &Option<String>) -> AppResult<Option<u64>> {
        c.as_deref()
            .map(|s| {
                OffsetCursor::decode_cursor(s)
                    .map(|c| c.0)
                    .map_err(|_| AppError::field(field, "is not a valid cursor"))
            })
            .transpose()
    }

    /// True when the window can only be placed knowing the total (`last` without `before`).
    pub fn needs_total(&self) -> bool {
        self.last.is_some() && self.first.is_none() && self.before.is_none()
    }

    pub fn window(&self, total: Option<u64>) -> AppResult<Window> {
        let after = Self::decode("after", &self.after)?;
        let before = Self::decode("before", &self.before)?;
        Window::from_relay(self.first, after, self.last, before, total)
    }

    /// Builds the connection from rows fetched with `limit + 1` (the extra row tells whether a
    /// next page exists).
    pub fn connection<N: OutputType, E: ObjectType>(
        &self,
        window: Window,
        mut rows: Vec<N>,
        extra: E,
    ) -> Connection<OffsetCursor, N, E> {
        let more = rows.len() as u64 > window.limit;
        rows.truncate(window.limit as usize);
        let has_next = more || self.before.is_some();
        let mut c = Connection::with_additional_fields(window.offset > 0, has_next, extra);
        c.edges.extend(
            rows.into_iter()
                .enumerate()
                .map(|(i, n)| Edge::new(OffsetCursor(window.offset + i as u64), n)),
        );
        c
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

/// The `totalCount` of a connection. Fields that count in the database do so only when the
/// query selects `totalCount` (see [`wants_total`]).
#[derive(SimpleObject, Clone, Copy, Debug, Default)]
pub struct Counted {
    /// Number of items in the whole list.
    pub total_count: u64,
}

/// A connection with `totalCount`.
pub type Counting<N> = Connection<OffsetCursor, N, Counted>;

/// Does the current connection field select `totalCount`?
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

impl Relay {
    /// Pages a list already in memory (a user's keys or e-mails, loaded in one batch).
    pub fn slice<N: OutputType>(&self, rows: Vec<N>) -> AppResult<Counting<N>> {
        let total = rows.len() as u64;
        let window = self.window(Some(total))?;
        let page: Vec<N> = rows
            .into_iter()
            .skip(window.offset as usize)
            .take(window.limit as usize + 1)
            .collect();
        Ok(self.connection(window, page, Counted { total_count: total }))
    }

    /// Pages a list in the database: `fetch` gets a window (with one extra row), `count` runs
    /// only when `totalCount` is selected or the window needs it.
    pub async fn query<N, F, FFut, C, CFut>(&self, ctx: &Context<'_>, fetch: F, count: C) -> AppResult<Counting<N>>
    where
        N: OutputType,
        F: FnOnce(Window) -> FFut,
        FFut: std::future::Future<Output = AppResult<Vec<N>>>,
        C: FnOnce() -> CFut,
        CFut: std::future::Future<Output = AppResult<u64>>,
    {
        let total = if self.needs_total() || wants_total(ctx) {
            Some(count().await?)
        } else {
            None
        };
        let window = self.window(total)?;
        let rows = fetch(Window {
            offset: window.offset,
            limit: window.limit + 1,
        })
        .await?;
        Ok(self.connection(
            window,
            rows,
            Counted {
                total_count: total.unwrap_or_default(),
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = OffsetCursor(42).encode_cursor();
        assert_eq!(OffsetCursor::decode_cursor(&c).unwrap(), OffsetCursor(42));
        assert!(OffsetCursor::decode_cursor("garbage!").is_err());
        assert!(OffsetCursor::decode_cursor(&B64.encode("offset:x")).is_err());
    }
}
