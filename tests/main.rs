//! One integration-test binary: every test talks HTTP to the real router over a real database.

mod common;

mod account_states;
mod admin_tools;
mod authz_matrix;
mod custom_attributes;
mod follows;
mod gpg_keys;
pub mod graphql_account;
mod graphql_auth;
mod graphql_fast;
mod graphql_http;
mod graphql_users;
mod layers;
mod mail;
mod perf_statements;
mod personal_access_tokens;
mod pool;
pub mod process;
mod profile_fields;
mod rest_account;
mod rest_golden;
mod rest_users;
mod schema_sdl;
mod security;
pub mod subscriptions;
mod user_status;
mod users_lists;
