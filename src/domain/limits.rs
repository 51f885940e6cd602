//! Per-client rate limits. The counters live in the process: they may be lost on restart and are
//! per instance (the per-account lockout after failed passwords is in the database and holds
//! across instances); this limit only slows down password guessing from one address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

const WINDOW: Duration = Duration::from_secs(60);

pub struct SignInLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl SignInLimiter {
    pub fn new(per_minute: u32) -> Self {
        SignInLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt from `client`; 429 with the seconds to wait once the minute's budget
    /// is spent. Unknown addresses share one budget.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        self.check_at(client, Instant::now())
    }

    fn check_at(&self, client: Option<IpAddr>, now: Instant) -> Result<(), AppError> {
        let key = client.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = map.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let wait = WINDOW.saturating_sub(now.duration_since(entry.0)).as_secs().max(1);
            return Err(AppError::TooManyRequests(wait));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_per_address_and_minute() {
        let l = SignInLimiter::new(2);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        let t = Instant::now();
        assert!(l.check_at(a, t).is_ok());
        assert!(l.check_at(a, t).is_ok());
        assert!(matches!(l.check_at(a, t), Err(AppError::TooManyRequests(60))));
        assert!(l.check_at(b, t).is_ok(), "another address has its own budget");
        assert!(l.check_at(a, t + WINDOW).is_ok(), "a new minute, a new budget");
    }
}
