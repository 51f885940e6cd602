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
        usergraph::graphql::sdl(),
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
        "createUser(input: CreateUserInput!): CreateUserPayload!",
    ] {
        assert!(printed.contains(must), "SDL lacks {must}");
    }
}
