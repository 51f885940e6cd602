use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// A timestamp column with millisecond precision on every backend. sea-query's
/// `timestamp_with_time_zone` becomes a second-precision `timestamp` on MySQL/MariaDB (with the
/// 2038 limit), so MySQL gets an explicit `DATETIME(3)` holding UTC.
pub fn timestamp(backend: DatabaseBackend, col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    match backend {
        DatabaseBackend::MySql => def.custom(Alias::new("DATETIME(3)")),
        _ => def.timestamp_with_time_zone(),
    };
    def
}

pub fn string(col: impl IntoIden, len: u32) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.string_len(len).not_null();
    def
}

pub fn pk(col: impl IntoIden) -> ColumnDef {
    let mut def = ColumnDef::new(col);
    def.integer().not_null().auto_increment().primary_key();
    def
}

pub fn user_fk(table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Alias::new("users"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}
