//! The `usergraph` command: serve (default), migrate, schema.

use clap::{Parser, Subcommand};
use sea_orm_migration::MigratorTrait;
use usergraph::config::{Config, LogFormat};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "usergraph",
    version,
    about = "GraphQL server for a GitLab-style user domain, with GitLab's /api/v4 REST paths"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    Schema,
    /// Create an administrator (prints the password when none is given).
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// At least 8 characters; generated and printed when omitted.
        #[arg(long, env = "USERGRAPH_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Create a personal access token for a user (id or username) and print it.
    CreateToken {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Comma-separated: api, read_user, sudo (sudo for admins only).
        #[arg(long, default_value = "api")]
        scopes: String,
        /// Last day the token works (YYYY-MM-DD).
        #[arg(long)]
        expires_at: Option<chrono::NaiveDate>,
    },
    /// Fill the database with realistic users (identities, keys, e-mails, tokens, events).
    Seed {
        /// How many users to add.
        #[arg(long, default_value_t = 1000)]
        users: usize,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum MigrateAction {
    /// Apply pending migrations (the default).
    Up,
    /// Roll back the last migration.
    Down,
    /// List applied and pending migrations.
    Status,
    /// Drop everything and migrate from scratch.
    Fresh,
}

/// The server settings each command other than `serve` reads, by group (its `--help` lists only
/// these; the others are still accepted and ignored, so one environment serves every command).
const COMMAND_SETTINGS: &[(&str, &[&[&str]])] = &[
    ("migrate", &[DATABASE]),
    ("schema", &[]),
    ("create-admin", &[DATABASE, STORE]),
    ("create-token", &[DATABASE, STORE]),
    ("seed", &[DATABASE, STORE]),
];

/// What reaching the database takes.
const DATABASE: &[&str] = &[
    "database_url",
    "data_dir",
    "db_max_connections",
    "db_acquire_timeout_ms",
    "slow_query_ms",
    "log_format",
];

/// What opening the store takes besides: migrations, the server secret and root's token.
const STORE: &[&str] = &["auto_migrate", "secret", "root_token"];

/// The help of a subcommand asked for (`usergraph seed --help`, `usergraph help seed`), cut to
/// the settings it reads; `None` when no such help is asked for.
fn scoped_help(args: &[String]) -> Option<clap::Command> {
    use clap::CommandFactory;
    let asked = args.iter().any(|a| a == "--help" || a == "-h") || args.get(1).is_some_and(|a| a == "help");
    if !asked {
        return None;
    }
    // The subcommand: the first word that is neither an option nor an option's value.
    let top = Cli::command();
    let takes_value = |flag: &str| {
        top.get_arguments()
            .any(|a| a.get_long() == Some(flag) && a.get_action().takes_values())
    };
    let mut words = args.iter().skip(1).filter(|a| a.as_str() != "help");
    let name = loop {
        let word = words.next()?;
        match word.strip_prefix("--") {
            Some(flag) if !flag.contains('=') && takes_value(flag) => {
                words.next();
            }
            Some(_) => {}
            None if word.starts_with('-') => {}
            None => break word,
        }
    };
    let (name, shown) = COMMAND_SETTINGS.iter().find(|(n, _)| n == name)?;
    let mut cmd = Cli::command();
    // Propagates the global settings into every subcommand, where they can then be hidden.
    cmd.build();
    let mut sub = cmd.find_subcommand(name)?.clone();
    let settings: Vec<String> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().to_string())
        .collect();
    for id in settings
        .iter()
        .filter(|id| !shown.iter().any(|group| group.contains(&id.as_str())))
    {
        if sub.get_arguments().any(|a| a.get_id() == id.as_str()) {
            sub = sub.mut_arg(id.as_str(), |a| a.hide(true));
        }
    }
    Some(sub)
}

fn init_tracing(format: LogFormat) {
    usergraph::logging::init(format);
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(mut help) = scoped_help(&args) {
        help.print_help()?;
        return Ok(());
    }
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", usergraph::graphql::schema::sdl());
            Ok(())
        }
        Command::Migrate { action } => {
            init_tracing(cli.config.log_format);
            let db = usergraph::connect(&cli.config).await?;
            match action.unwrap_or(MigrateAction::Up) {
                MigrateAction::Up => migration::Migrator::up(&db, None).await?,
                MigrateAction::Down => migration::Migrator::down(&db, Some(1)).await?,
                MigrateAction::Status => migration::Migrator::status(&db).await?,
                MigrateAction::Fresh => migration::Migrator::fresh(&db).await?,
            }
            Ok(())
        }
        Command::Seed { users } => {
            init_tracing(cli.config.log_format);
            let (state, root_token) = usergraph::init(cli.config).await?;
            if let Some(token) = root_token {
                println!("Created the administrator `root`. Its API token (shown only now): {token}");
            }
            // A rate line on a terminal, rewritten in place; nothing in a log or a pipe.
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let started = std::time::Instant::now();
            let mut progress = |done: usize| {
                if terminal {
                    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
                    eprint!("\rseeding: {done}/{users} users ({rate:.0} users/s)");
                }
            };
            let s = usergraph::seed::run_with_progress(&state.db, &state.keys, users, &mut progress).await?;
            if terminal {
                eprintln!();
            }
            println!("Seeded {} users ({} rows) in {:.2} s.", s.users, s.rows, s.seconds);
            Ok(())
        }
        Command::CreateAdmin {
            username,
            email,
            name,
            password,
        } => {
            init_tracing(cli.config.log_format);
            let (state, _) = usergraph::init(cli.config).await?;
            let given = password.is_some();
            let shown = username.clone();
            let (id, password) = usergraph::cli::create_admin(&state, username, email, name, password).await?;
            println!("Created administrator {shown} (id {id}).");
            if !given {
                println!("Password (shown only now): {password}");
            }
            Ok(())
        }
        Command::CreateToken {
            user,
            name,
            scopes,
            expires_at,
        } => {
            init_tracing(cli.config.log_format);
            let (state, _) = usergraph::init(cli.config).await?;
            let scopes = scopes
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            let value = usergraph::cli::create_token(&state, &user, name, scopes, expires_at).await?;
            println!("{value}");
            Ok(())
        }
        Command::Serve => serve(cli.config).await,
    }
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    init_tracing(cfg.log_format);
    let bind = cfg.bind;
    let external = cfg.external_url();
    tracing::info!(database = %usergraph::config::redact_url(&cfg.database_url()), "starting");
    let (state, root_token) = usergraph::init(cfg).await?;
    // Delivers queued mail (SMTP, or .eml files in the mail folder; the log says which).
    let mail = usergraph::mail::start(&state)?;
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    if let Some(token) = root_token {
        // Shown once, on the first start of an empty database; it is stored only as a digest.
        println!("\nCreated the administrator `root`. Its API token (shown only now):\n\n    {token}\n");
        println!("Try:  curl -s {external}/graphql -H 'Authorization: Bearer {token}' \\");
        println!(
            "        -H 'Content-Type: application/json' -d '{{\"query\":\"{{ currentUser {{ username isAdmin }} }}\"}}'\n"
        );
    }
    tracing::info!(%addr, "listening; GraphQL at /graphql, REST at /api/v4");
    let db = state.db.clone();
    let limits = usergraph::server::Limits::from_config(&state.cfg);
    usergraph::server::serve(listener, usergraph::app(state), limits, shutdown_signal()).await?;
    mail.shutdown().await;
    if let Err(e) = db.close().await {
        tracing::warn!(error = %e, "closing the database pool");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
