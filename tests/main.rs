//! One integration-test binary: every test talks HTTP to the real router over a real database.

mod common;

mod graphql_account;
mod graphql_auth;
mod graphql_users;
mod schema_sdl;
