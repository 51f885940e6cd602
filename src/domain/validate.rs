//! Validation rules as GitLab words them. Each check adds messages under the field's name.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::{AppError, FieldErrors};

pub const USERNAME_FORMAT: &str =
    "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or end in '.', '.git' or '.atom'.";

static USERNAME_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\A(?:[a-zA-Z0-9_.][a-zA-Z0-9_\-.]*[a-zA-Z0-9_\-]|[a-zA-Z0-9_])\z").expect("valid regex")
});
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\A[^@\s]+@[^@\s]+\z").expect("valid regex"));

/// Top-level paths a namespace may not take (GitLab 9.x's lists, merged).
const RESERVED: &[&str] = &[
    "-",
    ".well-known",
    "404.html",
    "422.html",
    "500.html",
    "502.html",
    "503.html",
    "abuse_reports",
    "admin",
    "all",
    "api",
    "apple-touch-icon-precomposed.png",
    "apple-touch-icon.png",
    "assets",
    "autocomplete",
    "ci",
    "dashboard",
    "deploy.html",
    "explore",
    "favicon.ico",
    "files",
    "groups",
    "health_check",
    "help",
    "hooks",
    "import",
    "invites",
    "issues",
    "jwt",
    "login",
    "merge_requests",
    "new",
    "notes",
    "notification_settings",
    "oauth",
    "profile",
    "projects",
    "public",
    "repository",
    "robots.txt",
    "s",
    "search",
    "sent_notifications",
    "services",
    "slash-command-logo.png",
    "snippets",
    "teams",
    "u",
    "unicorn_test",
    "unsubscribes",
    "uploads",
    "users",
    "v2",
];

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;

/// Collects field errors in one pass.
#[derive(Default, Debug)]
pub struct Errors(pub FieldErrors);

impl Errors {
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.0.entry(field.to_string()).or_default().push(msg.into());
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }

    pub fn username(&mut self, v: &str) {
        let len = v.chars().count();
        if len < 2 {
            self.add("username", "is too short (minimum is 2 characters)");
        } else if len > 255 {
            self.add("username", "is too long (maximum is 255 characters)");
        }
        let lower = v.to_ascii_lowercase();
        if !USERNAME_RE.is_match(v) || lower.ends_with(".git") || lower.ends_with(".atom") {
            self.add("username", USERNAME_FORMAT);
        }
        if RESERVED.contains(&lower.as_str()) {
            self.add("username", format!("{v} is a reserved name"));
        }
    }

    pub fn email(&mut self, field: &str, v: &str) {
        if v.is_empty() {
            self.add(field, "can't be blank");
        } else if !EMAIL_RE.is_match(v) || v.chars().any(char::is_control) {
            self.add(field, "is invalid");
        } else if v.chars().count() > 255 {
            self.add(field, "is too long (maximum is 255 characters)");
        }
    }

    pub fn name(&mut self, v: &str) {
        if v.trim().is_empty() {
            self.add("name", "can't be blank");
        }
        self.max_len("name", v, 255);
        self.single_line("name", v);
    }

    /// A one-line text (a name, a title): no line breaks, tabs or other control characters,
    /// which would forge lines in logs, mail headers and terminals.
    pub fn single_line(&mut self, field: &str, v: &str) {
        if v.chars().any(char::is_control) {
            self.add(field, "cannot contain control characters such as line breaks");
        }
    }

    /// A URL a client may render as a link: http or https only (no `javascript:`, `data:`).
    pub fn web_url(&mut self, field: &str, v: &str) {
        let t = v.trim();
        if t.is_empty() {
            return;
        }
        let lower = t.to_ascii_lowercase();
        let scheme_ok = lower.starts_with("http://") || lower.starts_with("https://");
        // A bare host ("example.com") is taken as GitLab takes it; anything with another
        // scheme or with control characters is refused.
        let has_other_scheme = !scheme_ok
            && lower
                .split_once(':')
                .is_some_and(|(s, _)| !s.contains('.') && !s.contains('/'));
        if has_other_scheme || t.chars().any(char::is_control) || t.chars().any(char::is_whitespace) {
            self.add(field, "is not a valid URL (http or https only)");
        }
    }

    pub fn password(&mut self, v: &str) {
        let len = v.chars().count();
        if len < MIN_PASSWORD {
            self.add(
                "password",
                format!("is too short (minimum is {MIN_PASSWORD} characters)"),
            );
        } else if len > MAX_PASSWORD {
            self.add(
                "password",
                format!("is too long (maximum is {MAX_PASSWORD} characters)"),
            );
        }
    }

    pub fn max_len(&mut self, field: &str, v: &str, max: usize) {
        if v.chars().count() > max {
            self.add(field, format!("is too long (maximum is {max} characters)"));
        }
    }

    /// A count that must fit a 32-bit column and not be negative.
    pub fn non_negative_i32(&mut self, field: &str, v: i64) {
        if v < 0 {
            self.add(field, "must be greater than or equal to 0");
        } else if v > i32::MAX as i64 {
            self.add(field, format!("must be less than or equal to {}", i32::MAX));
        }
    }
}

/// The first text in `v` (a parameter map, a GraphQL variable) that holds a NUL character, as the
/// path of its key; NUL is refused in every text input (PostgreSQL cannot store it, and no field
/// of a user means anything with it).
pub fn nul_in(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items.iter().find_map(nul_in),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(k.replace('\0', "\\0"));
            }
            nul_in(v).map(|rest| {
                if rest.is_empty() {
                    k.clone()
                } else {
                    format!("{k}.{rest}")
                }
            })
        }),
        _ => None,
    }
}

/// The refusal of a text input holding NUL, naming where it was when known.
pub fn nul_refused(at: Option<&str>) -> AppError {
    match at.filter(|a| !a.is_empty()) {
        Some(at) => AppError::BadParams(format!("{at} contains a NUL character")),
        None => AppError::BadParams("a text input contains a NUL character".into()),
    }
}

/// Refuses the parameters `map` when a text in them holds NUL.
pub fn refuse_nul(map: &serde_json::Map<String, serde_json::Value>) -> Result<(), AppError> {
    for (k, v) in map {
        if k.contains('\0') {
            return Err(nul_refused(None));
        }
        if let Some(rest) = nul_in(v) {
            let at = if rest.is_empty() {
                k.clone()
            } else {
                format!("{k}.{rest}")
            };
            return Err(nul_refused(Some(&at)));
        }
    }
    Ok(())
}

/// Emails are stored trimmed and lower-cased, as GitLab does.
pub fn normalize_email(v: &str) -> String {
    v.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn username_errors(v: &str) -> Vec<String> {
        let mut e = Errors::default();
        e.username(v);
        e.0.remove("username").unwrap_or_default()
    }

    #[test]
    fn usernames() {
        for ok in ["john_smith", ".dot", "a-b", "x1", "_a", "A.b-c_"] {
            assert!(username_errors(ok).is_empty(), "{ok} should be valid");
        }
        for bad in ["test!", "-lead", "trail.", "name.git", "name.ATOM", "sp ace", "ünï"] {
            assert!(
                username_errors(bad).contains(&USERNAME_FORMAT.to_string()),
                "{bad} should be invalid"
            );
        }
        assert_eq!(username_errors("admin"), vec!["admin is a reserved name"]);
        assert_eq!(username_errors("Users"), vec!["Users is a reserved name"]);
        assert_eq!(username_errors("a"), vec!["is too short (minimum is 2 characters)"]);
    }

    #[test]
    fn emails_and_passwords() {
        let mut e = Errors::default();
        e.email("email", "invalid email");
        e.email("email", "a@b");
        e.email("control", "a\u{0}b@example.com");
        assert_eq!(e.0["control"], vec!["is invalid"]);
        e.password("short");
        e.non_negative_i32("limit", -1);
        assert_eq!(e.0["email"], vec!["is invalid"]);
        assert_eq!(e.0["password"], vec!["is too short (minimum is 8 characters)"]);
        assert_eq!(e.0["limit"], vec!["must be greater than or equal to 0"]);
        assert_eq!(normalize_email("  Foo@Example.COM "), "foo@example.com");
    }
}
