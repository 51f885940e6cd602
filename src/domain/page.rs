//! Listing, once, for both fronts. A front asks for one page ([`PageRequest`]: REST's page
//! numbers, or GraphQL's Relay arguments with their cursors decoded) and gets a [`Listed`]: the
//! items, the total when it was asked for, and the window they came from. Each listing of the
//! domain implements [`Listing`] (how to count, how to read a window) and is read through
//! [`list`]; sizes and offsets are bounded here and nowhere else.

use std::future::Future;

use sea_orm::DatabaseConnection;

use crate::error::{AppError, AppResult};

pub const DEFAULT_SIZE: u64 = 20;
/// Lists are counted up to this many items (GitLab's rule): a longer one is "more than 10,000",
/// and REST leaves out `X-Total`, `X-Total-Pages` and `rel="last"` for it.
pub const MAX_COUNT: u64 = 10_000;
pub const MAX_SIZE: u64 = 100;
/// No list is this long; offsets beyond it are clamped (every backend binds a signed integer).
pub const MAX_OFFSET: u64 = 1 << 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

/// REST's numbered page: `page` (from 1) of `per_page` items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Numbered {
    pub page: u64,
    pub per_page: u64,
}

impl Numbered {
    /// `page` and `per_page` as asked: `page` (default 1) and `per_page` (default 20, capped at
    /// 100); zero and negative values are refused with `<name> does not have a valid value`, as
    /// today's GitLab answers them (9.x took them as the defaults).
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> AppResult<Self> {
        let positive = |name: &str, v: Option<i64>| match v {
            Some(n) if n < 1 => Err(AppError::BadParams(format!("{name} does not have a valid value"))),
            other => Ok(other.map(|n| n as u64)),
        };
        let page = positive("page", page)?.unwrap_or(1);
        let per_page = positive("per_page", per_page)?.map_or(DEFAULT_SIZE, |n| n.min(MAX_SIZE));
        Ok(Numbered { page, per_page })
    }
}

/// One page of a listing, as a front asks for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageRequest {
    /// REST's numbered pages.
    Numbered(Numbered),
    /// GraphQL's Relay arguments; `after` and `before` are offsets of edges already seen.
    Relay {
        first: Option<i32>,
        after: Option<u64>,
        last: Option<i32>,
        before: Option<u64>,
    },
}

impl PageRequest {
    /// True when the window can only be placed knowing the total (`last` without `before`).
    pub fn needs_total(&self) -> bool {
        matches!(
            self,
            PageRequest::Relay {
                first: None,
                last: Some(_),
                before: None,
                ..
            }
        )
    }

    /// The window this page covers, given the total when it is known.
    pub fn window(&self, total: Option<u64>) -> AppResult<Window> {
        match *self {
            PageRequest::Numbered(Numbered { page, per_page }) => Ok(Window {
                offset: (page.max(1) - 1).saturating_mul(per_page).min(MAX_OFFSET),
                limit: per_page,
            }),
            PageRequest::Relay {
                first,
                after,
                last,
                before,
            } => Window::from_relay(first, after, last, before, total),
        }
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// The length of the whole listing, when it was asked for (or needed to place the window).
    pub total: Option<u64>,
    pub window: Window,
    /// Whether items follow this page.
    pub more: bool,
}

impl<T> Listed<T> {
    /// The total when it is exact: known, and not past [`MAX_COUNT`].
    pub fn exact_total(&self) -> Option<u64> {
        self.total.filter(|n| *n <= MAX_COUNT)
    }

    /// The page of `window` from rows read with one more than it holds (which says whether more
    /// follow).
    pub fn from_fetched(mut items: Vec<T>, window: Window, total: Option<u64>) -> Self {
        let more = items.len() as u64 > window.limit;
        items.truncate(window.limit as usize);
        Listed {
            items,
            total,
            window,
            more,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listed<U> {
        Listed {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            window: self.window,
            more: self.more,
        }
    }
}

/// A listing of the domain, after its permission checks: how to count it and how to read a
/// window of it, in its order.
pub trait Listing: Sync {
    type Item: Send;
    /// The number of items, counted up to `up_to` when given (see [`count`]).
    fn count(&self, db: &DatabaseConnection, up_to: Option<u64>) -> impl Future<Output = AppResult<u64>> + Send;
    fn fetch(&self, db: &DatabaseConnection, window: Window)
    -> impl Future<Output = AppResult<Vec<Self::Item>>> + Send;
}

/// How many rows `q` has, counted up to `up_to` when given: the database stops there, so the
/// cost of a count does not grow past it with the table.
pub async fn count<E: sea_orm::EntityTrait>(
    db: &impl sea_orm::ConnectionTrait,
    q: sea_orm::Select<E>,
    up_to: Option<u64>,
) -> AppResult<u64> {
    use sea_orm::sea_query::{Alias, Expr, Query};
    use sea_orm::{QuerySelect, QueryTrait};
    let q = q.select_only().expr(Expr::val(1));
    let bounded = match up_to {
        Some(n) => q.limit(n).into_query(),
        None => q.into_query(),
    };
    let stmt = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(bounded, Alias::new("bounded"))
        .to_owned();
    let row = db.query_one(&stmt).await?;
    let n = match row {
        Some(r) => r.try_get_by_index::<i64>(0)?,
        None => 0,
    };
    Ok(n.max(0) as u64)
}

/// Reads one page of `listing`: the total first when `total` asks for it (counted up to one past
/// [`MAX_COUNT`]) or the page needs it (counted whole), then the window; without an exact total,
/// with one item more, which says whether more follow.
pub async fn list<L: Listing>(
    db: &DatabaseConnection,
    listing: &L,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<L::Item>> {
    let total = if page.needs_total() {
        Some(listing.count(db, None).await?)
    } else if total {
        Some(listing.count(db, Some(MAX_COUNT + 1)).await?)
    } else {
        None
    };
    let window = page.window(total)?;
    match total.filter(|n| *n <= MAX_COUNT) {
        // An exact total says whether more follow: no extra row to read.
        Some(n) => {
            let items = listing.fetch(db, window).await?;
            let more = window.offset.saturating_add(items.len() as u64) < n;
            Ok(Listed {
                items,
                total,
                window,
                more,
            })
        }
        None => {
            let items = listing.fetch(db, window.one_more()).await?;
            Ok(Listed::from_fetched(items, window, total))
        }
    }
}

/// Pages a list already read whole (a user's keys or e-mails, loaded in one batch).
pub fn slice<T>(rows: Vec<T>, page: PageRequest) -> AppResult<Listed<T>> {
    let total = rows.len() as u64;
    let window = page.window(Some(total))?;
    let items: Vec<T> = rows
        .into_iter()
        .skip(window.offset as usize)
        .take(window.limit as usize + 1)
        .collect();
    Ok(Listed::from_fetched(items, window, Some(total)))
}

impl Window {
    /// The same window with one item more (which tells whether more follow).
    pub fn one_more(self) -> Window {
        Window {
            offset: self.offset,
            limit: self.limit + 1,
        }
    }

    /// GraphQL Relay arguments over offset cursors. `after`/`before` are offsets of edges
    /// already seen. `last` without `before` needs the total, given lazily.
    pub fn from_relay(
        first: Option<i32>,
        after: Option<u64>,
        last: Option<i32>,
        before: Option<u64>,
        total: Option<u64>,
    ) -> AppResult<Self> {
        let check = |name: &str, v: Option<i32>| -> AppResult<Option<u64>> {
            match v {
                None => Ok(None),
                Some(n) if n < 0 => Err(AppError::field(name, "must be greater than or equal to 0")),
                Some(n) if n as u64 > MAX_SIZE => Err(AppError::field(
                    name,
                    format!("must be less than or equal to {MAX_SIZE}"),
                )),
                Some(n) => Ok(Some(n as u64)),
            }
        };
        let first = check("first", first)?;
        let last = check("last", last)?;
        if first.is_some() && last.is_some() {
            // Allowed by Relay but "strongly discouraged": the window it means is seldom what
            // the client wanted.
            return Err(AppError::field("last", "cannot be used together with first"));
        }
        let start = after.map(|a| a.saturating_add(1)).unwrap_or(0).min(MAX_OFFSET);
        let mut end = before
            .or(total)
            .unwrap_or(u64::MAX)
            .min(MAX_OFFSET.saturating_add(MAX_SIZE));
        if end < start {
            end = start;
        }
        let (offset, limit) = match (first, last) {
            (Some(f), _) => (start, f.min(end - start)),
            (None, Some(l)) => {
                if before.is_none() && total.is_none() {
                    return Err(AppError::field("last", "needs `before` or a known total"));
                }
                let l = l.min(end - start);
                (end - l, l)
            }
            (None, None) => (start, DEFAULT_SIZE.min(end - start)),
        };
        Ok(Window { offset, limit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_pages_as_gitlab_checks_them() {
        let w = |p, pp| {
            PageRequest::Numbered(Numbered::new(p, pp).unwrap())
                .window(None)
                .unwrap()
        };
        assert_eq!(w(None, None), Window { offset: 0, limit: 20 });
        assert_eq!(w(Some(3), Some(10)), Window { offset: 20, limit: 10 });
        assert_eq!(
            w(Some(3), Some(1000)),
            Window {
                offset: 200,
                limit: 100
            }
        );
        assert_eq!(w(Some(i64::MAX), Some(100)).offset, MAX_OFFSET);
        for (p, pp) in [(Some(0), None), (Some(-1), None), (None, Some(0)), (None, Some(-5))] {
            assert!(Numbered::new(p, pp).is_err());
        }
    }

    #[test]
    fn slices_say_whether_more_follow() {
        let relay = |first, after| PageRequest::Relay {
            first,
            after,
            last: None,
            before: None,
        };
        let l = slice((0..5).collect(), relay(Some(2), Some(1))).unwrap();
        assert_eq!((l.items, l.total, l.more), (vec![2, 3], Some(5), true));
        let l = slice((0..5).collect(), relay(Some(2), Some(2))).unwrap();
        assert_eq!((l.items, l.more), (vec![3, 4], false));
    }

    #[test]
    fn relay_windows() {
        let w = |f, a, l, b, t| Window::from_relay(f, a, l, b, t).unwrap();
        assert_eq!(w(Some(5), None, None, None, None), Window { offset: 0, limit: 5 });
        assert_eq!(w(Some(5), Some(4), None, None, None), Window { offset: 5, limit: 5 });
        assert_eq!(w(None, None, Some(3), Some(10), None), Window { offset: 7, limit: 3 });
        assert_eq!(w(None, None, Some(3), None, Some(8)), Window { offset: 5, limit: 3 });
        assert_eq!(w(None, None, Some(30), None, Some(8)), Window { offset: 0, limit: 8 });
        assert!(
            Window::from_relay(Some(10), None, Some(2), None, None).is_err(),
            "first with last"
        );
        assert!(Window::from_relay(Some(101), None, None, None, None).is_err());
        assert!(Window::from_relay(Some(-1), None, None, None, None).is_err());
        assert!(Window::from_relay(None, None, Some(2), None, None).is_err());
        assert!(w(Some(5), Some(u64::MAX), None, None, None).offset <= MAX_OFFSET);
    }
}
