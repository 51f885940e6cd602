//! GraphQL types built from the declaration (`domain/fields.rs`): each declared field becomes a
//! field of its object type (registered with its name, type and description, resolved from the
//! row, guarded by its `who`), and the declared attributes of a user become `CreateUserInput`
//! and `UpdateUserInput`. The one-pass path (`fast.rs`) answers leaves with [`leaf_value`] too,
//! so both paths give the same answers and errors.

use std::borrow::Cow;
use std::marker::PhantomData;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::Field as FieldNode;
use async_graphql::registry::{Deprecation, MetaField, MetaInputValue, MetaType, MetaTypeId, Registry};
use async_graphql::{
    Context, ContextSelectionSet, Enum, ID, InputType, InputValueError, InputValueResult, Name, OutputType, Positioned,
    ScalarType, ServerResult, Value,
};
use chrono::{DateTime, Utc};
use entity::{custom_attribute, email, identity, ssh_key};

use super::context::CtxExt;
use super::guards;
use super::scalars::Date;
use crate::domain::fields::{
    self, ACTIVITY, ActivityRow, CUSTOM_ATTRIBUTE, CreateUser, EMAIL, IDENTITY, SSH_KEY, STATUS, ShownToken, StatusRow,
    TOKEN, USER_ATTRS,
};
use crate::domain::policy;
use crate::domain::shape::{Attr, AttrTy, AttrVal, Env, Field, On, Subject, Ty, Val, Who};

/// The state of a user account.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(rename_items = "snake_case")]
pub enum UserState {
    /// The user can sign in and use the API.
    Active,
    /// Blocked by an administrator.
    Blocked,
    /// Blocked by LDAP synchronisation; the API cannot change it.
    LdapBlocked,
    /// Deactivated by an administrator (dormant); signing in again reactivates it.
    Deactivated,
    /// Banned by an administrator.
    Banned,
    /// Signed up and waiting for an administrator's approval.
    BlockedPendingApproval,
}

impl UserState {
    pub fn from_db(s: &str) -> Self {
        match s {
            "blocked" => UserState::Blocked,
            "ldap_blocked" => UserState::LdapBlocked,
            "deactivated" => UserState::Deactivated,
            "banned" => UserState::Banned,
            "blocked_pending_approval" => UserState::BlockedPendingApproval,
            _ => UserState::Active,
        }
    }
}

/// A value as GraphQL writes it (the scalars' own `to_value`).
pub fn graphql_value(v: Val<'_>) -> Value {
    match v {
        Val::Null | Val::Absent | Val::Identities(_) | Val::Attributes(_) => Value::Null,
        Val::Id(n) => Value::String(n.to_string()),
        Val::Int(n) => Value::from(n),
        Val::Bool(b) => Value::Boolean(b),
        Val::Str(s) => Value::String(s.to_owned()),
        Val::String(s) => Value::String(s),
        Val::Time(t) => ScalarType::to_value(&t),
        Val::Date(d) => ScalarType::to_value(&Date(d)),
        Val::State(s) => async_graphql::resolver_utils::enum_value(UserState::from_db(s)),
        Val::Strings(v) => Value::List(v.into_iter().map(Value::String).collect()),
    }
}

/// May the viewer of `ctx` read fields of `who` of a record owned by `owner`?
pub fn may_read(ctx: &Context<'_>, who: Who, owner: impl Into<Subject>) -> bool {
    ctx.viewer().map(|v| policy::may_read(v, who, owner)).unwrap_or(false)
}

/// The value of a declared leaf field of `row` (owned by `owner`) at the field `ctx` resolves:
/// `null` with FORBIDDEN when the viewer may not read it.
pub fn leaf_value<R>(ctx: &Context<'_>, f: &Field<R>, row: &R, owner: impl Into<Subject>, env: &Env<'_>) -> Value {
    if f.who != Who::Public && !guards::allow_or_forbid(ctx, may_read(ctx, f.who, owner)) {
        return Value::Null;
    }
    graphql_value((f.read)(row, env))
}

/// Whether GraphQL answers `f` from the row (it has a name there and no selection of its own).
pub fn is_leaf<R>(f: &Field<R>) -> bool {
    f.graphql.is_some() && !f.ty.loaded()
}

/// The GraphQL type of a declared field (registering the named type it uses).
fn type_of(registry: &mut Registry, ty: Ty, nullable: bool) -> String {
    let named = match ty {
        Ty::Id => <ID as OutputType>::create_type_info(registry),
        Ty::Int => <i32 as OutputType>::create_type_info(registry),
        Ty::Bool => <bool as OutputType>::create_type_info(registry),
        Ty::Str | Ty::OptStr | Ty::Secret | Ty::Revealed => <String as OutputType>::create_type_info(registry),
        Ty::Time | Ty::OptTime => <DateTime<Utc> as OutputType>::create_type_info(registry),
        Ty::OptDate => <Date as OutputType>::create_type_info(registry),
        Ty::UserState => <UserState as OutputType>::create_type_info(registry),
        Ty::Strings => <Vec<String> as OutputType>::create_type_info(registry),
        Ty::Identities => "[Identity!]!".to_string(),
        Ty::Attributes => "[CustomAttribute!]!".to_string(),
    };
    match nullable {
        true => named.trim_end_matches('!').to_string(),
        false => named,
    }
}

fn meta_field(name: &str, doc: &str, ty: String, deprecation: Option<&str>) -> MetaField {
    MetaField {
        name: name.to_string(),
        description: Some(doc.to_string()),
        args: Default::default(),
        ty,
        deprecation: match deprecation {
            Some(reason) => Deprecation::Deprecated {
                reason: Some(reason.to_string()),
            },
            None => Deprecation::NoDeprecated,
        },
        cache_control: Default::default(),
        external: false,
        requires: None,
        provides: None,
        visible: None,
        shareable: false,
        inaccessible: false,
        tags: vec![],
        override_from: None,
        compute_complexity: None,
        directive_invocations: vec![],
        requires_scopes: vec![],
    }
}

/// The declared leaf fields of a table as GraphQL fields.
pub fn leaf_fields<R>(registry: &mut Registry, fields: &[Field<R>]) -> IndexMap<String, MetaField> {
    let mut out = IndexMap::new();
    for f in fields.iter().filter(|f| is_leaf(f)) {
        let name = f.graphql.unwrap_or_default();
        let ty = type_of(registry, f.ty, f.who != Who::Public || f.ty.nullable());
        out.insert(name.to_string(), meta_field(name, f.doc, ty, f.deprecation));
    }
    out
}

/// An object type made of a table's fields.
pub fn object_type(name: &str, doc: &str, fields: IndexMap<String, MetaField>, rust: &'static str) -> MetaType {
    MetaType::Object {
        name: name.to_string(),
        description: Some(doc.to_string()),
        fields,
        cache_control: Default::default(),
        extends: false,
        shareable: false,
        resolvable: true,
        keys: None,
        visible: None,
        inaccessible: false,
        interface_object: false,
        tags: vec![],
        is_subscription: false,
        rust_typename: Some(rust),
        directive_invocations: vec![],
        requires_scopes: vec![],
    }
}

/// A record type whose every field is declared.
pub trait Declared: Send + Sync + 'static {
    type Row: Send + Sync + 'static;
    const NAME: &'static str;
    const DOC: &'static str;
    fn fields() -> &'static [Field<Self::Row>];
    /// The user who owns a record (for the fields' `who`).
    fn owner(row: &Self::Row) -> i32;
}

/// A record of a declared type, as a GraphQL object.
pub struct Obj<T: Declared> {
    pub row: T::Row,
    kind: PhantomData<fn() -> T>,
}

impl<T: Declared> Obj<T> {
    pub fn new(row: T::Row) -> Self {
        Obj { row, kind: PhantomData }
    }
}

impl<T: Declared> OutputType for Obj<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed(T::NAME)
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Object, |registry| {
            let fields = leaf_fields(registry, T::fields());
            object_type(T::NAME, T::DOC, fields, std::any::type_name::<Self>())
        })
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, _field: &Positioned<FieldNode>) -> ServerResult<Value> {
        async_graphql::resolver_utils::resolve_container(ctx, self).await
    }
}

impl<T: Declared> async_graphql::ContainerType for Obj<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let name = ctx.item.node.name.node.as_str();
        let Some(f) = Field::by_graphql(T::fields(), name).filter(|f| is_leaf(f)) else {
            return Ok(None);
        };
        let external_url = ctx.state().map(|s| s.cfg.external_url()).unwrap_or_default();
        let env = Env {
            external_url: &external_url,
        };
        Ok(Some(leaf_value(ctx, f, &self.row, T::owner(&self.row), &env)))
    }
}

impl<T: Declared> async_graphql::ObjectType for Obj<T> {}

pub struct IdentityType;
impl Declared for IdentityType {
    type Row = identity::Model;
    const NAME: &'static str = "Identity";
    const DOC: &'static str = "A link between a user and an external authentication provider.";
    fn fields() -> &'static [Field<identity::Model>] {
        IDENTITY
    }
    fn owner(row: &identity::Model) -> i32 {
        row.user_id
    }
}

pub struct SshKeyType;
impl Declared for SshKeyType {
    type Row = ssh_key::Model;
    const NAME: &'static str = "SshKey";
    const DOC: &'static str = "An SSH public key of a user.";
    fn fields() -> &'static [Field<ssh_key::Model>] {
        SSH_KEY
    }
    fn owner(row: &ssh_key::Model) -> i32 {
        row.user_id
    }
}

pub struct EmailType;
impl Declared for EmailType {
    type Row = email::Model;
    const NAME: &'static str = "Email";
    const DOC: &'static str = "A secondary e-mail address of a user.";
    fn fields() -> &'static [Field<email::Model>] {
        EMAIL
    }
    fn owner(row: &email::Model) -> i32 {
        row.user_id
    }
}

pub struct AccessTokenType;
impl Declared for AccessTokenType {
    type Row = ShownToken;
    const NAME: &'static str = "AccessToken";
    const DOC: &'static str =
        "A personal access token or an impersonation token. Its value is shown only where the API\npromises it.";
    fn fields() -> &'static [Field<ShownToken>] {
        TOKEN
    }
    fn owner(row: &ShownToken) -> i32 {
        row.model.user_id
    }
}

pub struct UserActivityType;
impl Declared for UserActivityType {
    type Row = ActivityRow;
    const NAME: &'static str = "UserActivity";
    const DOC: &'static str = "When a user was last active.";
    fn fields() -> &'static [Field<ActivityRow>] {
        ACTIVITY
    }
    fn owner(row: &ActivityRow) -> i32 {
        row.0.id
    }
}

pub struct CustomAttributeType;
impl Declared for CustomAttributeType {
    type Row = custom_attribute::Model;
    const NAME: &'static str = "CustomAttribute";
    const DOC: &'static str = "A key and value an administrator keeps on a user.";
    fn fields() -> &'static [Field<custom_attribute::Model>] {
        CUSTOM_ATTRIBUTE
    }
    fn owner(row: &custom_attribute::Model) -> i32 {
        row.user_id
    }
}

pub struct UserStatusType;
impl Declared for UserStatusType {
    type Row = StatusRow;
    const NAME: &'static str = "UserStatus";
    const DOC: &'static str = "A user's status: an emoji, a message and availability. Public.";
    fn fields() -> &'static [Field<StatusRow>] {
        STATUS
    }
    fn owner(row: &StatusRow) -> i32 {
        row.0.as_ref().map_or(0, |s| s.user_id)
    }
}

pub type UserStatus = Obj<UserStatusType>;
pub type CustomAttribute = Obj<CustomAttributeType>;
pub type Identity = Obj<IdentityType>;
pub type SshKey = Obj<SshKeyType>;
pub type Email = Obj<EmailType>;
pub type AccessToken = Obj<AccessTokenType>;
pub type UserActivity = Obj<UserActivityType>;

/// The user fields of the declaration, for `User` (which adds its relations to them).
pub fn user_leaf_fields(registry: &mut Registry) -> IndexMap<String, MetaField> {
    leaf_fields(registry, fields::USER)
}

// ---- inputs

/// The input type of a declared attribute.
fn attr_type(a: &Attr<CreateUser>, required: bool) -> String {
    let named = match a.ty {
        AttrTy::Str => "String",
        AttrTy::Int | AttrTy::Int32 => "Int",
        AttrTy::Bool => "Boolean",
    };
    match required {
        true => format!("{named}!"),
        false => named.to_string(),
    }
}

fn input_value(name: &str, doc: &str, ty: String, default_value: Option<&str>) -> MetaInputValue {
    MetaInputValue {
        name: name.to_string(),
        description: Some(doc.to_string()),
        ty,
        deprecation: Deprecation::NoDeprecated,
        default_value: default_value.map(str::to_string),
        visible: None,
        inaccessible: false,
        tags: vec![],
        is_secret: false,
        directive_invocations: vec![],
    }
}

/// Which declared attributes an input has, and how: `(attribute, required, default false)`.
fn attrs_of(create: bool) -> impl Iterator<Item = (&'static Attr<CreateUser>, bool, bool)> {
    USER_ATTRS
        .iter()
        .filter(|a| a.graphql.is_some())
        .filter_map(move |a| match (a.on, create) {
            (On::Required, true) => Some((a, true, false)),
            (On::Required | On::Both, _) => Some((a, false, false)),
            (On::Create, true) => Some((a, a.ty == AttrTy::Bool, a.ty == AttrTy::Bool)),
            (On::Create, false) => None,
        })
}

fn register_input(registry: &mut Registry, name: &str, doc: &str, create: bool, rust: &'static str) -> MetaType {
    let mut input_fields = IndexMap::new();
    if !create {
        <ID as InputType>::create_type_info(registry);
        input_fields.insert(
            "id".to_string(),
            input_value("id", "The user to change.", "ID!".into(), None),
        );
    }
    for (a, required, default_false) in attrs_of(create) {
        let name = a.graphql.unwrap_or_default();
        let ty = attr_type(a, required);
        input_fields.insert(
            name.to_string(),
            input_value(name, a.doc, ty, default_false.then_some("false")),
        );
    }
    MetaType::InputObject {
        name: name.to_string(),
        description: Some(doc.to_string()),
        input_fields,
        visible: None,
        inaccessible: false,
        tags: vec![],
        rust_typename: Some(rust),
        oneof: false,
        directive_invocations: vec![],
    }
}

/// Reads the declared attributes out of an input object.
fn parse_attrs<T: InputType>(obj: &mut IndexMap<Name, Value>, create: bool) -> Result<CreateUser, InputValueError<T>> {
    let mut out = CreateUser::default();
    for (a, _, _) in attrs_of(create) {
        let Some(v) = obj.shift_remove(a.graphql.unwrap_or_default()) else {
            continue;
        };
        let v = match a.ty {
            AttrTy::Str => <Option<String> as InputType>::parse(Some(v))
                .map_err(InputValueError::propagate)?
                .map(AttrVal::Str),
            AttrTy::Int | AttrTy::Int32 => <Option<i32> as InputType>::parse(Some(v))
                .map_err(InputValueError::propagate)?
                .map(|n| AttrVal::Int(n.into())),
            AttrTy::Bool => <Option<bool> as InputType>::parse(Some(v))
                .map_err(InputValueError::propagate)?
                .map(AttrVal::Bool),
        };
        if let Some(v) = v {
            (a.set)(&mut out, v);
        }
    }
    Ok(out)
}

/// Attributes of a new user.
pub struct CreateUserInput(pub CreateUser);

impl InputType for CreateUserInput {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("CreateUserInput")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_input_type::<Self, _>(MetaTypeId::InputObject, |registry| {
            register_input(
                registry,
                "CreateUserInput",
                "Attributes of a new user.",
                true,
                std::any::type_name::<Self>(),
            )
        })
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        match value {
            Some(Value::Object(mut obj)) => Ok(CreateUserInput(parse_attrs(&mut obj, true)?)),
            other => Err(InputValueError::expected_type(other.unwrap_or_default())),
        }
    }

    fn to_value(&self) -> Value {
        Value::Null
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

/// Changes to a user; absent fields stay as they are.
pub struct UpdateUserInput {
    pub id: ID,
    pub attrs: CreateUser,
}

impl InputType for UpdateUserInput {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("UpdateUserInput")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_input_type::<Self, _>(MetaTypeId::InputObject, |registry| {
            register_input(
                registry,
                "UpdateUserInput",
                "Changes to a user; absent fields stay as they are.",
                false,
                std::any::type_name::<Self>(),
            )
        })
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        match value {
            Some(Value::Object(mut obj)) => {
                let id = <ID as InputType>::parse(obj.shift_remove("id")).map_err(InputValueError::propagate)?;
                Ok(UpdateUserInput {
                    id,
                    attrs: parse_attrs(&mut obj, false)?,
                })
            }
            other => Err(InputValueError::expected_type(other.unwrap_or_default())),
        }
    }

    fn to_value(&self) -> Value {
        Value::Null
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}
