//! GitLab's JSON, written from the declaration (`domain/fields.rs`): a record is the fields of
//! its table that have a REST name, in the table's order, cut to one of GitLab's representations
//! of a user. Values are written GitLab's way: ids as numbers, times as
//! `2012-05-23T08:00:58.000Z`, dates as `YYYY-MM-DD`.

use chrono::{DateTime, Utc};
use entity::event;
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::domain::events;
use crate::domain::fields::{self, UserRow};
use crate::domain::shape::{Env, Field, Shape, Val};

pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A value as GitLab writes it.
struct Rest<'v>(&'v Val<'v>);

impl Serialize for Rest<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Val::Null | Val::Absent => s.serialize_none(),
            Val::Id(n) => s.serialize_i32(*n),
            Val::Int(n) => s.serialize_i64(*n),
            Val::Bool(b) => s.serialize_bool(*b),
            Val::Str(v) | Val::State(v) => s.serialize_str(v),
            Val::String(v) => s.serialize_str(v),
            Val::Time(t) => s.serialize_str(&ts(*t)),
            Val::Date(d) => s.collect_str(&d.format("%Y-%m-%d")),
            Val::Strings(v) => v.serialize(s),
            Val::Attributes(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for (key, value) in v {
                    seq.serialize_element(&Attribute { key, value })?;
                }
                seq.end()
            }
            Val::Identities(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for (provider, extern_uid) in v {
                    seq.serialize_element(&Identity { provider, extern_uid })?;
                }
                seq.end()
            }
        }
    }
}

#[derive(Serialize)]
struct Attribute<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct Identity<'a> {
    provider: &'a str,
    extern_uid: &'a str,
}

/// A record as GitLab shows it: the fields of `fields` with a REST name and a shape up to `cut`
/// (records other than users have only the basic one), in order; an absent value leaves its key
/// out.
pub struct View<'a, R: 'static> {
    row: &'a R,
    fields: &'static [Field<R>],
    cut: Shape,
    env: Env<'a>,
}

impl<'a, R> View<'a, R> {
    pub fn new(row: &'a R, fields: &'static [Field<R>], cut: Shape, env: Env<'a>) -> Self {
        View { row, fields, cut, env }
    }
}

impl<R> View<'_, R> {
    fn entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for f in self.fields.iter().filter(|f| f.shape <= self.cut) {
            let Some(name) = f.rest else { continue };
            let v = (f.read)(self.row, &self.env);
            if v != Val::Absent {
                map.serialize_entry(name, &Rest(&v))?;
            }
        }
        Ok(())
    }
}

impl<R> Serialize for View<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.entries(&mut map)?;
        map.end()
    }
}

/// A record followed by its owner in the full representation, under `user` (GitLab's `/keys`).
pub struct WithOwner<'a, R: 'static> {
    pub record: View<'a, R>,
    pub owner: View<'a, UserRow>,
}

impl<R> Serialize for WithOwner<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        self.record.entries(&mut map)?;
        map.serialize_entry("user", &self.owner)?;
        map.end()
    }
}

/// One record as GitLab shows it, as a response.
pub fn one<R>(st: &crate::state::AppState, row: &R, fields: &'static [Field<R>]) -> axum::response::Response {
    use axum::response::IntoResponse;
    let base = st.cfg.external_url();
    axum::Json(View::new(row, fields, Shape::Basic, Env { external_url: &base })).into_response()
}

/// A numbered page of records in their basic representation, with GitLab's pagination headers.
pub fn basic_page<R>(
    st: &crate::state::AppState,
    uri: &axum::http::Uri,
    page: crate::domain::page::Numbered,
    listed: &crate::domain::page::Listed<R>,
    fields: &'static [Field<R>],
) -> axum::response::Response {
    let base = st.cfg.external_url();
    let body = Views::new(&listed.items, fields, Shape::Basic, Env { external_url: &base });
    super::pagination::paged(&base, uri, page, listed, body)
}

/// A user in one of GitLab's representations.
pub fn user<'a>(row: &'a UserRow, cut: Shape, env: Env<'a>) -> View<'a, UserRow> {
    View::new(row, fields::USER, cut, env)
}

/// A list of records in one representation.
pub struct Views<'a, R: 'static> {
    rows: &'a [R],
    fields: &'static [Field<R>],
    cut: Shape,
    env: Env<'a>,
}

impl<'a, R> Views<'a, R> {
    pub fn new(rows: &'a [R], fields: &'static [Field<R>], cut: Shape, env: Env<'a>) -> Self {
        Views { rows, fields, cut, env }
    }
}

impl<R> Serialize for Views<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            seq.serialize_element(&View::new(row, self.fields, self.cut, self.env))?;
        }
        seq.end()
    }
}

/// An event's author, with the fields GitLab 9.x shows there, in its order.
struct Author<'a> {
    row: &'a UserRow,
    env: Env<'a>,
}

impl Serialize for Author<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(fields::EVENT_AUTHOR.len()))?;
        for name in fields::EVENT_AUTHOR {
            if let Some(f) = Field::by_rest(fields::USER, name) {
                map.serialize_entry(name, &Rest(&(f.read)(self.row, &self.env)))?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
pub struct EventView<'a> {
    pub title: Option<&'a str>,
    pub project_id: Option<i32>,
    pub action_name: &'static str,
    pub target_id: Option<i32>,
    pub target_type: Option<&'a str>,
    pub author_id: i32,
    pub data: Option<&'a Value>,
    pub target_title: Option<&'a str>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Value>,
    author: Author<'a>,
    pub author_username: &'a str,
}

impl<'a> EventView<'a> {
    pub fn new(env: Env<'a>, e: &'a event::Model, author: &'a UserRow) -> Self {
        let username = match Field::by_rest(fields::USER, "username").map(|f| (f.read)(author, &env)) {
            Some(Val::Str(name)) => name,
            _ => "",
        };
        let note = e.note.clone().map(|mut n| {
            if let Some(obj) = n.as_object_mut() {
                obj.entry("author")
                    .or_insert_with(|| serde_json::to_value(Author { row: author, env }).unwrap_or_default());
            }
            n
        });
        EventView {
            title: e.title.as_deref(),
            project_id: e.project_id,
            action_name: events::action_name(e),
            target_id: e.target_id,
            target_type: e.target_type.as_deref(),
            author_id: e.author_id,
            data: e.data.as_ref(),
            target_title: e.target_title.as_deref(),
            created_at: ts(e.created_at),
            note,
            author: Author { row: author, env },
            author_username: username,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = DateTime::parse_from_rfc3339("2012-05-23T08:00:58Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(ts(t), "2012-05-23T08:00:58.000Z");
    }

    #[test]
    fn cuts_keep_the_order_and_leave_absent_values_out() {
        let row = UserRow::full(crate::domain::fields::fixture(3));
        let env = Env {
            external_url: "http://x",
        };
        let basic = serde_json::to_string(&user(&row, Shape::Basic, env)).unwrap();
        assert!(basic.starts_with(r#"{"id":3,"username":"u3","name":"U","state":"active","avatar_url":"#));
        let full: serde_json::Value = serde_json::to_value(user(&row, Shape::Full, env)).unwrap();
        // Identities and the private token were not read: their keys are left out.
        assert!(full.get("identities").is_none() && full.get("private_token").is_none());
        assert_eq!(full["email"], "u3@example.com");
    }
}
