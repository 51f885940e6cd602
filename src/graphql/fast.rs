//! The output path of `User`: the selections clients send most (a user's columns, identities,
//! SSH keys and e-mails, in any mix of aliases, fragments and `__typename`) are answered in one
//! synchronous pass over the loaded rows, instead of one future, context and map per field. Any
//! other selection (tokens, events, the private token, a custom directive) goes to the derived
//! [`UserObject`] whole. Both paths give the same answer, errors included: guards are the same
//! functions, scalars are converted by their own `ScalarType`s, and repeated response keys merge
//! the way async-graphql merges them (`tests/graphql_fast.rs` compares the two).

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::connection::CursorType;
use async_graphql::dataloader::DataLoader;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{Context, ContextSelectionSet, ErrorExtensions, Name, OutputType, Positioned, ServerResult, Value};
use entity::{email, identity, ssh_key};

use super::connection::{Page, Relay};
use super::context::CtxExt;
use super::declared::{self, graphql_value, is_leaf};
use super::guards;
use super::loaders::{DbLoader, EmailsOf, IdentitiesOf, KeysOf, group, loader_error};
use super::types::user::{User, UserObject};
use crate::domain::fields::{self, EMAIL, IDENTITY, SSH_KEY, USER, UserRow};
use crate::domain::shape::{Columns, Env, Field as Declared, Who};
use crate::domain::{children, policy};

/// Who may read a user's identities (the declaration says), and with them their keys and e-mails,
/// which are as private.
static CHILDREN_WHO: std::sync::LazyLock<Who> =
    std::sync::LazyLock::new(|| Declared::by_graphql(USER, "identities").map_or(Who::Private, |f| f.who));

/// Schema data that turns the fast path off (`--graphql-fast-path false`; the comparison
/// tests run both paths).
#[derive(Clone, Copy, Debug)]
pub struct SlowPathOnly;

/// Children of a page of users (or of the one user of `user(id:)`), read by the resolver in one
/// statement for all relations (`domain::children`) and taken by each user's fast path: no loader
/// keys, channels or copies per user. A user not found here (the same user twice in a document,
/// or a user from elsewhere) goes to the batch loaders.
#[derive(Default)]
pub struct Prefetch(std::sync::Mutex<Prefetched>);

#[derive(Default)]
struct Prefetched {
    identities: HashMap<i32, Vec<identity::Model>>,
    keys: HashMap<i32, Vec<ssh_key::Model>>,
    emails: HashMap<i32, Vec<email::Model>>,
    /// Plans of the `User` selections met in this request, by the selection's address: every
    /// user of a page shares one selection, which is then walked once, not once per user.
    plans: Vec<(usize, Plan)>,
}

/// What a `User` selection asks of the fast path.
#[derive(Clone, Copy, Debug)]
struct Plan {
    /// The fast path can answer all of it.
    fast: bool,
    identities: bool,
    keys: bool,
    emails: bool,
    /// The `users` columns its fields read, the id always among them.
    columns: Columns,
}

impl Plan {
    fn of(fragments: &Fragments, set: &SelectionSet) -> Plan {
        let mut plan = Plan {
            fast: check(fragments, set, Kind::User),
            identities: false,
            keys: false,
            emails: false,
            columns: fields::column(entity::user::Column::Id),
        };
        if plan.fast {
            each_field(fragments, set, Kind::User, &mut |f| {
                let name = f.node.name.node.as_str();
                match name {
                    "identities" => plan.identities = true,
                    "keys" => plan.keys = true,
                    "emails" => plan.emails = true,
                    _ => {}
                }
                if let Some(f) = Declared::by_graphql(USER, name) {
                    plan.columns |= f.columns;
                }
                true
            });
        }
        plan
    }

    /// The plan of `ctx`'s selection, worked out once per request when the request has a
    /// [`Prefetch`] store.
    fn for_ctx(ctx: &ContextSelectionSet<'_>) -> Plan {
        let fragments = &ctx.query_env.fragments;
        match ctx.data_opt::<Prefetch>() {
            Some(store) => store.plan(fragments, &ctx.item.node),
            None => Plan::of(fragments, &ctx.item.node),
        }
    }
}

/// `Ok(Some(rows))` from `read` when `wanted`, else `Ok(None)` without reading.
async fn read_if<T, E>(wanted: bool, read: impl std::future::Future<Output = Result<T, E>>) -> Result<Option<T>, E> {
    match wanted {
        true => read.await.map(Some),
        false => Ok(None),
    }
}

impl Prefetch {
    /// The plans of the user selections (`nodes`, `edges { node }`) of the `users` field `ctx`,
    /// worked out once per request and kept for the users themselves; `None` when the fast path
    /// is off.
    fn page_plans<'c>(ctx: &'c Context<'_>) -> Option<(&'c Prefetch, Vec<Plan>)> {
        let store = Prefetch::of(ctx)?;
        let fragments = &ctx.query_env.fragments;
        let mut plans = Vec::new();
        each_field(fragments, &ctx.item.node.selection_set.node, Kind::UserPage, &mut |f| {
            let set = &f.node.selection_set.node;
            match f.node.name.node.as_str() {
                "nodes" => plans.push(store.plan(fragments, set)),
                "edges" => {
                    each_field(fragments, set, Kind::UserEdge, &mut |e| {
                        if e.node.name.node == "node" {
                            plans.push(store.plan(fragments, &e.node.selection_set.node));
                        }
                        true
                    });
                }
                _ => {}
            }
            true
        });
        Some((store, plans))
    }

    /// The only `users` columns the `users` field `ctx` needs read, when the fast path will
    /// answer every user of the page (which reads no others); `None` for whole rows.
    pub fn user_columns(ctx: &Context<'_>) -> Option<Columns> {
        let (_, plans) = Prefetch::page_plans(ctx)?;
        if plans.iter().any(|p| !p.fast) {
            return None;
        }
        Some(
            plans
                .iter()
                .fold(fields::column(entity::user::Column::Id), |b, p| b | p.columns),
        )
    }

    /// Reads the identities, keys and e-mails the `users` field's selection asks for, of the users
    /// on `page` whose private fields the viewer may see. Does nothing when the fast path is off.
    pub async fn users(ctx: &Context<'_>, page: &[UserRow]) -> crate::error::AppResult<()> {
        match Prefetch::page_plans(ctx) {
            Some((store, plans)) => store.load(ctx, page, &plans).await,
            None => Ok(()),
        }
    }

    /// Reads the identities, keys and e-mails a field of type `User` (such as `user(id:)`) asks
    /// for, of `user`, when the viewer may see them: straight from the database, without the
    /// batch loaders' keys, tasks and copies, which one user does not need.
    pub async fn user(ctx: &Context<'_>, user: &UserRow) -> crate::error::AppResult<()> {
        let Some(store) = Prefetch::of(ctx) else {
            return Ok(());
        };
        let plan = store.plan(&ctx.query_env.fragments, &ctx.item.node.selection_set.node);
        store.load(ctx, std::slice::from_ref(user), &[plan]).await
    }

    /// The request's store, unless the fast path is off.
    fn of<'c>(ctx: &'c Context<'_>) -> Option<&'c Prefetch> {
        match ctx.data_opt::<SlowPathOnly>() {
            Some(_) => None,
            None => ctx.data_opt::<Prefetch>(),
        }
    }

    /// Reads the children `plans` ask for, of the `users` whose private fields the viewer may see.
    /// Only when the fast path will answer every selection: the derived resolvers load through the
    /// batch loaders, and reading the rows here too would read them twice.
    async fn load(&self, ctx: &Context<'_>, users: &[UserRow], plans: &[Plan]) -> crate::error::AppResult<()> {
        if plans.iter().any(|p| !p.fast) {
            return Ok(());
        }
        let viewer = ctx.viewer()?;
        // The identities, keys and e-mails are read for the users whose identities the viewer may
        // see (keys and e-mails go with them: both are private).
        let who = *CHILDREN_WHO;
        let ids: Vec<i32> = users
            .iter()
            .map(|u| u.id())
            .filter(|id| policy::may_read(viewer, who, *id))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let wants = |f: fn(&Plan) -> bool| plans.iter().any(f);
        let wanted = children::Wanted {
            identities: wants(|p| p.identities),
            keys: wants(|p| p.keys),
            emails: wants(|p| p.emails),
        };
        let read = children::of_users(&ctx.state()?.db, &ids, wanted).await?;
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(rows) = read.identities {
            p.identities.extend(group(&ids, rows, |r| r.user_id));
        }
        if let Some(rows) = read.keys {
            p.keys.extend(group(&ids, rows, |r| r.user_id));
        }
        if let Some(rows) = read.emails {
            p.emails.extend(group(&ids, rows, |r| r.user_id));
        }
        Ok(())
    }

    /// The plan of the `User` selection `set`, worked out once per request: every user of a page
    /// shares one selection, which is then walked once, not once per user.
    fn plan(&self, fragments: &Fragments, set: &SelectionSet) -> Plan {
        let key = std::ptr::from_ref(set) as usize;
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, plan)) = p.plans.iter().find(|(k, _)| *k == key) {
            return *plan;
        }
        let plan = Plan::of(fragments, set);
        p.plans.push((key, plan));
        plan
    }

    fn take(ctx: &ContextSelectionSet<'_>, user: i32) -> Children {
        let mut out = Children {
            identities: None,
            keys: None,
            emails: None,
        };
        if let Some(store) = ctx.data_opt::<Prefetch>() {
            let mut p = store.0.lock().unwrap_or_else(|e| e.into_inner());
            out.identities = p.identities.remove(&user);
            out.keys = p.keys.remove(&user);
            out.emails = p.emails.remove(&user);
        }
        out
    }
}

impl OutputType for User {
    fn type_name() -> Cow<'static, str> {
        <UserObject<'static> as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <UserObject<'static> as OutputType>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        // (The schema registers no extension, whose per-field hooks this path would skip.)
        let plan = match ctx.data_opt::<SlowPathOnly>() {
            None => Some(Plan::for_ctx(ctx)).filter(|p| p.fast),
            Some(_) => None,
        };
        if let Some(plan) = plan {
            user_value(ctx, &self.0, plan).await
        } else {
            OutputType::resolve(&UserObject(&self.0), ctx, field).await
        }
    }
}

/// The types whose fields the one-pass path answers, by name. (Pages of users are walked to find
/// their users; the pages themselves are the derived resolvers'.)
pub const TYPES: [&str; 9] = [
    "User",
    "Identity",
    "SshKey",
    "Email",
    "SshKeyConnection",
    "EmailConnection",
    "SshKeyEdge",
    "EmailEdge",
    "PageInfo",
];

/// Whether the one-pass path answers `field` of the type named `ty` (`__typename` aside); the
/// derived resolvers answer every other field, and a selection that holds one goes to them whole.
pub fn answers(ty: &str, field: &str) -> bool {
    let all = [
        Kind::User,
        Kind::Identity,
        Kind::SshKey,
        Kind::Email,
        Kind::KeyPage,
        Kind::EmailPage,
        Kind::KeyEdge,
        Kind::EmailEdge,
        Kind::PageInfo,
    ];
    all.iter().any(|k| k.name() == ty && k.child(field).is_ok())
}

/// The object types the fast path knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    User,
    Identity,
    SshKey,
    Email,
    KeyPage,
    EmailPage,
    KeyEdge,
    EmailEdge,
    PageInfo,
    UserPage,
    UserEdge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Identity => "Identity",
            Kind::SshKey => "SshKey",
            Kind::Email => "Email",
            Kind::KeyPage => "SshKeyConnection",
            Kind::EmailPage => "EmailConnection",
            Kind::KeyEdge => "SshKeyEdge",
            Kind::EmailEdge => "EmailEdge",
            Kind::PageInfo => "PageInfo",
            Kind::UserPage => "UserConnection",
            Kind::UserEdge => "UserEdge",
        }
    }

    /// Whether the fast path answers `field` of this type; `Some(kind)` of the field's object
    /// type, `None` for a leaf, and `Err(())` for a field it leaves to the derived resolvers.
    fn child(self, field: &str) -> Result<Option<Kind>, ()> {
        let leaf = Ok(None);
        match (self, field) {
            (_, "__typename") => leaf,
            (Kind::User, "identities") => Ok(Some(Kind::Identity)),
            (Kind::User, "keys") => Ok(Some(Kind::KeyPage)),
            (Kind::User, "emails") => Ok(Some(Kind::EmailPage)),
            (Kind::User, f) if Declared::by_graphql(USER, f).is_some_and(is_leaf) => leaf,
            (Kind::Identity, f) if Declared::by_graphql(IDENTITY, f).is_some_and(is_leaf) => leaf,
            (Kind::SshKey, f) if Declared::by_graphql(SSH_KEY, f).is_some_and(is_leaf) => leaf,
            (Kind::Email, f) if Declared::by_graphql(EMAIL, f).is_some_and(is_leaf) => leaf,
            (Kind::KeyPage | Kind::EmailPage, "totalCount") => leaf,
            (Kind::KeyPage | Kind::EmailPage, "pageInfo") => Ok(Some(Kind::PageInfo)),
            (Kind::KeyPage, "nodes") => Ok(Some(Kind::SshKey)),
            (Kind::EmailPage, "nodes") => Ok(Some(Kind::Email)),
            (Kind::KeyPage, "edges") => Ok(Some(Kind::KeyEdge)),
            (Kind::EmailPage, "edges") => Ok(Some(Kind::EmailEdge)),
            (Kind::KeyEdge | Kind::EmailEdge, "cursor") => leaf,
            (Kind::KeyEdge, "node") => Ok(Some(Kind::SshKey)),
            (Kind::EmailEdge, "node") => Ok(Some(Kind::Email)),
            (Kind::PageInfo, "hasPreviousPage" | "hasNextPage" | "startCursor" | "endCursor") => leaf,
            _ => Err(()),
        }
    }
}

type Fragments = HashMap<Name, Positioned<async_graphql::parser::types::FragmentDefinition>>;

/// Calls `f` with every field of `set` in order, fragments spread in place. False when a
/// fragment names another type than `ty` (the fast path then stands aside) or `f` says so.
fn each_field<'a>(
    fragments: &'a Fragments,
    set: &'a SelectionSet,
    ty: Kind,
    f: &mut impl FnMut(&'a Positioned<Field>) -> bool,
) -> bool {
    for sel in &set.items {
        let ok = match &sel.node {
            Selection::Field(field) => f(field),
            Selection::InlineFragment(frag) => {
                let on = frag.node.type_condition.as_ref().map(|c| c.node.on.node.as_str());
                on.is_none_or(|t| t == ty.name()) && each_field(fragments, &frag.node.selection_set.node, ty, f)
            }
            Selection::FragmentSpread(spread) => match fragments.get(&spread.node.fragment_name.node) {
                Some(frag) => {
                    frag.node.type_condition.node.on.node == ty.name()
                        && each_field(fragments, &frag.node.selection_set.node, ty, f)
                }
                None => false,
            },
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether the fast path can answer the whole selection `set` of type `ty`.
fn check(fragments: &Fragments, set: &SelectionSet, ty: Kind) -> bool {
    each_field(fragments, set, ty, &mut |field| {
        let f = &field.node;
        if !f.directives.is_empty() {
            return false;
        }
        match ty.child(f.name.node.as_str()) {
            Ok(None) => true,
            Ok(Some(kind)) => check(fragments, &f.selection_set.node, kind),
            Err(()) => false,
        }
    })
}

/// Adds `value` under `name`, merging objects (and lists of objects) already there, as
/// async-graphql does when a response key is selected more than once.
fn insert(map: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    match map.get_mut(&name) {
        None => {
            map.insert(name, value);
        }
        Some(Value::Object(prev)) => {
            if let Value::Object(obj) = value {
                for (k, v) in obj {
                    insert(prev, k, v);
                }
            }
        }
        Some(Value::List(prev)) => {
            if let Value::List(list) = value {
                for (slot, item) in prev.iter_mut().zip(list) {
                    if let (Value::Object(prev), Value::Object(obj)) = (slot, item) {
                        for (k, v) in obj {
                            insert(prev, k, v);
                        }
                    }
                }
            }
        }
        Some(_) => {}
    }
}

/// Builds an object of type `ty` from `set`: `leaf` answers each field but `__typename`.
/// Returns `None` only when every field was left out (a failed field's key is omitted).
fn object<'a>(
    fragments: &'a Fragments,
    set: &'a SelectionSet,
    ty: Kind,
    mut leaf: impl FnMut(&'a Positioned<Field>) -> Option<Value>,
) -> Value {
    let mut map = IndexMap::with_capacity(set.items.len());
    each_field(fragments, set, ty, &mut |field| {
        let key = field.node.response_key().node.clone();
        if field.node.name.node == "__typename" {
            insert(&mut map, key, Value::String(ty.name().to_owned()));
        } else if let Some(v) = leaf(field) {
            insert(&mut map, key, v);
        }
        true
    });
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

/// The rows a user's selection needs, loaded through the request's batch loaders (so a page of
/// users costs one statement per relation).
struct Children {
    identities: Option<Vec<identity::Model>>,
    keys: Option<Vec<ssh_key::Model>>,
    emails: Option<Vec<email::Model>>,
}

async fn children(ctx: &ContextSelectionSet<'_>, u: &UserRow, private: bool, plan: Plan) -> ServerResult<Children> {
    let (mut identities, mut keys, mut emails) =
        (private && plan.identities, private && plan.keys, private && plan.emails);
    let mut have = Prefetch::take(ctx, u.id());
    identities &= have.identities.is_none();
    keys &= have.keys.is_none();
    emails &= have.emails.is_none();
    if !(identities || keys || emails) {
        return Ok(have);
    }
    let loader = ctx
        .data::<DataLoader<DbLoader>>()
        .map_err(|e| e.into_server_error(ctx.item.pos))?;
    let err = |e| loader_error(e).extend().into_server_error(ctx.item.pos);
    let (i, k, e) = futures_util::future::join3(
        read_if(identities, loader.load_one(IdentitiesOf(u.id()))),
        read_if(keys, loader.load_one(KeysOf(u.id()))),
        read_if(emails, loader.load_one(EmailsOf(u.id()))),
    )
    .await;
    if let Some(rows) = i.map_err(err)? {
        have.identities = Some(rows.unwrap_or_default());
    }
    if let Some(rows) = k.map_err(err)? {
        have.keys = Some(rows.unwrap_or_default());
    }
    if let Some(rows) = e.map_err(err)? {
        have.emails = Some(rows.unwrap_or_default());
    }
    Ok(have)
}

async fn user_value(ctx: &ContextSelectionSet<'_>, u: &UserRow, plan: Plan) -> ServerResult<Value> {
    let viewer = ctx.viewer().map_err(|e| e.extend().into_server_error(ctx.item.pos))?;
    let external_url = ctx
        .state()
        .map_err(|e| e.extend().into_server_error(ctx.item.pos))?
        .cfg
        .external_url();
    let env = Env {
        external_url: &external_url,
    };
    // Keys and e-mails are private, as the identities are.
    let private = policy::may_read(viewer, *CHILDREN_WHO, u.id());
    let mut loaded = children(ctx, u, private, plan).await?;
    let fragments = &ctx.query_env.fragments;
    Ok(object(fragments, &ctx.item.node, Kind::User, |field| {
        let cf: Context<'_> = ctx.with_field(field);
        let set = &field.node.selection_set.node;
        let name = field.node.name.node.as_str();
        Some(match name {
            "identities" => match loaded.identities.take() {
                Some(rows) => Value::List(
                    rows.iter()
                        .map(|r| row_value(fragments, set, Kind::Identity, IDENTITY, r, &env))
                        .collect(),
                ),
                None => forbidden(&cf),
            },
            "keys" => match loaded.keys.as_ref() {
                Some(rows) => {
                    let page = relay(&cf).and_then(|r| Ok(r.slice(rows.iter().collect::<Vec<_>>())?));
                    match page {
                        Ok(page) => page_value(fragments, set, Kind::KeyPage, &page, &mut |k, set| {
                            row_value(fragments, set, Kind::SshKey, SSH_KEY, k, &env)
                        }),
                        Err(e) => {
                            cf.add_error(cf.set_error_path(e.into_server_error(field.pos)));
                            return None;
                        }
                    }
                }
                None => forbidden(&cf),
            },
            "emails" => match loaded.emails.as_ref() {
                Some(rows) => {
                    let page = relay(&cf).and_then(|r| Ok(r.slice(rows.iter().collect::<Vec<_>>())?));
                    match page {
                        Ok(page) => page_value(fragments, set, Kind::EmailPage, &page, &mut |m, set| {
                            row_value(fragments, set, Kind::Email, EMAIL, m, &env)
                        }),
                        Err(e) => {
                            cf.add_error(cf.set_error_path(e.into_server_error(field.pos)));
                            return None;
                        }
                    }
                }
                None => forbidden(&cf),
            },
            // `check` admits only declared leaves besides.
            _ => match Declared::by_graphql(USER, name) {
                Some(f) => declared::leaf_value(&cf, f, u, u.subject(), &env),
                None => Value::Null,
            },
        })
    }))
}

/// `null`, with FORBIDDEN at the field.
fn forbidden(cf: &Context<'_>) -> Value {
    guards::allow_or_forbid(cf, false);
    Value::Null
}

/// The Relay arguments of a connection field, variables resolved.
fn relay(cf: &Context<'_>) -> async_graphql::Result<Relay> {
    fn arg<T: async_graphql::InputType>(cf: &Context<'_>, name: &str) -> async_graphql::Result<Option<T>> {
        cf.param_value::<Option<T>>(name, None)
            .map(|(_, v)| v)
            .map_err(|e| async_graphql::Error::new(e.message))
    }
    Ok(Relay::new(
        cf,
        arg(cf, "first")?,
        arg(cf, "after")?,
        arg(cf, "last")?,
        arg(cf, "before")?,
    ))
}

/// A record of a declared type whose fields are all public (identities, keys, e-mails: who may
/// read them was decided when they were loaded).
fn row_value<R>(
    fragments: &Fragments,
    set: &SelectionSet,
    ty: Kind,
    table: &[Declared<R>],
    row: &R,
    env: &Env<'_>,
) -> Value {
    object(fragments, set, ty, |f| {
        Some(match Declared::by_graphql(table, f.node.name.node.as_str()) {
            Some(d) => graphql_value((d.read)(row, env)),
            None => Value::Null,
        })
    })
}

/// A connection (`SshKeyConnection` or `EmailConnection`) over a page of rows.
fn page_value<T>(
    fragments: &Fragments,
    set: &SelectionSet,
    ty: Kind,
    page: &Page<&T>,
    node: &mut dyn FnMut(&T, &SelectionSet) -> Value,
) -> Value {
    let edge_kind = if ty == Kind::KeyPage {
        Kind::KeyEdge
    } else {
        Kind::EmailEdge
    };
    object(fragments, set, ty, |f| {
        let sub = &f.node.selection_set.node;
        Some(match f.node.name.node.as_str() {
            "totalCount" => Value::from(page.count()),
            "nodes" => Value::List(page.items().map(|(_, n)| node(n, sub)).collect()),
            "edges" => Value::List(
                page.items()
                    .map(|(cursor, n)| {
                        object(fragments, sub, edge_kind, |ef| {
                            Some(match ef.node.name.node.as_str() {
                                "cursor" => Value::String(cursor.encode_cursor()),
                                "node" => node(n, &ef.node.selection_set.node),
                                _ => Value::Null,
                            })
                        })
                    })
                    .collect(),
            ),
            "pageInfo" => {
                let info = page.info();
                object(fragments, sub, Kind::PageInfo, |pf| {
                    Some(match pf.node.name.node.as_str() {
                        "hasPreviousPage" => Value::Boolean(info.has_previous_page),
                        "hasNextPage" => Value::Boolean(info.has_next_page),
                        "startCursor" => info.start_cursor.clone().map_or(Value::Null, Value::String),
                        "endCursor" => info.end_cursor.clone().map_or(Value::Null, Value::String),
                        _ => Value::Null,
                    })
                })
            }
            _ => Value::Null,
        })
    })
}
