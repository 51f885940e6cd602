//! What contribution events are filtered by. (The `Event` object is beside `User` in `user.rs`:
//! each names the other.)

use async_graphql::Enum;

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
