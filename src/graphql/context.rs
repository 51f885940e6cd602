//! Typed access to per-request and shared data in resolvers.

use std::net::IpAddr;

use async_graphql::ContextBase;

use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub trait CtxExt {
    fn viewer(&self) -> AppResult<&Viewer>;
    fn state(&self) -> AppResult<&AppState>;
}

impl<T> CtxExt for ContextBase<'_, T> {
    fn viewer(&self) -> AppResult<&Viewer> {
        self.data::<Viewer>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("no viewer in the GraphQL context")))
    }

    fn state(&self) -> AppResult<&AppState> {
        self.data::<AppState>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("no state in the GraphQL context")))
    }
}

/// The client's address, for per-client limits.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub Option<IpAddr>);
