//! Pagination, once, for both fronts: an offset window with a default and a maximum size.
//! GraphQL maps Relay arguments onto it; REST maps `page`/`per_page`.

use crate::error::{AppError, AppResult};

pub const DEFAULT_SIZE: u64 = 20;
pub const MAX_SIZE: u64 = 100;
/// No list is this long; offsets beyond it are clamped (every backend binds a signed integer).
pub const MAX_OFFSET: u64 = 1 << 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
}

/// REST's `page` and `per_page` as asked: `page` (default 1) and `per_page` (default 20, capped at
/// 100); zero and negative values are refused with `<name> does not have a valid value`, as
/// today's GitLab answers them (9.x took them as the defaults).
pub fn page_numbers(page: Option<i64>, per_page: Option<i64>) -> AppResult<(u64, u64)> {
    let positive = |name: &str, v: Option<i64>| match v {
        Some(n) if n < 1 => Err(AppError::BadParams(format!("{name} does not have a valid value"))),
        other => Ok(other.map(|n| n as u64)),
    };
    let page = positive("page", page)?.unwrap_or(1);
    let per_page = positive("per_page", per_page)?.map_or(DEFAULT_SIZE, |n| n.min(MAX_SIZE));
    Ok((page, per_page))
}

impl Window {
    /// REST: `page` (1-based; <= 0 means 1) and `per_page` (default 20, capped at 100, 0 means
    /// the default).
    pub fn from_page(page: Option<i64>, per_page: Option<i64>) -> Self {
        let per = match per_page {
            Some(p) if p > 0 => (p as u64).min(MAX_SIZE),
            _ => DEFAULT_SIZE,
        };
        let page = page.filter(|p| *p > 0).unwrap_or(1) as u64;
        Window {
            offset: (page - 1).saturating_mul(per).min(MAX_OFFSET),
            limit: per,
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
    fn rest_pages() {
        assert_eq!(Window::from_page(None, None), Window { offset: 0, limit: 20 });
        assert_eq!(Window::from_page(Some(3), Some(10)), Window { offset: 20, limit: 10 });
        assert_eq!(Window::from_page(Some(0), Some(1000)), Window { offset: 0, limit: 100 });
        assert_eq!(Window::from_page(Some(-4), Some(0)), Window { offset: 0, limit: 20 });
        assert_eq!(Window::from_page(Some(i64::MAX), Some(100)).offset, MAX_OFFSET);
    }

    #[test]
    fn page_numbers_as_gitlab_checks_them() {
        assert_eq!(page_numbers(None, None).unwrap(), (1, 20));
        assert_eq!(page_numbers(Some(3), Some(1000)).unwrap(), (3, 100));
        for (p, pp) in [(Some(0), None), (Some(-1), None), (None, Some(0)), (None, Some(-5))] {
            assert!(page_numbers(p, pp).is_err());
        }
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
