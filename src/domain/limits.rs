//! Per-client rate limits. The counters live in the process: they may be lost on restart and are
//! per instance (the per-account lockout after failed passwords is in the database and holds
//! across instances); this limit only slows down password guessing from one address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::AppError;

const WINDOW: Duration = Duration::from_secs(60);

/// Passwords of one login checked at the same time, at most (per instance).
pub const CONCURRENT_CHECKS_PER_LOGIN: u32 = 2;

pub struct SignInLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// Login (lowercased) -> sign-ins of it running now.
    checking: Mutex<HashMap<String, u32>>,
}

/// One sign-in of a login running; its place is given back when dropped.
pub struct Checking<'a> {
    limiter: &'a SignInLimiter,
    login: String,
}

impl Drop for Checking<'_> {
    fn drop(&mut self) {
        let mut map = self.limiter.checking.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.login) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.login);
            }
        }
    }
}

impl SignInLimiter {
    pub fn new(per_minute: u32) -> Self {
        SignInLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
            checking: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more sign-in of `login`, known or not (the answer must not tell them
    /// apart): 429 while [`CONCURRENT_CHECKS_PER_LOGIN`] of them run.
    pub fn enter_login(&self, login: &str) -> Result<Checking<'_>, AppError> {
        let mut map = self.checking.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(login.to_string()).or_insert(0);
        if *n >= CONCURRENT_CHECKS_PER_LOGIN {
            return Err(AppError::TooManyRequests(1));
        }
        *n += 1;
        Ok(Checking {
            limiter: self,
            login: login.to_string(),
        })
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
