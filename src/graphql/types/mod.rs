pub mod account;
pub mod event;
pub mod user;
