//! The OpenAPI 3 document of the REST router: the paths as kept in `openapi.json`, and every
//! schema of a record and of the users' parameters written from the declaration
//! (`domain/fields.rs`), so a field or an attribute cannot be added without being documented.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::domain::fields::{self, CreateUser};
use crate::domain::shape::{Attr, AttrTy, Field, On, Shape, Ty, Who};
use crate::domain::tokens;

/// The paths and the schemas no declaration describes (errors, events).
const TEMPLATE: &str = include_str!("openapi.json");

fn schema_of(ty: Ty) -> Value {
    match ty {
        Ty::Id | Ty::Int => json!({ "type": "integer" }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Str | Ty::Secret => json!({ "type": "string" }),
        Ty::OptStr | Ty::Revealed => json!({ "type": "string", "nullable": true }),
        Ty::Time => json!({ "type": "string", "format": "date-time" }),
        Ty::OptTime => json!({ "type": "string", "format": "date-time", "nullable": true }),
        Ty::OptDate => json!({ "type": "string", "format": "date", "nullable": true }),
        Ty::UserState => json!({
            "type": "string",
            "enum": ["active", "blocked", "ldap_blocked", "deactivated", "banned", "blocked_pending_approval"],
        }),
        Ty::Strings => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::Attributes => json!({
            "type": "array",
            "items": {
                "type": "object",
                "properties": { "key": { "type": "string" }, "value": { "type": "string" } },
            },
        }),
        Ty::Identities => json!({
            "type": "array",
            "items": {
                "type": "object",
                "properties": { "provider": { "type": "string" }, "extern_uid": { "type": "string" } },
            },
        }),
    }
}

/// A record's REST representation up to `cut`: its fields with a REST name, all required but
/// those that may be left out.
fn record<R>(fields: &[Field<R>], cut: Shape) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields.iter().filter(|f| f.shape <= cut) {
        let Some(name) = f.rest else { continue };
        let mut schema = schema_of(f.ty);
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("description".into(), Value::String(f.doc.to_string()));
        }
        properties.insert(name.to_string(), schema);
        // The legacy token shows only under sudo, custom attributes only when asked for, a
        // token's value when it is made, the profile when it is not private.
        if !matches!(f.ty, Ty::Secret | Ty::Attributes | Ty::Revealed) && !matches!(f.who, Who::Admin | Who::Profile) {
            required.push(Value::String(name.to_string()));
        }
    }
    json!({ "type": "object", "properties": properties, "required": required })
}

/// The parameters of creating (`create`) or changing a user.
fn attrs(attrs: &[Attr<CreateUser>], create: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for a in attrs.iter().filter(|a| create || a.on != On::Create) {
        let Some(name) = a.rest else { continue };
        let ty = match a.ty {
            AttrTy::Str => "string",
            AttrTy::Int | AttrTy::Int32 => "integer",
            AttrTy::Bool => "boolean",
        };
        properties.insert(name.to_string(), json!({ "type": ty, "description": a.doc }));
        if create && a.on == On::Required {
            required.push(Value::String(name.to_string()));
        }
    }
    json!({ "type": "object", "properties": properties, "required": required })
}

/// A scope name a token may be given (admin-only ones included).
fn token_scope() -> Value {
    let names: Vec<&str> = tokens::USER_SCOPES
        .iter()
        .chain(tokens::ADMIN_SCOPES)
        .copied()
        .collect();
    json!({ "type": "string", "enum": names, "description": "GitLab's scope names; admin-only: sudo, admin_mode, read_service_ping." })
}

/// The document, made once.
pub static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut doc: Value = serde_json::from_str(TEMPLATE).unwrap_or_else(|_| json!({}));
    let schemas = [
        ("UserBasic", record(fields::USER, Shape::Basic)),
        ("User", record(fields::USER, Shape::Single)),
        ("UserFull", record(fields::USER, Shape::Admin)),
        ("SshKey", record(fields::SSH_KEY, Shape::Basic)),
        ("GpgKey", record(fields::GPG_KEY, Shape::Basic)),
        ("Email", record(fields::EMAIL, Shape::Basic)),
        ("ImpersonationToken", record(fields::TOKEN, Shape::Basic)),
        ("PersonalAccessToken", record(fields::TOKEN, Shape::Basic)),
        ("TokenScope", token_scope()),
        ("UserStatus", record(fields::STATUS, Shape::Basic)),
        ("UserActivity", record(fields::ACTIVITY, Shape::Basic)),
        ("UserCreate", attrs(fields::USER_ATTRS, true)),
        ("UserUpdate", attrs(fields::USER_ATTRS, false)),
    ];
    if let Some(obj) = doc["components"]["schemas"].as_object_mut() {
        for (name, schema) in schemas {
            obj.insert(name.to_string(), schema);
        }
    }
    doc.to_string()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_names_a_schema() {
        let doc: Value = serde_json::from_str(&DOCUMENT).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let text = DOCUMENT.as_str();
        let mut rest = text;
        while let Some(i) = rest.find("#/components/schemas/") {
            rest = &rest[i + 21..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "{name}");
        }
        // Every attribute and field of the declaration is documented (one attribute was once
        // missing from the hand-kept document).
        let create = &schemas["UserCreate"]["properties"];
        for a in fields::USER_ATTRS.iter().filter_map(|a| a.rest) {
            assert!(create.get(a).is_some(), "{a}");
        }
        let full = &schemas["UserFull"]["properties"];
        for f in fields::USER.iter().filter_map(|f| f.rest) {
            assert!(full.get(f).is_some(), "{f}");
        }
    }
}
