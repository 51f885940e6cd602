//! Property tests of every parser of outside input: whatever arrives, they answer or refuse,
//! never panic, and what they accept stays within bounds.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::auth::extract::credentials;
use crate::domain::page::{MAX_SIZE, Window};
use crate::domain::ssh_keys;
use crate::domain::users::UserRef;
use crate::domain::viewer::Scopes;
use crate::rest::pagination;
use crate::rest::params::{Params, parse_bool, parse_date, parse_datetime};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,5}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn booleans_and_dates_never_panic(s in ".{0,40}") {
        let _ = parse_bool(&s);
        let _ = parse_date(&s);
        let _ = parse_datetime(&s);
    }

    #[test]
    fn dates_round_trip(y in 1900i32..2200, m in 1u32..13, d in 1u32..29) {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        prop_assert_eq!(parse_date(&date.format("%Y-%m-%d").to_string()), Some(date));
        prop_assert_eq!(parse_date(&format!("{y}-{m}-{d}")), Some(date));
    }

    #[test]
    fn typed_parameters_answer_or_refuse(v in json_value()) {
        let from_text = v.is_string();
        let mut map = Map::new();
        map.insert("p".into(), v);
        let p = Params(map);
        let _ = p.string("p");
        let _ = p.boolean("p");
        let _ = p.int("p");
        let _ = p.int32("p");
        let _ = p.date("p");
        let _ = p.datetime("p");
        let _ = p.one_of("p", &["asc", "desc"]);
        if let (true, Ok(Some(list))) = (from_text, p.list("p")) {
            // A comma-separated string never yields empty or padded items.
            prop_assert!(list.iter().all(|s| !s.is_empty() && s.trim() == s));
        }
        if let Ok(Some(n)) = p.int32("p") {
            prop_assert_eq!(p.int("p").unwrap(), Some(i64::from(n)));
        }
    }

    #[test]
    fn pagination_stays_in_bounds(page in prop_oneof![".{0,12}", any::<i64>().prop_map(|n| n.to_string())], per in prop_oneof![".{0,12}", any::<i64>().prop_map(|n| n.to_string())]) {
        let mut query = String::from("page=");
        query.push_str(&form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>());
        query.push_str("&per_page=");
        query.push_str(&form_urlencoded::byte_serialize(per.as_bytes()).collect::<String>());
        if let Ok(p) = pagination::page(&Params::from_query(Some(&query))) {
            prop_assert!(p.page >= 1);
            prop_assert!((1..=MAX_SIZE).contains(&p.per_page));
            let w = crate::domain::page::PageRequest::Numbered(p).window(None).unwrap();
            prop_assert!(w.offset <= crate::domain::page::MAX_OFFSET);
        }
    }

    #[test]
    fn relay_windows_stay_in_bounds(
        first in proptest::option::of(any::<i32>()),
        last in proptest::option::of(any::<i32>()),
        after in proptest::option::of(any::<u64>()),
        before in proptest::option::of(any::<u64>()),
        total in proptest::option::of(0u64..1_000_000),
    ) {
        if let Ok(w) = Window::from_relay(first, after, last, before, total) {
            prop_assert!(w.limit <= MAX_SIZE.max(crate::domain::page::DEFAULT_SIZE));
            prop_assert!(w.offset <= crate::domain::page::MAX_OFFSET, "offsets must fit every backend");
        }
    }

    #[test]
    fn ssh_key_parser_never_panics(s in ".{0,200}") {
        let _ = ssh_keys::parse(&s);
    }

    #[test]
    fn ssh_key_parser_on_key_shaped_input(kind in prop::sample::select(ssh_keys::KEY_TYPES.to_vec()), body in prop::collection::vec(any::<u8>(), 0..300), comment in "[a-z@.]{0,10}") {
        use base64::Engine;
        let line = format!("{kind} {} {comment}", base64::engine::general_purpose::STANDARD.encode(&body));
        if let Ok(k) = ssh_keys::parse(&line) {
            prop_assert!(k.fingerprint_sha256.starts_with("SHA256:"));
            prop_assert_eq!(k.fingerprint_md5.len(), 47);
        }
    }

    #[test]
    fn valid_ed25519_keys_always_parse(pk in prop::array::uniform32(any::<u8>())) {
        use base64::Engine;
        let mut blob = Vec::new();
        for part in [b"ssh-ed25519".as_slice(), pk.as_slice()] {
            blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
            blob.extend_from_slice(part);
        }
        let line = format!("ssh-ed25519 {}", base64::engine::general_purpose::STANDARD.encode(blob));
        let k = ssh_keys::parse(&line).unwrap();
        prop_assert_eq!(k.key_type, "ssh-ed25519");
        prop_assert_eq!(ssh_keys::parse(&line).unwrap().fingerprint_sha256, k.fingerprint_sha256);
    }

    #[test]
    fn scopes_and_sudo_targets(s in ".{0,40}") {
        let scopes = Scopes::parse(&s);
        prop_assert!(scopes.names().iter().all(|n| Scopes::NAMES.contains(n)));
        match UserRef::parse(&s) {
            UserRef::Id(id) => prop_assert_eq!(id.to_string(), s),
            UserRef::Username(u) => prop_assert_eq!(u, s),
        }
    }

    #[test]
    fn credentials_from_any_request(query in ".{0,60}", token in "[ -~]{0,40}", sudo in "[ -~]{0,20}") {
        let mut headers = axum::http::HeaderMap::new();
        if let Ok(v) = token.parse() {
            headers.insert("authorization", v);
        }
        if let Ok(v) = sudo.parse() {
            headers.insert("sudo", v);
        }
        let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        if let Ok(uri) = format!("/x?private_token={q}").parse::<axum::http::Uri>() {
            let c = credentials(&headers, &uri);
            prop_assert!(c.token.is_some());
        }
    }
}
