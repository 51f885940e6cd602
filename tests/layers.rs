//! The files of `src/` form layers: no two files use each other, directly or through others.
//! A file "uses" another when it names an item of it: a `crate::`, `super::` or `self::` path,
//! or a module brought in by `use` (or declared with `mod`) followed by `::`. Unit tests at the
//! end of a file (`#[cfg(test)] mod tests`) are left out: they may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A file's module path (`src/domain/users.rs` -> `["domain", "users"]`).
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments and without its unit tests.
fn code(text: &str) -> String {
    let line_comment = regex::Regex::new(r"//[^\n]*").unwrap();
    let text = line_comment.replace_all(text, "");
    let tests = regex::Regex::new(r"#\[cfg\(test\)\]\s*mod tests").unwrap();
    match tests.find(&text) {
        Some(m) => text[..m.start()].to_string(),
        None => text.into_owned(),
    }
}

/// `a::{b, c::{d, e}}` -> `a::b`, `a::c::d`, `a::c::e` (aliases dropped).
fn expand_use(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{')
        && tree.ends_with('}')
    {
        let mut pre: Vec<String> = prefix.to_vec();
        pre.extend(
            tree[..open]
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        let inner = &tree[open + 1..tree.len() - 1];
        let (mut depth, mut start) = (0, 0);
        for (i, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_use(&pre, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        if !inner[start..].trim().is_empty() {
            expand_use(&pre, &inner[start..], out);
        }
        return;
    }
    let tree = tree.split(" as ").next().unwrap_or(tree);
    let mut path = prefix.to_vec();
    path.extend(
        tree.split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from),
    );
    out.push(path);
}

/// The files each file of `root` uses.
fn graph(root: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    // main.rs is a crate of its own, on top of the library.
    files.retain(|f| f != &root.join("main.rs"));
    let by_module: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_of(root, f), f.clone())).collect();
    let resolve =
        |parts: &[String]| -> Option<&PathBuf> { (0..=parts.len()).rev().find_map(|n| by_module.get(&parts[..n])) };
    let use_re = regex::Regex::new(r"\buse\s+([^;]+);").unwrap();
    let path_re = regex::Regex::new(r"\b((?:crate|super|self)(?:::\w+)+)").unwrap();
    let mod_re = regex::Regex::new(r"\bmod\s+(\w+)\s*;").unwrap();
    let mut edges = BTreeMap::new();
    for file in &files {
        let src = code(&std::fs::read_to_string(file).unwrap());
        let me = module_of(root, file);
        let mut paths: Vec<Vec<String>> = Vec::new();
        for c in use_re.captures_iter(&src) {
            expand_use(&[], &c[1], &mut paths);
        }
        let imported = paths.len();
        let body = use_re.replace_all(&src, "");
        for c in path_re.captures_iter(&body) {
            paths.push(c[1].split("::").map(String::from).collect());
        }
        // Modules named by `use` or `mod`: their `alias::item` paths name files too.
        let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in &paths {
            let mut p = p.clone();
            if p.last().is_some_and(|s| s == "self") {
                p.pop();
            }
            if p.len() >= 2 && matches!(p[0].as_str(), "crate" | "super" | "self") {
                aliases.insert(p.last().unwrap().clone(), p);
            }
        }
        for c in mod_re.captures_iter(&src) {
            aliases
                .entry(c[1].to_string())
                .or_insert_with(|| vec!["self".into(), c[1].to_string()]);
        }
        for (alias, base) in &aliases {
            let re = regex::Regex::new(&format!(r"(?:^|[^\w:]){}((?:::\w+)+)", regex::escape(alias))).unwrap();
            for c in re.captures_iter(&body) {
                let mut p = base.clone();
                p.extend(c[1].split("::").filter(|s| !s.is_empty()).map(String::from));
                paths.push(p);
            }
        }
        let mut deps = BTreeSet::new();
        for (n, mut parts) in paths.into_iter().enumerate() {
            if parts.last().is_some_and(|s| s == "self") {
                parts.pop();
            }
            let target: Vec<String> = match parts.first().map(String::as_str) {
                Some("crate") => parts[1..].to_vec(),
                Some("super" | "self") => {
                    let mut base = me.clone();
                    let mut i = usize::from(parts[0] == "self");
                    while parts.get(i).is_some_and(|s| s == "super") {
                        base.pop();
                        i += 1;
                    }
                    base.extend(parts[i..].iter().cloned());
                    base
                }
                _ => continue,
            };
            // `use crate::domain::users;` names a module, not an item of it: its uses are the
            // `users::...` paths that follow.
            if n < imported && by_module.contains_key(&target) {
                continue;
            }
            if let Some(f) = resolve(&target)
                && f != file
            {
                deps.insert(f.clone());
            }
        }
        edges.insert(file.clone(), deps);
    }
    edges
}

/// Groups of files that reach each other (Tarjan's strongly connected components, size > 1).
fn cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on: BTreeSet<&'a PathBuf>,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        for w in &s.edges[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                group.push(w.clone());
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.out.push(group);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_two_files_of_src_use_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&root);
    assert!(edges.len() > 40, "the walk found {} files", edges.len());
    // The walk sees real uses: the GraphQL handler uses the schema, the REST users handler the
    // domain's users.
    assert!(edges[&root.join("graphql/handler.rs")].contains(&root.join("graphql/schema.rs")));
    assert!(edges[&root.join("rest/users.rs")].contains(&root.join("domain/users.rs")));
    let found = cycles(&edges);
    let mut report = String::new();
    for group in &found {
        report.push_str("these files use each other:\n");
        for f in group {
            let inside: Vec<String> = edges[f]
                .iter()
                .filter(|d| group.contains(d))
                .map(|d| d.strip_prefix(&root).unwrap().display().to_string())
                .collect();
            report.push_str(&format!(
                "  {} -> {}\n",
                f.strip_prefix(&root).unwrap().display(),
                inside.join(", ")
            ));
        }
    }
    assert!(found.is_empty(), "{report}");
}

#[test]
fn the_walk_finds_a_cycle_when_there_is_one() {
    let dir = std::env::temp_dir().join(format!("ug-layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "pub mod x;\nuse crate::b::Thing;\n").unwrap();
    std::fs::write(dir.join("a/x.rs"), "pub fn f() { super::super::b::g() }\n").unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "use crate::a;\npub fn g() { a::x::f() }\npub struct Thing;\n",
    )
    .unwrap();
    let edges = graph(&dir);
    let found = cycles(&edges);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 1, "{edges:?}");
    assert_eq!(found[0], vec![dir.join("a/x.rs"), dir.join("b.rs")]);
}
