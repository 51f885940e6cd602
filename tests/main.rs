//! One integration-test binary: every test talks HTTP to the real router over a real database.

mod common;

pub mod graphql_account;
mod graphql_auth;
mod graphql_users;
mod perf_statements;
mod rest_account;
mod rest_users;
mod schema_sdl;
