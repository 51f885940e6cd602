//! Log set-up. `RUST_LOG` chooses what is written (default `info,sqlx=warn,sea_orm=warn`), as
//! JSON lines or text.
//!
//! A plain list of `target=level` directives (the usual case) is applied by `Targets`, which does
//! nothing when a span is entered or left. `EnvFilter` is used only when the directives need it
//! (span names or fields, like `usergraph[request{request_id=...}]=debug`): it takes a lock and a
//! thread-local on every enter and exit of every span, and the request span is entered each time
//! the request's future is polled (about 3% of the server's CPU on a 100-user page).

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is unset or invalid.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// A filter layer for the directives `spec` (`None`: the default).
pub enum Filter {
    Targets(Box<Targets>),
    Env(Box<EnvFilter>),
}

impl Filter {
    pub fn parse(spec: Option<&str>) -> Filter {
        let spec = spec.map(str::trim).filter(|s| !s.is_empty()).unwrap_or(DEFAULT_FILTER);
        // `Targets` would read `target[span]=level` as `target=level`: span and field directives
        // (the only ones with brackets or braces) go to EnvFilter.
        if !spec.contains(['[', '{'])
            && let Ok(targets) = spec.parse::<Targets>()
        {
            return Filter::Targets(Box::new(targets));
        }
        match EnvFilter::try_new(spec) {
            Ok(env) => Filter::Env(Box::new(env)),
            Err(_) => Filter::Targets(Box::new(DEFAULT_FILTER.parse().expect("the default filter parses"))),
        }
    }

    fn boxed(self) -> Box<dyn Layer<Registry> + Send + Sync> {
        match self {
            Filter::Targets(t) => t,
            Filter::Env(e) => e,
        }
    }
}

/// Whether text lines are coloured: only on a terminal, and never when `NO_COLOR` is set to
/// anything but the empty string (no-color.org). A file or a pipe gets plain text.
pub fn colour(no_color: Option<&std::ffi::OsStr>, terminal: bool) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber: `RUST_LOG`'s filter, lines in `format` on stdout.
pub fn init(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = Filter::parse(std::env::var(EnvFilter::DEFAULT_ENV).ok().as_deref()).boxed();
    let ansi = colour(std::env::var_os("NO_COLOR").as_deref(), std::io::stdout().is_terminal());
    let lines = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer().json().boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_ansi(ansi).boxed(),
    };
    tracing_subscriber::registry().with(filter).with(lines).init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn targets(f: Filter) -> Targets {
        match f {
            Filter::Targets(t) => *t,
            Filter::Env(_) => panic!("expected a Targets filter"),
        }
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour(None, true));
        assert!(colour(Some(OsStr::new("")), true));
        assert!(!colour(Some(OsStr::new("1")), true));
        assert!(!colour(None, false));
    }

    #[test]
    fn plain_directives_are_targets_with_the_same_levels() {
        let t = targets(Filter::parse(None));
        assert!(t.would_enable("usergraph::http", &Level::INFO));
        assert!(!t.would_enable("usergraph::http", &Level::DEBUG));
        assert!(!t.would_enable("sqlx::query", &Level::INFO));
        assert!(t.would_enable("sqlx::query", &Level::WARN));
        assert!(!t.would_enable("sea_orm::driver", &Level::INFO));
        let t = targets(Filter::parse(Some("warn,usergraph=debug")));
        assert!(t.would_enable("usergraph::auth", &Level::DEBUG));
        assert!(!t.would_enable("tower_http::trace", &Level::INFO));
    }

    #[test]
    fn span_directives_need_env_filter_and_nonsense_falls_back_to_the_default() {
        assert!(matches!(
            Filter::parse(Some("usergraph[request]=debug")),
            Filter::Env(_)
        ));
        assert!(matches!(
            Filter::parse(Some("info,[{request_id}]=trace")),
            Filter::Env(_)
        ));
        let t = targets(Filter::parse(Some("usergraph=loud,,=")));
        assert!(t.would_enable("usergraph::http", &Level::INFO));
        assert!(!t.would_enable("sqlx::query", &Level::INFO));
        assert!(targets(Filter::parse(Some("  "))).would_enable("usergraph", &Level::INFO));
    }
}
