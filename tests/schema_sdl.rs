//! `schema.graphql` is the public contract: it must equal what `usergraph schema` prints.
//! `UPDATE_SCHEMA=1 cargo test schema` rewrites it (never under CI).

use std::path::PathBuf;

#[test]
fn schema_file_matches_the_binary() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_usergraph"))
        .arg("schema")
        .output()
        .expect("run usergraph schema");
    assert!(
        out.status.success(),
        "usergraph schema failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("utf-8 SDL");
    assert_eq!(
        printed,
        usergraph::graphql::schema::sdl(),
        "the binary prints the library's SDL"
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if printed != committed {
        if std::env::var("UPDATE_SCHEMA").is_ok() && std::env::var("CI").is_err() {
            std::fs::write(&path, &printed).expect("write schema.graphql");
            return;
        }
        panic!("schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo test schema` and commit it");
    }
    for must in [
        "type User",
        "type Query",
        "type Mutation",
        "input: CreateUserInput!",
        "): CreateUserPayload!",
    ] {
        assert!(printed.contains(must), "SDL lacks {must}");
    }
}

/// Every type, field, argument, input field and enum value a client sees has a description (they
/// show in GraphiQL and in schema.graphql).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_in_the_schema_is_described() {
    let app = crate::common::TestApp::start(crate::common::Backend::Sqlite).await;
    let q = "{ __schema { types { name kind description
        fields(includeDeprecated: true) { name description args { name description } }
        inputFields { name description }
        enumValues(includeDeprecated: true) { name description } } } }";
    let res = app.gql(None, q, serde_json::json!({})).await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    let described = |v: &serde_json::Value| v["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    for t in res.data()["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(t) {
            missing.push(name.to_string());
        }
        for f in t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(t["inputFields"].as_array().into_iter().flatten())
        {
            if !described(f) {
                missing.push(format!("{name}.{}", f["name"].as_str().unwrap()));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(a) {
                    missing.push(format!(
                        "{name}.{}({})",
                        f["name"].as_str().unwrap(),
                        a["name"].as_str().unwrap()
                    ));
                }
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if !described(v) {
                missing.push(format!("{name}.{}", v["name"].as_str().unwrap()));
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}
