pub use crate::account_token::Entity as AccountToken;
pub use crate::email::Entity as Email;
pub use crate::event::Entity as Event;
pub use crate::identity::Entity as Identity;
pub use crate::outbox::Entity as Outbox;
pub use crate::ssh_key::Entity as SshKey;
pub use crate::token::Entity as Token;
pub use crate::user::Entity as User;
