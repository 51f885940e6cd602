pub mod account;
pub mod change;
pub mod event;
pub mod user;
