//! Contribution events.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Enum, ID, Json, Object, Result};
use chrono::{DateTime, Utc};
use entity::event;
use serde_json::Value;

use super::user::User;
use crate::domain::events;
use crate::graphql::loaders::{DbLoader, UserId};

/// What an author did.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "lowercase")]
pub enum EventAction {
    /// Created something (a project, an issue, ...).
    Created,
    /// Updated something.
    Updated,
    /// Closed an issue or a merge request.
    Closed,
    /// Reopened an issue or a merge request.
    Reopened,
    /// Pushed commits.
    Pushed,
    /// Commented on something.
    Commented,
    /// Merged a merge request.
    Merged,
    /// Joined a project.
    Joined,
    /// Left a project.
    Left,
    /// Deleted something.
    Destroyed,
    /// Lost a membership when it expired.
    Expired,
}

impl EventAction {
    pub fn as_str(self) -> &'static str {
        match self {
            EventAction::Created => "created",
            EventAction::Updated => "updated",
            EventAction::Closed => "closed",
            EventAction::Reopened => "reopened",
            EventAction::Pushed => "pushed",
            EventAction::Commented => "commented",
            EventAction::Merged => "merged",
            EventAction::Joined => "joined",
            EventAction::Left => "left",
            EventAction::Destroyed => "destroyed",
            EventAction::Expired => "expired",
        }
    }
}

/// What an event is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum EventTargetType {
    /// An issue.
    Issue,
    /// A milestone.
    Milestone,
    /// A merge request.
    MergeRequest,
    /// A comment.
    Note,
    /// A project.
    Project,
    /// A snippet.
    Snippet,
    /// A user.
    User,
}

impl EventTargetType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventTargetType::Issue => "issue",
            EventTargetType::Milestone => "milestone",
            EventTargetType::MergeRequest => "merge_request",
            EventTargetType::Note => "note",
            EventTargetType::Project => "project",
            EventTargetType::Snippet => "snippet",
            EventTargetType::User => "user",
        }
    }
}

/// A contribution event.
pub struct Event(pub event::Model);

/// A contribution event: something a user did, as ingested or recorded.
#[Object]
impl Event {
    /// The event's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Title, for events that have one.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }
    /// The project the event happened in.
    async fn project_id(&self) -> Option<i32> {
        self.0.project_id
    }
    /// The raw action: created, updated, closed, reopened, pushed, commented, merged, joined,
    /// left, destroyed or expired.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The action as GitLab words it, e.g. `pushed to`, `commented on`, `accepted`.
    async fn action_name(&self) -> &str {
        events::action_name(&self.0)
    }
    /// Id of the target.
    async fn target_id(&self) -> Option<i32> {
        self.0.target_id
    }
    /// Type of the target, e.g. `Issue`, `MergeRequest`, `Note`.
    async fn target_type(&self) -> Option<&str> {
        self.0.target_type.as_deref()
    }
    /// Title of the target.
    async fn target_title(&self) -> Option<&str> {
        self.0.target_title.as_deref()
    }
    /// The author's id.
    async fn author_id(&self) -> ID {
        ID(self.0.author_id.to_string())
    }
    /// The author.
    async fn author(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        Ok(loader.load_one(UserId(self.0.author_id)).await?.map(User))
    }
    /// The author's username.
    async fn author_username(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let loader = ctx.data::<DataLoader<DbLoader>>()?;
        Ok(loader.load_one(UserId(self.0.author_id)).await?.map(|u| u.username))
    }
    /// Push data and other details, as ingested.
    async fn data(&self) -> Option<Json<Value>> {
        self.0.data.clone().map(Json)
    }
    /// The note of a `commented` event.
    async fn note(&self) -> Option<Json<Value>> {
        self.0.note.clone().map(Json)
    }
    /// When it happened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
