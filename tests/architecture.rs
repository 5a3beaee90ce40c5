//! The layering of docs/architecture.md, checked on the source tree: imports run only downward
//! (app → platform → core), no two modules import each other (directly or through others), no
//! production source file is over 700 lines, and `unsafe` appears only in the user database.
//!
//! Run alone with `cargo test --test architecture`. It reads the module paths in the production
//! part of each file (everything before its `#[cfg(test)]`; `*_tests.rs` files are tests):
//! `crate::…`, `super::…`, `self::…` and a `mod.rs` naming its own children, which is every way a
//! module in this crate names another. Each file is a module, and edges between a parent and its
//! children count like any other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: [&str; 3] = ["core", "platform", "app"];
const MAX_LINES: usize = 700;

/// `src/core/policy/check/values.rs` → `core::policy::check::values`; a folder's `mod.rs` is the
/// folder's module (`src/core/policy/mod.rs` → `core::policy`).
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

/// `text` without its comment lines: a doc link (`[`merge`](super::merge)`) names a module for
/// the reader, not for the compiler.
fn code_only(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path named in `text`, the production part of module `module`, as a path from the
/// crate root: `crate::a::b`, `super::b` (the parent's `b`, `super::super::` likewise), `self::b`,
/// and a bare `b::…` naming one of `module`'s own children (as a `mod.rs` names its files),
/// each expanded over `{a, b::c}` groups (to the first level inside the braces, which is where
/// module names sit here).
fn module_paths(text: &str, module: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let own: Vec<String> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(str::to_string).collect()
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut paths = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let Some(start) = rest.find(|c: char| ident(c)) else {
            break;
        };
        let word_end = rest[start..]
            .find(|c: char| !ident(c))
            .map_or(rest.len(), |e| start + e);
        let word = &rest[start..word_end];
        let before = text[..at + start].chars().last();
        at += word_end;
        if before.is_some_and(|c| ident(c) || c == ':' || c == '$')
            || !rest[word_end..].starts_with("::")
        {
            continue;
        }
        // The path as written, from `word` to the first character that cannot be in one.
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(ident(c) || c == ':'))
            .unwrap_or(tail.len());
        let written: Vec<&str> = tail[..end].split("::").filter(|s| !s.is_empty()).collect();
        let mut head: Vec<String> = match word {
            "crate" => written[1..].iter().map(|s| s.to_string()).collect(),
            "self" | "super" => {
                let mut base = own.clone();
                let mut i = 0;
                if written[0] == "self" {
                    i = 1;
                }
                while written.get(i) == Some(&"super") {
                    base.pop();
                    i += 1;
                }
                base.extend(written[i..].iter().map(|s| s.to_string()));
                base
            }
            child if children.contains(child) => {
                let mut base = own.clone();
                base.extend(written.iter().map(|s| s.to_string()));
                base
            }
            _ => continue,
        };
        at = at - word_end + start + end;
        if tail[end..].starts_with('{') {
            let close = tail[end..].find('}').map_or(tail.len(), |c| end + c);
            for item in tail[end + 1..close].split(',') {
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
            head.retain(|s| !s.is_empty());
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

/// module → the modules its production text names, for `(module, production text)` pairs.
/// Parent ↔ child edges count like any other: a child that names its parent while the parent
/// names it is a cycle.
fn deps_of(sources: &[(String, &str)]) -> BTreeMap<String, BTreeSet<String>> {
    let modules: BTreeSet<String> = sources.iter().map(|(m, _)| m.clone()).collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, prod) in sources {
        let children: BTreeSet<String> = modules
            .iter()
            .filter_map(|m| m.strip_prefix(&format!("{module}::")))
            .filter(|c| !c.contains("::"))
            .map(str::to_string)
            .collect();
        for path in module_paths(&code_only(prod), module, &children) {
            if let Some(target) = resolve(&path, &modules)
                && &target != module
            {
                deps.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    deps
}

fn tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let mut files = Vec::new();
    for file in paths {
        if file.to_string_lossy().ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let lines = production(&text).lines().count();
        files.push((file, lines, text));
    }
    let sources: Vec<(String, &str)> = files
        .iter()
        .map(|(file, _, text)| (module_of(file, &src), production(text)))
        .collect();
    Tree {
        deps: deps_of(&sources),
        files,
    }
}

/// The first import cycle found by a depth-first search, as `a → b → … → a`.
fn first_cycle(deps: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
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
    deps.keys()
        .find_map(|module| visit(module, deps, &mut Vec::new(), &mut done))
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
    if let Some(cycle) = first_cycle(&tree().deps) {
        panic!("import cycle: {}", cycle.join(" → "));
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
    let none = BTreeSet::new();
    let paths = module_paths(
        "use crate::core::policy::{Policy, schema::Key};\nx(crate::app::engine::judge::Judge)",
        "app::x",
        &none,
    );
    assert_eq!(
        paths,
        vec![
            vec!["core", "policy", "Policy"],
            vec!["core", "policy", "schema", "Key"],
            vec!["app", "engine", "judge", "Judge"],
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

#[test]
fn the_walk_reads_super_self_and_child_paths() {
    let children: BTreeSet<String> = ["values".to_string()].into();
    let paths = module_paths(
        "use super::{Checker, plist_keys::native_keys};\nlet a = self::values::x;\n\
         let b = super::super::redact::escape(values::y);\nlet c = Self::new(); other::z;",
        "core::policy::check",
        &children,
    );
    assert_eq!(
        paths,
        vec![
            vec!["core", "policy", "Checker"],
            vec!["core", "policy", "plist_keys", "native_keys"],
            vec!["core", "policy", "check", "values", "x"],
            vec!["core", "redact", "escape"],
            vec!["core", "policy", "check", "values", "y"],
        ]
    );
}

/// The two cycles the walk once missed, written as they were: one through `super::`, one through
/// a child importing its parent.
#[test]
fn the_walk_finds_cycles_through_super_and_through_a_parent() {
    let through_super = deps_of(&[
        ("core::policy".into(), ""),
        (
            "core::policy::managed_prefs".into(),
            "let native = super::plist_keys::native_to_toml(dict);",
        ),
        (
            "core::policy::plist_keys".into(),
            "use super::managed_prefs::MANAGED_PREFS_KEY;",
        ),
    ]);
    assert_eq!(
        first_cycle(&through_super)
            .map(|c| c.join(" → "))
            .as_deref(),
        Some(
            "core::policy::managed_prefs → core::policy::plist_keys → core::policy::managed_prefs"
        )
    );
    let through_parent = deps_of(&[
        (
            "core::policy".into(),
            "pub audit: crate::core::audit_settings::AuditSettings,",
        ),
        (
            "core::audit_settings".into(),
            "use crate::core::policy::schema::{format_duration, parse_duration};",
        ),
        (
            "core::policy::schema".into(),
            "use crate::core::policy::{Policy, Mode};",
        ),
    ]);
    assert_eq!(
        first_cycle(&through_parent)
            .map(|c| c.join(" → "))
            .as_deref(),
        Some("core::audit_settings → core::policy::schema → core::policy → core::audit_settings")
    );
}

/// For every folder module `parent` (one with children), the edges between its direct children
/// ("units": a file, or a folder with everything under it), each with one import that makes it:
/// `(parent, from unit, to unit) → "module → module"`.
fn unit_edges(
    deps: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<(String, String, String), String> {
    let unit_of = |parent: &str, module: &str| -> Option<String> {
        let rest = if parent.is_empty() {
            module
        } else {
            module.strip_prefix(parent)?.strip_prefix("::")?
        };
        rest.split("::").next().map(str::to_string)
    };
    let mut parents: BTreeSet<String> = BTreeSet::new();
    for module in deps.keys().chain(deps.values().flatten()) {
        let mut parts: Vec<&str> = module.split("::").collect();
        while parts.pop().is_some() {
            parents.insert(parts.join("::"));
        }
    }
    let mut edges = BTreeMap::new();
    for parent in &parents {
        for (module, targets) in deps {
            for target in targets {
                if let (Some(from), Some(to)) = (unit_of(parent, module), unit_of(parent, target))
                    && from != to
                {
                    edges
                        .entry((parent.clone(), from, to))
                        .or_insert_with(|| format!("{module} → {target}"));
                }
            }
        }
    }
    edges
}

/// The order of the app's folders, lowest first: a folder imports only from those before it.
/// `cli` is the command line (settings, exit codes, escaping, the log) every other folder reads;
/// `engine` judges and enforces one home; `status` writes and reads what the agent knew;
/// `agent` runs the loop around the engine and writes status; `commands` runs what a user
/// typed, the agent's `run` among them. A new folder of the app takes its place here.
const APP_ORDER: [&str; 5] = ["cli", "engine", "status", "agent", "commands"];

/// The tiers of the core, lowest first: a module imports only from its own tier or lower ones.
/// The vocabulary (types and small pure helpers), the policy model, the rules table and the
/// requirement shapes its rows name, what a machine holds read into facts (auth.json and
/// config.toml, a session's effective config, a process's shape), the judging of those facts
/// against the rules, and what follows from a judgement (plans, fixes, notices, rendered
/// requirements, reference docs). A module not listed here is held only to the no-cycle rule;
/// every name listed must exist.
const CORE_TIERS: [&[&str]; 6] = [
    &[
        "uid",
        "duration",
        "digest",
        "redact",
        "url",
        "toml_key",
        "home",
        "ocsf",
        "codex_version",
        "codex_build",
        "vault_retention",
        "audit_settings",
    ],
    &["policy", "config_model"],
    &["native"],
    &[
        "observe",
        "effective_session",
        "session_shape",
        "connections",
        "route_env",
    ],
    &["rules", "evaluate", "exception_hint"],
    &[
        "fix",
        "plan",
        "rule_check",
        "notice",
        "requirements",
        "session_plan",
        "reference",
    ],
];

fn core_tier(unit: &str) -> Option<usize> {
    CORE_TIERS.iter().position(|tier| tier.contains(&unit))
}

/// Every import between two folders (or files) of one folder that breaks a rule above:
/// two of them importing each other, an app folder importing a later one in [`APP_ORDER`] or
/// one not in it, a core module importing a higher tier of [`CORE_TIERS`].
fn folder_violations(deps: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let edges = unit_edges(deps);
    let mut found = Vec::new();
    for ((parent, from, to), why) in &edges {
        let wrong = match parent.as_str() {
            "app" => match (
                APP_ORDER.iter().position(|u| u == from),
                APP_ORDER.iter().position(|u| u == to),
            ) {
                (Some(f), Some(t)) => t > f,
                _ => true,
            },
            "core" => matches!((core_tier(from), core_tier(to)), (Some(f), Some(t)) if t > f),
            _ => false,
        };
        let mutual = edges.contains_key(&(parent.clone(), to.clone(), from.clone()));
        if wrong || mutual {
            found.push(format!("{parent}: {from} → {to} ({why})"));
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (parent, from, to) in edges.keys() {
        graph
            .entry(format!("{parent}/{from}"))
            .or_default()
            .insert(format!("{parent}/{to}"));
    }
    if let Some(cycle) = first_cycle(&graph) {
        found.push(format!("cycle: {}", cycle.join(" → ")));
    }
    found
}

#[test]
fn folders_import_only_downward_in_their_order() {
    let tree = tree();
    let found = folder_violations(&tree.deps);
    assert!(
        found.is_empty(),
        "folders importing upward or each other (see APP_ORDER, CORE_TIERS):\n{found:#?}"
    );
    // The lists name what is there: a folder renamed or gone is renamed or dropped here too.
    let modules: BTreeSet<&String> = tree
        .deps
        .keys()
        .chain(tree.deps.values().flatten())
        .collect();
    let exists = |unit: String| {
        modules
            .iter()
            .any(|m| **m == unit || m.starts_with(&format!("{unit}::")))
    };
    for unit in APP_ORDER {
        assert!(exists(format!("app::{unit}")), "app::{unit} is gone");
    }
    for unit in CORE_TIERS.iter().flat_map(|t| t.iter()) {
        assert!(exists(format!("core::{unit}")), "core::{unit} is gone");
    }
}

/// The four folder-level inversions issue 24 found, written as they were: each is caught.
#[test]
fn the_folder_order_catches_the_inversions_it_was_written_for() {
    let was = deps_of(&[
        (
            "app::cli".into(),
            "Audit(crate::app::commands::audit_review::AuditArgs),",
        ),
        (
            "app::commands".into(),
            "use crate::app::cli::settings::Settings;",
        ),
        ("app::commands::audit_review".into(), ""),
        ("app::cli::settings".into(), ""),
        (
            "app::status".into(),
            "pub sessions: crate::app::agent::session_guard::SessionsStatus,",
        ),
        ("app::agent".into(), ""),
        ("app::agent::session_guard".into(), ""),
        (
            "core::policy::reference".into(),
            "use crate::core::rules::Rule;",
        ),
        ("core::rules".into(), ""),
        (
            "core::session_shape".into(),
            "use crate::core::evaluate::{self, Violation};",
        ),
        ("core::evaluate".into(), ""),
    ]);
    let found = folder_violations(&was);
    for inversion in [
        "app: cli → commands (app::cli → app::commands::audit_review)",
        "app: status → agent (app::status → app::agent::session_guard)",
        "core: policy → rules (core::policy::reference → core::rules)",
        "core: session_shape → evaluate (core::session_shape → core::evaluate)",
    ] {
        assert!(
            found.iter().any(|f| f == inversion),
            "{inversion}: {found:#?}"
        );
    }
    // Their negative controls: the same imports the other way round pass.
    let fixed = deps_of(&[
        (
            "app::commands".into(),
            "use crate::app::cli::settings::Settings;",
        ),
        ("app::cli::settings".into(), ""),
        (
            "app::agent".into(),
            "use crate::app::status::SessionsStatus;",
        ),
        ("app::status".into(), ""),
        ("core::rules".into(), "use crate::core::policy::Policy;"),
        ("core::policy".into(), ""),
        (
            "core::evaluate".into(),
            "use crate::core::session_shape::ProcessShape;",
        ),
        ("core::session_shape".into(), ""),
    ]);
    assert_eq!(folder_violations(&fixed), Vec::<String>::new());
}

/// Tests live in their own files (`foo_tests.rs` beside `foo.rs`, or a folder's `tests.rs`),
/// named from the module by `#[cfg(test)] #[path = "…"] mod tests;`: no test module is written
/// inline in a production file.
#[test]
fn no_test_module_is_inline() {
    let mut inline = Vec::new();
    for (file, _, text) in tree().files {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let is_mod =
                (t.starts_with("mod ") || t.starts_with("pub mod ")) && t.trim_end().ends_with('{');
            if !is_mod {
                continue;
            }
            let attrs = lines[..i]
                .iter()
                .rev()
                .take_while(|l| l.trim_start().starts_with("#["));
            if attrs
                .clone()
                .any(|a| a.contains("cfg(") && a.contains("test"))
            {
                inline.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    assert!(
        inline.is_empty(),
        "move these test modules into their *_tests.rs:\n{inline:#?}"
    );
}

/// No merge or editor leftover is tracked (or, outside a git checkout, lies) under src/.
#[test]
fn no_leftover_files_under_src() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tracked = std::process::Command::new("git")
        .args(["ls-files", "-z", "src"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success() && !o.stdout.is_empty());
    let files: Vec<String> = match tracked {
        Some(out) => String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        None => {
            fn walk(dir: &Path, out: &mut Vec<String>) {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        walk(&path, out);
                    } else {
                        out.push(path.to_string_lossy().into_owned());
                    }
                }
            }
            let mut out = Vec::new();
            walk(&root.join("src"), &mut out);
            out
        }
    };
    assert!(
        files.iter().any(|f| f.ends_with("lib.rs")),
        "the listing found src/"
    );
    let leftovers: Vec<&String> = files.iter().filter(|f| is_leftover(f)).collect();
    assert!(
        leftovers.is_empty(),
        "leftovers under src/:\n{leftovers:#?}"
    );
}

fn is_leftover(name: &str) -> bool {
    [".orig", ".rej", ".bak", "~"]
        .iter()
        .any(|end| name.ends_with(end))
}

#[test]
fn leftovers_are_told_from_sources() {
    assert!(is_leftover("src/core/policy/merge_tests.rs.orig"));
    assert!(is_leftover("src/a.rs.rej") && is_leftover("src/a.rs~") && is_leftover("src/a.bak"));
    assert!(!is_leftover("src/core/policy/merge_tests.rs"));
}

/// The crash points of the tests (`CODEX_WARDEN_FAILPOINT`) are in the binary the tests start,
/// and only there: the `failpoints` feature is off by default and turned on by the crate's
/// dev-dependency on itself alone. (That the release build has none is checked on the built
/// binary in .ci/packaging and .ci/run.)
#[test]
fn failpoints_are_in_test_builds_only() {
    let bin = std::fs::read(env!("CARGO_BIN_EXE_codex-warden")).unwrap();
    assert!(
        memchr::memmem::find(&bin, b"CODEX_WARDEN_FAILPOINT").is_some(),
        "the binary under test has no failpoints: the crash tests would wait forever"
    );
    let manifest: toml::Table =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let features = manifest["features"].as_table().unwrap();
    assert_eq!(features["failpoints"].as_array().map(Vec::len), Some(0));
    let default = features.get("default").and_then(|d| d.as_array());
    assert!(
        !default.is_some_and(|d| d.iter().any(|f| f.as_str() == Some("failpoints"))),
        "failpoints is a default feature"
    );
    let this = &manifest["dev-dependencies"]["codex-warden"];
    assert_eq!(this["path"].as_str(), Some("."));
    assert!(manifest["dependencies"].get("codex-warden").is_none());
}
