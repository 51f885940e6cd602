//! The messages usergraph sends, as plain text. They are rendered when the mail is delivered, so
//! their links always use the external URL the server is configured with.

use serde::{Deserialize, Serialize};

/// Which message a queued mail is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Template {
    /// An administrator created the account with `reset_password`: choose a password.
    AccountCreated,
    /// `requestPasswordReset`: a link to choose a new password.
    ResetPassword,
    /// Confirm a primary or secondary address.
    ConfirmEmail,
    /// A sign-up an administrator rejected (the account is deleted).
    SignUpRejected,
}

impl Template {
    pub fn as_str(self) -> &'static str {
        match self {
            Template::AccountCreated => "account_created",
            Template::ResetPassword => "reset_password",
            Template::ConfirmEmail => "confirm_email",
            Template::SignUpRejected => "sign_up_rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "account_created" => Template::AccountCreated,
            "reset_password" => Template::ResetPassword,
            "confirm_email" => Template::ConfirmEmail,
            "sign_up_rejected" => Template::SignUpRejected,
            _ => return None,
        })
    }
}

/// The values every template may use, stored as JSON in the outbox row until it is delivered.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Params {
    /// The raw single-use token (the database keeps only its digest elsewhere).
    pub token: String,
    pub name: String,
    pub username: String,
    /// The address the mail is about (for confirmations, the one to confirm).
    pub email: String,
    /// How long the link works, in hours.
    pub valid_hours: i64,
}

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

fn query_value(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The link of a password reset mail.
pub fn reset_link(external_url: &str, token: &str) -> String {
    format!(
        "{external_url}/users/password/edit?reset_password_token={}",
        query_value(token)
    )
}

/// The link of a confirmation mail.
pub fn confirmation_link(external_url: &str, token: &str) -> String {
    format!(
        "{external_url}/users/confirmation?confirmation_token={}",
        query_value(token)
    )
}

fn validity(hours: i64) -> String {
    match hours {
        h if h > 0 && h % 24 == 0 && h / 24 == 1 => "1 day".into(),
        h if h > 0 && h % 24 == 0 => format!("{} days", h / 24),
        1 => "1 hour".into(),
        h => format!("{h} hours"),
    }
}

pub fn render(template: Template, p: &Params, external_url: &str) -> Rendered {
    let valid = validity(p.valid_hours);
    match template {
        Template::AccountCreated => Rendered {
            subject: "Account was created for you".into(),
            body: format!(
                "Hi {name}!\n\n\
                 An administrator created an account for you at {external_url}.\n\n\
                 Your username is {username}.\n\n\
                 Choose your password through the link below (it works for {valid}):\n\n\
                 {link}\n",
                name = p.name,
                username = p.username,
                link = reset_link(external_url, &p.token),
            ),
        },
        Template::ResetPassword => Rendered {
            subject: "Reset password instructions".into(),
            body: format!(
                "Hello, {name}!\n\n\
                 Someone, hopefully you, has requested to reset the password for your account \
                 {username} at {external_url}.\n\n\
                 If you did not perform this request, you can safely ignore this email: your \
                 password does not change until you open the link below and choose a new one.\n\n\
                 {link}\n\n\
                 The link works once, for {valid}.\n",
                name = p.name,
                username = p.username,
                link = reset_link(external_url, &p.token),
            ),
        },
        Template::ConfirmEmail => Rendered {
            subject: "Confirmation instructions".into(),
            body: format!(
                "Welcome, {name}!\n\n\
                 Confirm your email address {email} for the account {username} at {external_url} \
                 through the link below (it works for {valid}):\n\n\
                 {link}\n\n\
                 If you did not ask for this, you can ignore this email.\n",
                name = p.name,
                email = p.email,
                username = p.username,
                link = confirmation_link(external_url, &p.token),
            ),
        },
        Template::SignUpRejected => Rendered {
            subject: "Your sign-up was not approved".into(),
            body: format!(
                "Hello, {name}!\n\n\
                 Your request to join {external_url} as {username} was not approved by an \
                 administrator, and the account was deleted.\n",
                name = p.name,
                username = p.username,
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_round_trip_and_carry_the_link() {
        for t in [
            Template::AccountCreated,
            Template::ResetPassword,
            Template::ConfirmEmail,
            Template::SignUpRejected,
        ] {
            assert_eq!(Template::parse(t.as_str()), Some(t));
        }
        let p = Params {
            token: "abc123".into(),
            name: "Jane".into(),
            username: "jane".into(),
            email: "jane@example.com".into(),
            valid_hours: 24,
        };
        let r = render(Template::ResetPassword, &p, "https://ug.example");
        assert!(
            r.body
                .contains("https://ug.example/users/password/edit?reset_password_token=abc123\n")
        );
        assert!(r.body.contains("for 1 day."));
        let r = render(Template::ConfirmEmail, &p, "https://ug.example");
        assert!(
            r.body
                .contains("https://ug.example/users/confirmation?confirmation_token=abc123\n")
        );
        assert_eq!(validity(72), "3 days");
        assert_eq!(validity(2), "2 hours");
    }
}
