//! The document limits, computed in one pass over the parsed document: time linear in its size
//! however its fragments spread each other, because each fragment is measured once and its
//! figures reused wherever it is spread (graphql-js and async-graphql re-walk every spread,
//! which doubles the work with each fragment that spreads the next one twice).
//!
//! - **fields as executed**: every field selection, aliases included, a fragment counted once per
//!   spread (so `...F ...F` costs twice F);
//! - **fields as written**: every field in the text, unused fragments included (what the parser
//!   and validator walk);
//! - **depth**: the nesting of data fields, fragments expanded, introspection left out (tooling's
//!   introspection queries nest `ofType` nine deep);
//! - **introspection lists**: the nesting of `fields`, `inputFields`, `interfaces` and
//!   `possibleTypes` under `__schema`/`__type`, which graphql-js's `MaxIntrospectionDepthRule`
//!   refuses at 3: the standard introspection query uses 1, while each more level multiplies the
//!   answer by the number of types.
//!
//! The same pass notes a NUL character in any string the document writes (arguments, directive
//! arguments, variable defaults): NUL is refused in every text input, and a document is measured
//! once, before it is cached, so a cached document costs no scan.

use std::collections::HashMap;

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};
use async_graphql_value::{ConstValue, Name, Value};

/// Refused at this nesting of introspection lists (graphql-js's `MAX_LISTS_DEPTH`).
pub const MAX_INTROSPECTION_LISTS: usize = 3;

const LIST_FIELDS: [&str; 4] = ["fields", "inputFields", "interfaces", "possibleTypes"];

/// What one selection set costs, fragments expanded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Measure {
    /// Field selections as executed (saturating).
    pub fields: u64,
    /// Data-field nesting, introspection left out.
    pub depth: usize,
    /// Deepest nesting of introspection lists inside an introspection field.
    pub introspection_lists: usize,
    /// List-field nesting of this set when it is inside introspection (a fragment spread under
    /// `__schema` needs it).
    lists: usize,
    /// A string argument holds NUL.
    pub nul: bool,
}

/// The figures of a whole document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub executed_fields: u64,
    pub written_fields: u64,
    pub depth: usize,
    pub introspection_lists: usize,
    /// A string written in the document (an argument or a variable's default) holds NUL.
    pub nul: bool,
}

/// True when a text in `v` holds NUL (a variable's value, or a default).
pub fn const_has_nul(v: &ConstValue) -> bool {
    match v {
        ConstValue::String(s) => s.contains('\0'),
        ConstValue::List(items) => items.iter().any(const_has_nul),
        ConstValue::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || const_has_nul(v)),
        _ => false,
    }
}

fn value_has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(value_has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || value_has_nul(v)),
        _ => false,
    }
}

fn arguments_have_nul(args: &[(Positioned<Name>, Positioned<Value>)]) -> bool {
    args.iter().any(|(_, v)| value_has_nul(&v.node))
}

fn directives_have_nul(directives: &[Positioned<Directive>]) -> bool {
    directives.iter().any(|d| arguments_have_nul(&d.node.arguments))
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    done: HashMap<&'a str, Measure>,
    /// Fragments being measured: a spread of one of them is a cycle (refused by validation
    /// later) and counts nothing here.
    open: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Measure {
        let mut m = Measure::default();
        for item in &set.items {
            let child = match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    let sub = self.set(&f.node.selection_set.node);
                    let introspection = name == "__schema" || name == "__type";
                    let is_list = LIST_FIELDS.contains(&name);
                    Measure {
                        fields: sub.fields.saturating_add(1),
                        depth: if name.starts_with("__") { 0 } else { sub.depth + 1 },
                        introspection_lists: if introspection {
                            sub.lists.max(sub.introspection_lists)
                        } else {
                            sub.introspection_lists
                        },
                        lists: sub.lists + usize::from(is_list),
                        nul: sub.nul
                            || arguments_have_nul(&f.node.arguments)
                            || directives_have_nul(&f.node.directives),
                    }
                }
                Selection::InlineFragment(f) => {
                    let mut m = self.set(&f.node.selection_set.node);
                    m.nul |= directives_have_nul(&f.node.directives);
                    m
                }
                Selection::FragmentSpread(s) => {
                    let mut m = self.fragment(s.node.fragment_name.node.as_str());
                    m.nul |= directives_have_nul(&s.node.directives);
                    m
                }
            };
            m.fields = m.fields.saturating_add(child.fields);
            m.depth = m.depth.max(child.depth);
            m.introspection_lists = m.introspection_lists.max(child.introspection_lists);
            m.lists = m.lists.max(child.lists);
            m.nul |= child.nul;
        }
        m
    }

    fn fragment(&mut self, name: &'a str) -> Measure {
        if let Some(m) = self.done.get(name) {
            return *m;
        }
        if self.open.contains(&name) {
            return Measure::default();
        }
        let Some((key, frag)) = self.doc.fragments.get_key_value(name) else {
            return Measure::default();
        };
        self.open.push(key.as_str());
        let m = self.set(&frag.node.selection_set.node);
        self.open.pop();
        self.done.insert(key.as_str(), m);
        m
    }
}

/// Every field written in `set` and below, fragments not followed.
fn written(set: &SelectionSet) -> u64 {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => 1 + written(&f.node.selection_set.node),
            Selection::InlineFragment(f) => written(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Names a document may hold per field allowed (arguments, directives, variables and type
/// conditions are names too); past it the text is refused before it is parsed, which bounds the
/// memory one parse takes.
pub const NAMES_PER_FIELD: usize = 8;

/// How many name tokens `text` holds (strings and comments skipped), in one pass over its bytes.
/// Every field is a name, so this bounds the fields written before anything is parsed.
pub fn name_tokens(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                    i += if b[i] == b'\\' && b[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            c if c == b'_' || c.is_ascii_alphabetic() => {
                n += 1;
                while i < b.len() && (b[i] == b'_' || b[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() => {
                // A number, with its exponent and fraction letters: not a name.
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    n
}

/// Measures `doc` in time linear in its size.
pub fn measure(doc: &ExecutableDocument) -> Figures {
    let mut w = Walker {
        doc,
        done: HashMap::new(),
        open: Vec::new(),
    };
    let mut f = Figures::default();
    for (_, op) in doc.operations.iter() {
        let m = w.set(&op.node.selection_set.node);
        f.executed_fields = f.executed_fields.saturating_add(m.fields);
        f.depth = f.depth.max(m.depth);
        f.introspection_lists = f.introspection_lists.max(m.introspection_lists);
        f.nul |= m.nul
            || directives_have_nul(&op.node.directives)
            || op
                .node
                .variable_definitions
                .iter()
                .any(|v| v.node.default_value.as_ref().is_some_and(|d| const_has_nul(&d.node)));
        f.written_fields += written(&op.node.selection_set.node);
    }
    f.written_fields += doc
        .fragments
        .values()
        .map(|d| written(&d.node.selection_set.node))
        .sum::<u64>();
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(q: &str) -> Figures {
        measure(&async_graphql::parser::parse_query(q).unwrap())
    }

    #[test]
    fn fields_as_written_and_as_executed() {
        let f = of(
            "query { a: currentUser { id } b: currentUser { id username } ...F ...F } fragment F on Query { users { nodes { id } } }",
        );
        assert_eq!(f.written_fields, 2 + 3 + 3);
        assert_eq!(f.executed_fields, 2 + 3 + 2 * 3);
    }

    #[test]
    fn depth_skips_introspection_and_expands_fragments() {
        assert_eq!(of("{ a { b { c } } }").depth, 3);
        assert_eq!(
            of("{ __schema { types { fields { type { ofType { ofType { name } } } } } } a }").depth,
            1
        );
        assert_eq!(of("{ a { ...F } } fragment F on T { b { c } }").depth, 3);
        assert_eq!(of("{ a { ...F } } fragment F on T { b { ...F } }").depth, 2);
    }

    /// 60 fragments, each spreading the next twice: 2^60 fields as executed, measured at once.
    #[test]
    fn doubling_fragments_are_measured_in_linear_time() {
        let mut q = String::from("{ ...F0 }");
        for i in 0..60 {
            q.push_str(&format!(
                " fragment F{i} on Query {{ __typename ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        q.push_str(" fragment F60 on Query { __typename }");
        let started = std::time::Instant::now();
        let f = of(&q);
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        assert_eq!(f.executed_fields, (1u64 << 61) - 1);
        assert_eq!(f.written_fields, 61);
    }

    #[test]
    fn introspection_list_nesting() {
        let standard = "{ __schema { types { ...T } } } fragment T on __Type { fields { type { ofType { ofType { name } } } } inputFields { name } interfaces { name } possibleTypes { name } }";
        assert_eq!(of(standard).introspection_lists, 1);
        assert_eq!(
            of("{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }")
                .introspection_lists,
            3
        );
        assert_eq!(
            of("{ __type(name: \"User\") { ...A } } fragment A on __Type { fields { type { ...B } } } fragment B on __Type { fields { name } }").introspection_lists,
            2
        );
        assert_eq!(of("{ users { nodes { id } } }").introspection_lists, 0);
    }

    #[test]
    fn names_are_counted_outside_strings_and_comments() {
        assert_eq!(name_tokens("{ a b(x: 1e5) }"), 3);
        assert_eq!(name_tokens("{ a(s: \"b c d\") # e f g\n h }"), 3);
        assert_eq!(name_tokens("{ a(s: \"\"\"b \\\"\"\" c\"\"\") }"), 2);
        assert_eq!(name_tokens("{ a(s: \"x\\\"y\") b }"), 3);
    }

    #[test]
    fn nul_in_any_written_string() {
        assert!(!of(r#"{ user(username: "a\u0041") { id } }"#).nul);
        assert!(of(r#"{ user(username: "a\u0000") { id } }"#).nul);
        assert!(of(r#"{ a { ...F } } fragment F on T { b(x: ["ok", {k: "\u0000"}]) }"#).nul);
        assert!(of(r#"{ a @include(if: true) @skip(x: "\u0000") }"#).nul);
        assert!(of(r#"query($v: String = "\u0000") { a(x: $v) }"#).nul);
    }

    #[test]
    fn cycles_terminate() {
        let f = of("{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }");
        assert_eq!(f.written_fields, 2);
        assert!(f.executed_fields >= 2);
    }
}
