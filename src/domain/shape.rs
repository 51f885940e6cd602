//! The vocabulary of field declarations (the declarations themselves are in `fields.rs`).
//!
//! A [`Field`] is one exposed field of a record: its name on each front, its type, who may read
//! it, the smallest REST representation that shows it, the `users` columns it reads, and how its
//! value is read from a row. Both fronts walk the same declarations: GraphQL registers and
//! resolves its object types from them (the derived resolvers and the one-pass path alike), REST
//! writes GitLab's shapes as cuts of them, the OpenAPI document describes them, and a row read
//! for only some fields says so ([`Columns`]). An [`Attr`] is one writable attribute, likewise
//! named once for both fronts.

use chrono::{DateTime, NaiveDate, Utc};

/// Who may read a field of a record owned by a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// Anyone.
    Public,
    /// Anyone, unless the user keeps a private profile: then the user and administrators
    /// (`policy::can_read_profile`). Reading such a field reads the user's `private_profile` too.
    Profile,
    /// The owner and administrators (`policy::can_read_private`).
    Private,
    /// Whether the owner is an administrator (`policy::can_read_admin_flag`).
    AdminFlag,
    /// The legacy private token (`policy::can_read_private_token`).
    PrivateToken,
    /// Administrators only.
    Admin,
}

/// The user a record belongs to, as far as reading its fields goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subject {
    pub id: i32,
    /// Whether the user keeps a private profile; `None` when it was not read (a profile field is
    /// then withheld from everyone but the user and administrators).
    pub private_profile: Option<bool>,
}

impl From<i32> for Subject {
    /// A record's owner when only the id is known.
    fn from(id: i32) -> Self {
        Subject {
            id,
            private_profile: None,
        }
    }
}

/// The smallest of GitLab's REST representations of a user that shows a field: the basic one
/// (lists for non-admins, authors), the single one (one user for non-admins), the full one
/// (the user themself on `GET /user`), the admin's one (admins: GitLab's `UserWithAdmin`, the
/// full one and what only admins see). Records other than users have one representation: `Basic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    Basic,
    Single,
    Full,
    Admin,
}

/// A field's type, as both fronts and the OpenAPI document name it. GraphQL makes every field
/// that is not public nullable (a reader who may not see it gets `null`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// An id: GraphQL `ID!`, REST a number.
    Id,
    Int,
    Bool,
    Str,
    /// A text that may be null.
    OptStr,
    Time,
    OptTime,
    OptDate,
    /// A user's state: GraphQL's `UserState` enum, REST a string.
    UserState,
    /// A list of texts.
    Strings,
    /// The list of a user's identities. GraphQL declares this field with a selection of its own
    /// and loads it; the declaration names it and says who may read it.
    Identities,
    /// A user's custom attributes (`key`, `value` pairs); GraphQL declares and loads the field,
    /// REST shows it when the domain read it.
    Attributes,
    /// A text shown only at some moments (a token's value when it is made): null in GraphQL
    /// otherwise, and REST leaves the key out.
    Revealed,
    /// A text read apart from the row (a user's legacy token). GraphQL declares and loads it;
    /// REST shows it when the domain read it.
    Secret,
}

impl Ty {
    /// Whether GraphQL resolves the field with the object (a load of its own, or a selection)
    /// rather than from the row.
    pub fn loaded(self) -> bool {
        matches!(self, Ty::Identities | Ty::Attributes | Ty::Secret)
    }

    /// Whether the value itself may be null.
    pub fn nullable(self) -> bool {
        matches!(self, Ty::OptStr | Ty::OptTime | Ty::OptDate | Ty::Secret | Ty::Revealed)
    }
}

/// A value read from a row; each front writes it out its own way (GraphQL's scalars, GitLab's
/// JSON: ids as numbers, times as `2012-05-23T08:00:58.000Z`, dates as `YYYY-MM-DD`).
#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    Null,
    /// Left out of the representation (REST's `private_token` unless sudo shows it).
    Absent,
    Id(i32),
    Int(i64),
    Bool(bool),
    Str(&'a str),
    String(String),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    State(&'a str),
    Strings(Vec<String>),
    /// `(provider, extern_uid)` pairs.
    Identities(Vec<(&'a str, &'a str)>),
    /// `(key, value)` pairs.
    Attributes(Vec<(&'a str, &'a str)>),
}

impl<'a> Val<'a> {
    pub fn opt_str(v: Option<&'a str>) -> Self {
        v.map_or(Val::Null, Val::Str)
    }

    pub fn opt_time(v: Option<DateTime<Utc>>) -> Self {
        v.map_or(Val::Null, Val::Time)
    }

    pub fn opt_date(v: Option<NaiveDate>) -> Self {
        v.map_or(Val::Null, Val::Date)
    }
}

/// What a value may be computed from besides its row.
#[derive(Clone, Copy, Debug)]
pub struct Env<'e> {
    /// Base of `web_url` and links.
    pub external_url: &'e str,
}

/// `users` columns, one bit each (bit `Column as usize`).
pub type Columns = u64;

/// One exposed field of a record of type `R`.
pub struct Field<R: 'static> {
    /// The name on GraphQL; `None` where GraphQL does not show it (or shows it as a field with
    /// arguments of its own, declared with the object).
    pub graphql: Option<&'static str>,
    /// The name in GitLab's JSON; `None` where REST does not show it.
    pub rest: Option<&'static str>,
    pub doc: &'static str,
    pub ty: Ty,
    pub who: Who,
    pub shape: Shape,
    /// The `users` columns the value is read from (none for other records).
    pub columns: Columns,
    /// Why a field is deprecated, if it is.
    pub deprecation: Option<&'static str>,
    pub read: for<'a> fn(&'a R, &Env<'_>) -> Val<'a>,
}

impl<R> Field<R> {
    /// The field of `fields` with this GraphQL name.
    pub fn by_graphql<'f>(fields: &'f [Field<R>], name: &str) -> Option<&'f Field<R>> {
        fields.iter().find(|f| f.graphql == Some(name))
    }

    /// The field of `fields` with this REST name.
    pub fn by_rest<'f>(fields: &'f [Field<R>], name: &str) -> Option<&'f Field<R>> {
        fields.iter().find(|f| f.rest == Some(name))
    }
}

/// A writable attribute's type on both fronts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrTy {
    Str,
    /// An integer (REST accepts any 64-bit value; the write rules check the range).
    Int,
    /// A 32-bit integer (REST refuses others as invalid).
    Int32,
    Bool,
}

/// A value given for a writable attribute.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrVal {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// Where an attribute may be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    /// On create (required there) and on update.
    Required,
    /// On create and on update.
    Both,
    /// On create only.
    Create,
}

/// One writable attribute of a record whose input is `I`.
pub struct Attr<I: 'static> {
    /// The name on GraphQL's inputs; `None` for REST only.
    pub graphql: Option<&'static str>,
    /// The parameter of REST; `None` for GraphQL only.
    pub rest: Option<&'static str>,
    pub doc: &'static str,
    pub ty: AttrTy,
    pub on: On,
    /// Puts a given value into the input.
    pub set: fn(&mut I, AttrVal),
}
