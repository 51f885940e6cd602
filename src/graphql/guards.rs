//! The soft guard: a field the viewer may not see reads `null`, with one FORBIDDEN error carrying
//! the field's path. (A plain `#[graphql(guard)]` drops the key or nulls the parent, depending on
//! the async-graphql version; this keeps the documented shape on all of them.)

use async_graphql::{Context, ErrorExtensions};

use super::context::CtxExt;
use crate::domain::policy;
use crate::error::AppError;

/// `Some(value())` when the viewer may read the private fields of `user_id`; otherwise records
/// FORBIDDEN at this field and gives `None`.
pub fn private<T>(ctx: &Context<'_>, user_id: i32, value: impl FnOnce() -> T) -> Option<T> {
    let allowed = ctx
        .viewer()
        .map(|v| policy::can_read_private(v, user_id))
        .unwrap_or(false);
    allow_or_forbid(ctx, allowed).then(value)
}

/// The value of a domain check: a FORBIDDEN answer is recorded at this field and gives `None`;
/// any other error stays an error.
pub fn checked<T>(ctx: &Context<'_>, res: Result<T, AppError>) -> Result<Option<T>, AppError> {
    match res {
        Ok(v) => Ok(Some(v)),
        Err(AppError::Forbidden(None)) => {
            allow_or_forbid(ctx, false);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Records FORBIDDEN at the current field unless `allowed`.
pub fn allow_or_forbid(ctx: &Context<'_>, allowed: bool) -> bool {
    if !allowed {
        let err = AppError::Forbidden(None).extend().into_server_error(ctx.item.pos);
        ctx.add_error(ctx.set_error_path(err));
    }
    allowed
}
