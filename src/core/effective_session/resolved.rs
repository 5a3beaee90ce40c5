//! The resolved config of a session: every key's effective TOML value and the layer it came from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Serialize, Serializer};
use toml::{Table, Value};

/// Where a setting came from, in Codex's order of precedence (lowest first for the config files).
///
/// Its [`Layer::label`] is what audit records, status and messages show: `argv`, `env`,
/// `env-file:PATH`, `config:PATH` (a config file; [`Layer::Profile`] names the profile too) or
/// `default`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Codex's built-in value (nothing set it).
    Default,
    /// `/etc/codex/config.toml`: defaults a user overrides.
    System(PathBuf),
    /// `$CODEX_HOME/config.toml`.
    User(PathBuf),
    /// A profile: `$CODEX_HOME/NAME.config.toml`, or the `[profiles.NAME]` table of `path`.
    Profile { name: String, path: PathBuf },
    /// A trusted project's `.codex/config.toml`.
    Project(PathBuf),
    /// The session's command line (`-c`, `--model`, `--oss`, …).
    Argv,
    /// `/etc/codex/managed_config.toml`: above everything the user sets.
    Managed(PathBuf),
    /// The session's environment (`/proc/PID/environ`).
    Env,
    /// `$CODEX_HOME/.env`, which Codex loads into its environment at start.
    EnvFile(PathBuf),
}

impl Layer {
    /// `argv`, `env`, `env-file:PATH`, `config:PATH`, `default`. Paths are as the session names
    /// them; escape before printing for a human.
    pub fn label(&self) -> String {
        match self {
            Layer::Default => "default".into(),
            Layer::System(p) | Layer::User(p) | Layer::Project(p) | Layer::Managed(p) => {
                format!("config:{}", p.display())
            }
            Layer::Profile { name, path } => {
                if path.file_name().and_then(|f| f.to_str()) == Some(&format!("{name}.config.toml"))
                {
                    format!("config:{}", path.display())
                } else {
                    format!("config:{} [profiles.{name}]", path.display())
                }
            }
            Layer::Argv => "argv".into(),
            Layer::Env => "env".into(),
            Layer::EnvFile(p) => format!("env-file:{}", p.display()),
        }
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl Serialize for Layer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

/// Which layer set each node of the merged tree; a node without its own layer inherits its
/// parent's (a table set whole, e.g. `-c 'model_providers.x={…}'`).
#[derive(Debug, Clone, Default, PartialEq)]
struct Origin {
    layer: Option<Layer>,
    children: BTreeMap<String, Origin>,
}

/// One key's effective value and the layer that set it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolved<'a> {
    pub value: &'a Value,
    pub layer: &'a Layer,
}

/// The config a session runs with, merged as Codex merges its layers (tables merge key by key,
/// any other value replaces), with the layer of every key.
///
/// Ask for a key by its dotted name, quoting a segment that holds a dot as TOML does:
///
/// ```
/// # use codex_warden::core::effective_session::{Layer, ResolvedConfig};
/// let mut config = ResolvedConfig::default();
/// config.merge(&"sandbox_mode = \"read-only\"".parse().unwrap(), &Layer::User("/h/config.toml".into()));
/// config.merge(&"sandbox_mode = \"danger-full-access\"\n[mcp_servers.\"a.b\"]\ncommand = \"x\"".parse().unwrap(), &Layer::Argv);
/// let got = config.get("sandbox_mode").unwrap();
/// assert_eq!(got.value.as_str(), Some("danger-full-access"));
/// assert_eq!(got.layer.label(), "argv");
/// assert_eq!(config.get("mcp_servers.\"a.b\".command").unwrap().layer, &Layer::Argv);
/// // Every name under a table (`mcp_servers.*`, `features.*`):
/// assert_eq!(config.names_under("mcp_servers"), ["a.b"]);
/// ```
///
/// [`ResolvedConfig::get_path`] takes the segments instead, [`ResolvedConfig::leaves`] lists every
/// non-table value with its dotted key and layer, [`ResolvedConfig::table`] is the merged TOML.
#[derive(Clone, Default, PartialEq)]
pub struct ResolvedConfig {
    table: Table,
    origin: Origin,
}

/// Every key with its layer, no value: a value may be a bearer token or a header.
impl std::fmt::Debug for ResolvedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.leaves()
                    .into_iter()
                    .map(|(key, _, layer)| (key, layer.label())),
            )
            .finish()
    }
}

/// Split a dotted key, honouring TOML quotes (`a."b.c".d` → `a`, `b.c`, `d`).
pub fn split_key(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in key.chars() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '.') => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

pub use crate::core::toml_key::key_segment;

/// Segments → a dotted key ([`split_key`] reads it back).
pub fn join_key<S: AsRef<str>>(path: &[S]) -> String {
    path.iter()
        .map(|s| key_segment(s.as_ref()))
        .collect::<Vec<_>>()
        .join(".")
}

fn merge_into(dst: &mut Table, origin: &mut Origin, src: &Table, layer: &Layer) {
    for (k, v) in src {
        if let (Some(Value::Table(d)), Value::Table(s)) = (dst.get_mut(k), v) {
            let child = origin.children.entry(k.clone()).or_default();
            merge_into(d, child, s, layer);
            continue;
        }
        dst.insert(k.clone(), v.clone());
        origin.children.insert(
            k.clone(),
            Origin {
                layer: Some(layer.clone()),
                children: BTreeMap::new(),
            },
        );
    }
}

impl ResolvedConfig {
    /// Lay `table` over what is there, as `layer`.
    pub fn merge(&mut self, table: &Table, layer: &Layer) {
        merge_into(&mut self.table, &mut self.origin, table, layer);
    }

    /// Set one key (segments), creating tables on the way, as a `-c` override does.
    pub fn set(&mut self, path: &[String], value: Value, layer: &Layer) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut nested = Table::new();
        nested.insert(last.clone(), value);
        for p in parents.iter().rev() {
            let mut t = Table::new();
            t.insert(p.clone(), Value::Table(nested));
            nested = t;
        }
        // A scalar on the way is replaced by a table, as Codex does.
        self.clear_scalars_on(parents);
        self.merge(&nested, layer);
    }

    fn clear_scalars_on(&mut self, parents: &[String]) {
        let mut table = &mut self.table;
        for p in parents {
            if !matches!(table.get(p), Some(Value::Table(_)) | None) {
                table.remove(p);
                return;
            }
            match table.get_mut(p) {
                Some(Value::Table(t)) => table = t,
                _ => return,
            }
        }
    }

    /// The merged TOML.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// A key by its dotted name (TOML quoting for segments holding a dot).
    pub fn get(&self, key: &str) -> Option<Resolved<'_>> {
        let path = split_key(key);
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        self.get_path(&refs)
    }

    /// A key by its segments.
    pub fn get_path(&self, path: &[&str]) -> Option<Resolved<'_>> {
        let (first, rest) = path.split_first()?;
        let mut value = self.table.get(*first)?;
        let mut origin = self.origin.children.get(*first)?;
        let mut layer = origin.layer.as_ref()?;
        for seg in rest {
            value = value.as_table()?.get(*seg)?;
            if let Some(o) = origin.children.get(*seg) {
                origin = o;
                if let Some(l) = &origin.layer {
                    layer = l;
                }
            }
        }
        Some(Resolved { value, layer })
    }

    /// A string key's value.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|r| r.value.as_str())
    }

    /// The names directly under a table key (`mcp_servers`, `features`, `model_providers`).
    pub fn names_under(&self, key: &str) -> Vec<String> {
        self.get(key)
            .and_then(|r| r.value.as_table())
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every non-table value: its dotted key ([`join_key`]), value and layer, in key order.
    pub fn leaves(&self) -> Vec<(String, &Value, &Layer)> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        walk(&self.table, &self.origin, None, &mut path, &mut out);
        out
    }
}

fn walk<'a>(
    table: &'a Table,
    origin: &'a Origin,
    inherited: Option<&'a Layer>,
    path: &mut Vec<String>,
    out: &mut Vec<(String, &'a Value, &'a Layer)>,
) {
    for (k, v) in table {
        let child = origin.children.get(k);
        let layer = child.and_then(|c| c.layer.as_ref()).or(inherited);
        path.push(k.clone());
        match (v, child) {
            (Value::Table(t), Some(c)) => walk(t, c, layer, path, out),
            (Value::Table(t), None) => walk(t, &EMPTY, layer, path, out),
            _ => {
                if let Some(l) = layer {
                    out.push((join_key(path), v, l));
                }
            }
        }
        path.pop();
    }
}

static EMPTY: Origin = Origin {
    layer: None,
    children: BTreeMap::new(),
};
