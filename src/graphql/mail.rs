//! Mutations behind the mailed links: password reset and e-mail confirmation. They work without
//! a signed-in user; the token is the credential.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::CtxExt;
use super::types::user::User;
use crate::domain::account_tokens;
use crate::domain::fields::UserRow;

/// An address to send a password reset link to.
#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    /// The user's primary address, or one of their confirmed secondary addresses.
    pub email: String,
}

/// Result of `requestPasswordReset`.
#[derive(SimpleObject)]
pub struct RequestPasswordResetPayload {
    /// The same text whether or not the address is known.
    pub message: String,
}

/// An address to send a new confirmation link to.
#[derive(InputObject)]
pub struct ResendConfirmationInput {
    /// The address to confirm: a user's primary address before their first sign-in, or one of
    /// their secondary addresses.
    pub email: String,
}

/// Result of `resendConfirmation`.
#[derive(SimpleObject)]
pub struct ResendConfirmationPayload {
    /// The same text whether or not the address is known or already confirmed.
    pub message: String,
}

/// A new password, with the token from a reset link.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The `reset_password_token` of the mailed link.
    pub token: String,
    /// The new password (at least 8 characters).
    pub password: String,
}

/// Result of `resetPassword`.
#[derive(SimpleObject)]
pub struct ResetPasswordPayload {
    /// The user whose password changed; sign in with the new password.
    pub user: User,
}

/// The token from a confirmation link.
#[derive(InputObject)]
pub struct ConfirmEmailInput {
    /// The `confirmation_token` of the mailed link.
    pub token: String,
}

/// Result of `confirmEmail`.
#[derive(SimpleObject)]
pub struct ConfirmEmailPayload {
    /// The confirmed address.
    pub email: String,
    /// When it was confirmed.
    pub confirmed_at: DateTime<Utc>,
    /// Its owner.
    pub user: User,
}

#[derive(Default)]
pub struct MailMutation;

#[Object]
impl MailMutation {
    /// Mails a password reset link (valid 24 hours, once) to a user's address. The answer never
    /// tells whether the address is known; at most one link per user and minute is sent.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: RequestPasswordResetInput,
    ) -> Result<RequestPasswordResetPayload> {
        let st = ctx.state()?;
        account_tokens::request_password_reset(st, &input.email).await?;
        Ok(RequestPasswordResetPayload {
            message: account_tokens::RESET_REQUESTED.into(),
        })
    }

    /// Mails a new confirmation link (valid 72 hours, once) to an address that is not confirmed
    /// yet; links sent before keep working until they expire. The answer never tells whether the
    /// address is known or already confirmed; at most one link per user and minute is sent.
    async fn resend_confirmation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: ResendConfirmationInput,
    ) -> Result<ResendConfirmationPayload> {
        let st = ctx.state()?;
        account_tokens::request_confirmation(st, &input.email).await?;
        Ok(ResendConfirmationPayload {
            message: account_tokens::CONFIRMATION_REQUESTED.into(),
        })
    }

    /// Sets a new password with the token of a reset link. The token is used up, and every JWT
    /// issued before stops working. Unknown, used and expired tokens are BAD_USER_INPUT on
    /// `token`.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: ResetPasswordInput,
    ) -> Result<ResetPasswordPayload> {
        let st = ctx.state()?;
        let u = account_tokens::reset_password(&st.db, &input.token, &input.password).await?;
        Ok(ResetPasswordPayload {
            user: User(UserRow::full(u)),
        })
    }

    /// Confirms an address with the token of a confirmation link; confirming the primary
    /// address lets the user sign in.
    async fn confirm_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do.")] input: ConfirmEmailInput,
    ) -> Result<ConfirmEmailPayload> {
        let st = ctx.state()?;
        let (address, u) = account_tokens::confirm_email(&st.db, &input.token).await?;
        Ok(ConfirmEmailPayload {
            email: address.email,
            confirmed_at: address.confirmed_at.unwrap_or_default(),
            user: User(UserRow::full(u)),
        })
    }
}
