//! The layering of docs/architecture.md, checked on the source tree: imports run only downward
//! (app → platform → core), no two modules import each other (directly or through others), no
//! production source file is over 700 lines, and `unsafe` appears only in the user database.
//!
//! Run alone with `cargo test --test architecture`. It reads `use crate::…` and `crate::…` paths in
//! the production part of each file (everything before its `#[cfg(test)]`; `*_tests.rs` files are
//! tests), which is how every module in this crate names another.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 3] = ["core", "platform", "app"];
const MAX_LINES: usize = 700;

/// `src/core/policy/check/values.rs` → `core::policy::check` (a folder's files are one module).
fn module_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The production part of a file: up to its first `#[cfg(test)]`.
fn production(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// Every `crate::a::b::…` path named in `text`, expanded over `use crate::x::{a, b::c}` groups
/// (to the first level inside the braces, which is where module names sit here).
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let head: Vec<String> = rest[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if rest[end..].starts_with('{') {
            let close = rest[end..].find('}').map_or(rest.len(), |c| end + c);
            for item in rest[end + 1..close].split(',') {
                let mut path = head.clone();
                path.extend(
                    item.trim()
                        .split("::")
                        .map(|s| s.trim().trim_start_matches('{').to_string())
                        .filter(|s| !s.is_empty() && s != "self"),
                );
                paths.push(path);
            }
        } else {
            paths.push(head);
        }
    }
    paths
}

/// The longest module in `modules` that `path` starts with.
fn resolve(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

fn layer(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    LAYERS.iter().position(|l| *l == top)
}

struct Tree {
    /// module → the modules it names.
    deps: BTreeMap<String, BTreeSet<String>>,
    /// (file, production lines, whole text)
    files: Vec<(PathBuf, usize, String)>,
}

fn tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let modules: BTreeSet<String> = files
        .iter()
        .filter(|f| !f.to_string_lossy().ends_with("tests.rs"))
        .map(|f| module_of(f, &src))
        .collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if file.to_string_lossy().ends_with("tests.rs") {
            continue;
        }
        let module = module_of(&file, &src);
        let prod = production(&text);
        for path in crate_paths(prod) {
            if let Some(target) = resolve(&path, &modules)
                && target != module
                && !module.starts_with(&format!("{target}::"))
                && !target.starts_with(&format!("{module}::"))
            {
                deps.entry(module.clone()).or_default().insert(target);
            }
        }
        out.push((file, prod.lines().count(), text));
    }
    Tree { deps, files: out }
}

#[test]
fn imports_run_only_downward() {
    let tree = tree();
    let mut upward = Vec::new();
    for (module, targets) in &tree.deps {
        for target in targets {
            if let (Some(from), Some(to)) = (layer(module), layer(target))
                && to > from
            {
                upward.push(format!("{module} → {target}"));
            }
        }
    }
    assert!(upward.is_empty(), "imports running upward:\n{upward:#?}");
    assert!(
        tree.deps.keys().any(|m| m.starts_with("app::")),
        "the walk found the app layer"
    );
}

#[test]
fn no_module_imports_itself_through_others() {
    let tree = tree();
    // Depth-first search for a cycle; report the first one found.
    fn visit(
        module: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|m| m == module) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        stack.push(module.to_string());
        for next in deps.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, deps, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for module in tree.deps.keys() {
        if let Some(cycle) = visit(module, &tree.deps, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn no_production_file_is_over_700_lines() {
    let long: Vec<String> = tree()
        .files
        .iter()
        .filter(|(_, lines, _)| *lines > MAX_LINES)
        .map(|(file, lines, _)| format!("{}: {lines}", file.display()))
        .collect();
    assert!(long.is_empty(), "split these files:\n{long:#?}");
}

#[test]
fn unsafe_lives_only_in_the_user_database() {
    for (file, _, text) in tree().files {
        let allowed = file.ends_with("platform/users.rs");
        assert_eq!(
            text.contains("allow(unsafe_code)"),
            allowed,
            "{}",
            file.display()
        );
    }
}

#[test]
fn the_walk_reads_grouped_paths_and_layers() {
    // The walk itself must work, or the tests above pass on nothing.
    let paths = crate_paths(
        "use crate::core::policy::{Policy, schema::Key};\nx(crate::app::engine::Engine)",
    );
    assert_eq!(
        paths,
        vec![
            vec!["core", "policy", "Policy"],
            vec!["core", "policy", "schema", "Key"],
            vec!["app", "engine", "Engine"],
        ]
    );
    let modules: BTreeSet<String> = ["core::policy", "core::policy::schema", "app::engine"]
        .map(String::from)
        .into();
    assert_eq!(
        resolve(&paths[1], &modules).as_deref(),
        Some("core::policy::schema")
    );
    assert!(layer("app::engine") > layer("core::policy"));
}
