//! The `GpgKey` type: the declared fields (`domain/fields.rs`) and what is checked against the
//! owner's confirmed addresses (loaded for a whole page of keys at once).

use std::borrow::Cow;

use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::Field as FieldNode;
use async_graphql::registry::{MetaType, MetaTypeId, Registry};
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, Object, OutputType, Positioned, Result, ServerResult, Value,
};
use entity::gpg_key;

use crate::domain::fields::GPG_KEY;
use crate::domain::gpg_keys;
use crate::domain::shape::{Env, Field};
use crate::graphql::context::CtxExt;
use crate::graphql::declared;
use crate::graphql::loaders::{ConfirmedAddressesOf, DbLoader};

/// An OpenPGP (GPG) public key of a user.
pub struct GpgKey(pub gpg_key::Model);

const DOC: &str = "An OpenPGP (GPG) public key of a user.";

impl OutputType for GpgKey {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("GpgKey")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Object, |registry| {
            let mut fields = declared::leaf_fields(registry, GPG_KEY);
            if let MetaType::Object { fields: checks, .. } = registry.create_fake_output_type::<Checks>() {
                fields.extend(checks);
            }
            declared::object_type("GpgKey", DOC, fields, std::any::type_name::<Self>())
        })
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, _field: &Positioned<FieldNode>) -> ServerResult<Value> {
        async_graphql::resolver_utils::resolve_container(ctx, self).await
    }
}

impl ContainerType for GpgKey {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let name = ctx.item.node.name.node.as_str();
        if let Some(f) = Field::by_graphql(GPG_KEY, name).filter(|f| declared::is_leaf(f)) {
            let external_url = ctx.state().map(|s| s.cfg.external_url()).unwrap_or_default();
            let env = Env {
                external_url: &external_url,
            };
            return Ok(Some(declared::leaf_value(ctx, f, &self.0, self.0.user_id, &env)));
        }
        Checks(&self.0).resolve_field(ctx).await
    }
}

impl async_graphql::ObjectType for GpgKey {}

/// What the key's user ids say checked against the owner's confirmed addresses.
struct Checks<'a>(&'a gpg_key::Model);

#[Object(name = "GpgKeyChecks")]
impl Checks<'_> {
    /// The addresses of the key's user ids that are confirmed addresses of its owner.
    async fn verified_emails(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let confirmed = ctx
            .data::<DataLoader<DbLoader>>()?
            .load_one(ConfirmedAddressesOf(self.0.user_id))
            .await?
            .unwrap_or_default();
        Ok(gpg_keys::verified_emails(self.0, &confirmed)
            .into_iter()
            .map(str::to_string)
            .collect())
    }

    /// Whether one of the key's user ids is a confirmed address of its owner (GitLab's
    /// `verified`).
    async fn verified(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(!self.verified_emails(ctx).await?.is_empty())
    }
}
