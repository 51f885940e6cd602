//! The connection pool tests a connection before use only when it has been idle for a second
//! (src/lib.rs `connect`); connections the server dropped while idle must not fail requests.
//! SQLite allocates from mimalloc and keeps no statistics (src/sqlite_mem.rs).

use std::time::Duration;

use futures_util::future::join_all;
use sea_orm::ConnectionTrait;

use crate::common::{Backend, each_backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_dropped_by_the_server_while_idle_are_replaced() {
    each_backend(|app| async move {
        if app.backend != Backend::Postgres {
            return; // Only PostgreSQL can drop a client's connections from the server side.
        }
        let admin = app.admin().to_string();
        // Several connections in the pool.
        let warm = join_all((0..8).map(|_| app.get("/api/v4/users/1", Some(&admin)))).await;
        assert!(warm.iter().all(|r| r.status == 200));
        app.db()
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1200)).await;
        for _ in 0..3 {
            let res = join_all((0..8).map(|_| app.get("/api/v4/users/1", Some(&admin)))).await;
            for r in res {
                assert_eq!(r.status, 200, "{}", r.body);
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_runs_on_the_process_allocator_without_statistics() {
    each_backend(|app| async move {
        if app.backend != Backend::Sqlite {
            return;
        }
        // The first SQLite connection of this process was opened by `connect`, after the set-up.
        assert!(usergraph::sqlite_mem::configure(), "SQLite kept its own allocator");
        let admin = app.admin().to_string();
        let res = app.get("/api/v4/users?per_page=100", Some(&admin)).await;
        assert_eq!(res.status, 200);
        // Without statistics SQLite reports no memory in use, whatever it allocated.
        // SAFETY: a plain query of SQLite's counters.
        assert_eq!(unsafe { libsqlite3_sys::sqlite3_memory_used() }, 0);
    })
    .await;
}
