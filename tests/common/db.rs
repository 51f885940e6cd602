//! One database per test: an SQLite file in the temp directory, or a fresh database on the
//! PostgreSQL / MariaDB server named by the environment. Dropped when the test ends.

use sea_orm::{ConnectionTrait, Database};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    name: String,
    admin_url: Option<String>,
}

fn random_name() -> String {
    format!("ug_{}", usergraph::auth::token::generate("").to_lowercase())
}

/// `scheme://user@host:port/db?params` -> (`scheme://user@host:port`, `?params` or "").
fn split_server(url: &str) -> (String, String) {
    let (main, params) = match url.split_once('?') {
        Some((m, p)) => (m.to_string(), format!("?{p}")),
        None => (url.to_string(), String::new()),
    };
    let after_scheme = main.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match main[after_scheme..].find('/') {
        Some(i) => main[..after_scheme + i].to_string(),
        None => main,
    };
    (server, params)
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        let name = random_name();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                TestDb {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    name,
                    admin_url: None,
                }
            }
            Backend::Postgres | Backend::MySql => {
                let var = if backend == Backend::Postgres {
                    "USERGRAPH_TEST_POSTGRES_URL"
                } else {
                    "USERGRAPH_TEST_MYSQL_URL"
                };
                let admin_url = std::env::var(var).expect("backend URL");
                let admin = Database::connect(&admin_url).await.expect("connect to the test server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                admin.close().await.ok();
                let (server, params) = split_server(&admin_url);
                TestDb {
                    backend,
                    url: format!("{server}/{name}{params}"),
                    name,
                    admin_url: Some(admin_url),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match (&self.backend, &self.admin_url) {
            (Backend::Sqlite, _) => {
                let base = std::env::temp_dir().join(format!("{}.db", self.name));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", base.display()));
                }
            }
            (b, Some(admin_url)) => {
                let sql = if *b == Backend::Postgres {
                    format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
                } else {
                    format!("DROP DATABASE IF EXISTS {}", self.name)
                };
                let admin_url = admin_url.clone();
                // Drop runs outside any runtime we may block: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin.execute_unprepared(&sql).await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_part() {
        assert_eq!(
            super::split_server("postgres://postgres@127.0.0.1:5432/postgres"),
            ("postgres://postgres@127.0.0.1:5432".into(), String::new())
        );
        assert_eq!(
            super::split_server("mysql://root@127.0.0.1:3306"),
            ("mysql://root@127.0.0.1:3306".into(), String::new())
        );
    }
}
