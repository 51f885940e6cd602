//! Contribution events: read with GitLab's filters, newest first by default, and ingested from
//! outside by admins. Events go with their author when the author is deleted.

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::event;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::changes::{Change, ChangeBus};
use super::page::{Listed, Listing, PageRequest, Window};
use super::users::{self, SortDir, UserRef};
use super::validate::Errors;
use super::{policy, time};
use crate::domain::viewer::Viewer;
use crate::error::{AppError, AppResult};

pub const ACTIONS: [&str; 11] = [
    "created",
    "updated",
    "closed",
    "reopened",
    "pushed",
    "commented",
    "merged",
    "joined",
    "left",
    "destroyed",
    "expired",
];

/// Target types as filters name them, and as events store them.
pub const TARGET_TYPES: [(&str, &str); 7] = [
    ("issue", "Issue"),
    ("milestone", "Milestone"),
    ("merge_request", "MergeRequest"),
    ("note", "Note"),
    ("project", "Project"),
    ("snippet", "Snippet"),
    ("user", "User"),
];

/// The stored form of a target type given as `merge_request`, `MergeRequest` or any case of them.
pub fn target_type(s: &str) -> Option<&'static str> {
    let key = s.to_ascii_lowercase().replace('_', "");
    TARGET_TYPES
        .iter()
        .find(|(filter, stored)| filter.replace('_', "") == key || stored.to_ascii_lowercase() == key)
        .map(|(_, s)| *s)
}

fn is_zero_sha(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b == b'0'))
}

/// GitLab's `action_name` of an event.
pub fn action_name(e: &event::Model) -> &'static str {
    let data = e.data.as_ref();
    match e.action.as_str() {
        "pushed" => {
            if is_zero_sha(data.and_then(|d| d.get("before"))) {
                "pushed new"
            } else if is_zero_sha(data.and_then(|d| d.get("after"))) {
                "deleted"
            } else {
                "pushed to"
            }
        }
        "closed" => "closed",
        "merged" => "accepted",
        "joined" => "joined",
        "left" => "left",
        "expired" => "removed due to membership expiration from",
        "destroyed" => "destroyed",
        "commented" => "commented on",
        "created" if e.target_type.is_none() || e.target_type.as_deref() == Some("Project") => "created",
        _ => "opened",
    }
}

/// Filters of a user's event list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EventFilter {
    pub action: Option<String>,
    pub target_type: Option<String>,
    /// Events strictly before the start of this day.
    pub before: Option<NaiveDate>,
    /// Events strictly after the end of this day.
    pub after: Option<NaiveDate>,
    pub sort: SortDir,
}

impl EventFilter {
    /// Validates `action` and `target_type` (400 `... does not have a valid value`).
    pub fn check(&self) -> AppResult<()> {
        if let Some(a) = &self.action
            && !ACTIONS.contains(&a.as_str())
        {
            return Err(AppError::BadParams("action does not have a valid value".into()));
        }
        if let Some(t) = &self.target_type
            && target_type(t).is_none()
        {
            return Err(AppError::BadParams("target_type does not have a valid value".into()));
        }
        Ok(())
    }

    /// The WHERE part for every given filter (the author condition is the caller's).
    fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(a) = &self.action {
            c = c.add(event::Column::Action.eq(a.as_str()));
        }
        if let Some(t) = self.target_type.as_deref().and_then(target_type) {
            c = c.add(event::Column::TargetType.eq(t));
        }
        if let Some(d) = self.before {
            c = c.add(event::Column::CreatedAt.lt(day_start(d)));
        }
        if let Some(d) = self.after.and_then(|d| d.checked_add_days(Days::new(1))) {
            c = c.add(event::Column::CreatedAt.gte(day_start(d)));
        }
        c
    }

    fn order(&self) -> (sea_orm::Order, &'static str) {
        match self.sort {
            SortDir::Asc => (sea_orm::Order::Asc, "ASC"),
            SortDir::Desc => (sea_orm::Order::Desc, "DESC"),
        }
    }
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// The events of one author, filtered, in the filter's order.
pub struct EventListing<'f> {
    author: i32,
    filter: &'f EventFilter,
}

impl Listing for EventListing<'_> {
    type Item = event::Model;

    async fn count(&self, db: &DatabaseConnection, up_to: Option<u64>) -> AppResult<u64> {
        let q = event::Entity::find()
            .filter(event::Column::AuthorId.eq(self.author))
            .filter(self.filter.condition());
        super::page::count(db, q, up_to).await
    }

    async fn fetch(&self, db: &DatabaseConnection, w: Window) -> AppResult<Vec<event::Model>> {
        let (ord, _) = self.filter.order();
        Ok(event::Entity::find()
            .filter(event::Column::AuthorId.eq(self.author))
            .filter(self.filter.condition())
            .order_by(event::Column::CreatedAt, ord.clone())
            .order_by(event::Column::Id, ord)
            .offset(w.offset)
            .limit(w.limit)
            .all(db)
            .await?)
    }
}

/// One page of an author's events (public, as GitLab shows them).
pub async fn list(
    db: &DatabaseConnection,
    author_id: i32,
    filter: &EventFilter,
    page: PageRequest,
    total: bool,
) -> AppResult<Listed<event::Model>> {
    filter.check()?;
    let listing = EventListing {
        author: author_id,
        filter,
    };
    super::page::list(db, &listing, page, total).await
}

/// The same window of events for each of several authors, in one statement (a window function
/// numbers each author's events), for loaders.
pub async fn list_for_authors(
    db: &impl ConnectionTrait,
    authors: &[i32],
    f: &EventFilter,
    window: Window,
) -> AppResult<Vec<event::Model>> {
    use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query};
    f.check()?;
    let (_, dir) = f.order();
    let mut inner = Query::select();
    inner
        .column(Asterisk)
        .expr_as(
            Expr::cust(format!(
                "ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY created_at {dir}, id {dir})"
            )),
            Alias::new("rn"),
        )
        .from(event::Entity)
        .cond_where(
            Condition::all()
                .add(super::any_of(db, event::Column::AuthorId, authors))
                .add(f.condition()),
        );
    let rn = || Expr::col(Alias::new("rn"));
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("ranked"))
        .and_where(rn().gt(window.offset))
        .and_where(rn().lte(window.offset.saturating_add(window.limit)))
        .order_by(Alias::new("author_id"), sea_orm::Order::Asc)
        .order_by(Alias::new("rn"), sea_orm::Order::Asc)
        .to_owned();
    let stmt = db.get_database_backend().build(&outer);
    Ok(event::Entity::find().from_raw_sql(stmt).all(db).await?)
}

/// Per-author counts of the filtered events, for loaders.
pub async fn count_for_authors(
    db: &impl ConnectionTrait,
    authors: &[i32],
    f: &EventFilter,
) -> AppResult<Vec<(i32, i64)>> {
    f.check()?;
    Ok(event::Entity::find()
        .select_only()
        .column(event::Column::AuthorId)
        .column_as(event::Column::Id.count(), "n")
        .filter(super::any_of(db, event::Column::AuthorId, authors))
        .filter(f.condition())
        .group_by(event::Column::AuthorId)
        .into_tuple()
        .all(db)
        .await?)
}

/// An event to ingest.
#[derive(Clone, Debug, Default)]
pub struct NewEvent {
    pub author: Option<UserRef>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<i32>,
    pub target_title: Option<String>,
    pub project_id: Option<i32>,
    pub title: Option<String>,
    pub data: Option<Value>,
    pub note: Option<Value>,
    pub created_at: Option<DateTime<Utc>>,
}

/// Ingests an event from an external source (admin only); subscribers of its author's events
/// hear of it once it is stored.
pub async fn create(
    db: &impl ConnectionTrait,
    changes: &ChangeBus,
    viewer: &Viewer,
    input: NewEvent,
) -> AppResult<event::Model> {
    let e = insert(db, viewer, input).await?;
    changes
        .publish(
            db,
            Change::Event {
                id: e.id,
                author_id: e.author_id,
            },
        )
        .await;
    Ok(e)
}

async fn insert(db: &impl ConnectionTrait, viewer: &Viewer, input: NewEvent) -> AppResult<event::Model> {
    viewer.user()?;
    let mut missing = Vec::new();
    if input.author.is_none() {
        missing.push("author_id");
    }
    if input.action.is_none() {
        missing.push("action");
    }
    if !missing.is_empty() {
        return Err(AppError::missing(&missing));
    }
    policy::require_admin(viewer)?;
    let author = users::find(db, input.author.as_ref().expect("checked above")).await?;
    let action = input.action.unwrap_or_default();
    let mut e = Errors::default();
    if !ACTIONS.contains(&action.as_str()) {
        e.add("action", "is not included in the list");
    }
    let target = match input.target_type.as_deref() {
        None => None,
        Some(t) => match target_type(t) {
            Some(s) => Some(s.to_string()),
            None => {
                e.add("target_type", "is not included in the list");
                None
            }
        },
    };
    for (field, v) in [("target_title", &input.target_title), ("title", &input.title)] {
        if let Some(v) = v {
            e.max_len(field, v, 255);
        }
    }
    for (field, v) in [("data", &input.data), ("note", &input.note)] {
        if v.as_ref().is_some_and(|v| !v.is_object() && !v.is_null()) {
            e.add(field, "must be a JSON object");
        }
    }
    if input.created_at.is_some_and(|t| t > time::now()) {
        e.add("created_at", "cannot be in the future");
    }
    e.into_result()?;
    let created_at = input
        .created_at
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(time::now);
    let model = event::ActiveModel {
        author_id: Set(author.id),
        action: Set(action),
        target_type: Set(target),
        target_id: Set(input.target_id),
        target_title: Set(input.target_title),
        project_id: Set(input.project_id),
        title: Set(input.title),
        data: Set(input.data.filter(|v| !v.is_null())),
        note: Set(input.note.filter(|v| !v.is_null())),
        created_at: Set(truncate_ms(created_at)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model)
}

fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(action: &str, target: Option<&str>, data: Option<Value>) -> event::Model {
        event::Model {
            id: 1,
            author_id: 1,
            action: action.into(),
            target_type: target.map(str::to_string),
            target_id: None,
            target_title: None,
            project_id: None,
            title: None,
            data,
            note: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn action_names_as_gitlab() {
        let zeros = "0000000000000000000000000000000000000000";
        assert_eq!(
            action_name(&ev("pushed", None, Some(json!({ "before": zeros, "after": "abc" })))),
            "pushed new"
        );
        assert_eq!(
            action_name(&ev("pushed", None, Some(json!({ "before": "abc", "after": zeros })))),
            "deleted"
        );
        assert_eq!(
            action_name(&ev("pushed", None, Some(json!({ "before": "a", "after": "b" })))),
            "pushed to"
        );
        assert_eq!(action_name(&ev("merged", Some("MergeRequest"), None)), "accepted");
        assert_eq!(action_name(&ev("commented", Some("Note"), None)), "commented on");
        assert_eq!(action_name(&ev("created", None, None)), "created");
        assert_eq!(action_name(&ev("created", Some("Issue"), None)), "opened");
        assert_eq!(action_name(&ev("updated", Some("Issue"), None)), "opened");
        assert_eq!(action_name(&ev("reopened", Some("Issue"), None)), "opened");
        assert_eq!(
            action_name(&ev("expired", None, None)),
            "removed due to membership expiration from"
        );
    }

    #[test]
    fn target_type_spellings() {
        assert_eq!(target_type("merge_request"), Some("MergeRequest"));
        assert_eq!(target_type("MergeRequest"), Some("MergeRequest"));
        assert_eq!(target_type("issue"), Some("Issue"));
        assert_eq!(target_type("wiki"), None);
    }
}
