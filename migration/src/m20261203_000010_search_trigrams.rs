use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns the users list's `search` matches with `LIKE '%term%'`, as the query writes them.
const SEARCHED: [(&str, &str); 3] = [
    ("ix_users_username_trgm", "username_canonical"),
    ("ix_users_name_trgm", "lower(name)"),
    ("ix_users_email_trgm", "email"),
];

/// Trigram indexes for the users list's `search` on PostgreSQL (`pg_trgm`, GIN): a substring
/// match reads the index instead of every row. Where the extension cannot be created (no
/// privilege, not installed) the migration still succeeds and search scans, as on SQLite and
/// MariaDB, which have no such index (see the README).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        // This migration runs in a transaction: a refused CREATE EXTENSION must not abort it.
        db.execute_unprepared("SAVEPOINT usergraph_trgm").await?;
        if let Err(e) = db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await {
            db.execute_unprepared("ROLLBACK TO SAVEPOINT usergraph_trgm").await?;
            tracing::warn!(error = %e, "pg_trgm is not available: user search scans the users table");
            return Ok(());
        }
        db.execute_unprepared("RELEASE SAVEPOINT usergraph_trgm").await?;
        for (name, expr) in SEARCHED {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {name} ON users USING gin ({expr} gin_trgm_ops)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        for (name, _) in SEARCHED {
            manager
                .get_connection()
                .execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
