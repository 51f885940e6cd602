//! Schema migrations of usergraph, runnable from the server (`usergraph migrate`) and on their
//! own (`cargo run -p migration -- up`).

pub use sea_orm_migration::prelude::*;

mod m20261130_000001_create_users;
mod m20261130_000002_create_identities;
mod m20261130_000003_create_emails;
mod m20261130_000004_create_ssh_keys;
mod m20261130_000005_create_tokens;
mod m20261130_000006_create_events;
mod m20261130_000007_create_mail;
mod m20261202_000001_seal_mail;
mod m20261203_000001_create_custom_attributes;
mod m20261203_000002_token_rotation;
mod m20261203_000003_public_email;
mod m20261203_000004_profile_fields;
mod m20261203_000005_admin_note;
mod m20261203_000006_create_user_statuses;
mod m20261203_000007_create_user_follows;
mod m20261203_000008_private_profile;
mod m20261203_000009_create_gpg_keys;
mod m20261203_000010_search_trigrams;
mod m20261203_000011_timezone;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261130_000001_create_users::Migration),
            Box::new(m20261130_000002_create_identities::Migration),
            Box::new(m20261130_000003_create_emails::Migration),
            Box::new(m20261130_000004_create_ssh_keys::Migration),
            Box::new(m20261130_000005_create_tokens::Migration),
            Box::new(m20261130_000006_create_events::Migration),
            Box::new(m20261130_000007_create_mail::Migration),
            Box::new(m20261202_000001_seal_mail::Migration),
            Box::new(m20261203_000001_create_custom_attributes::Migration),
            Box::new(m20261203_000002_token_rotation::Migration),
            Box::new(m20261203_000003_public_email::Migration),
            Box::new(m20261203_000004_profile_fields::Migration),
            Box::new(m20261203_000005_admin_note::Migration),
            Box::new(m20261203_000006_create_user_statuses::Migration),
            Box::new(m20261203_000007_create_user_follows::Migration),
            Box::new(m20261203_000008_private_profile::Migration),
            Box::new(m20261203_000009_create_gpg_keys::Migration),
            Box::new(m20261203_000010_search_trigrams::Migration),
            Box::new(m20261203_000011_timezone::Migration),
        ]
    }
}
