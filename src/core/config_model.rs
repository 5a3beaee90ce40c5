//! The one config model: every key's TOML value and the layer it came from, for a running
//! session (its layers merged as Codex merges them) and for a Codex home (its config.toml, with
//! every profile a user may select beside it). The config rules judge this model alone
//! ([`crate::core::rules::judge_config`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Serialize, Serializer};
use toml::{Table, Value};

/// Where a setting came from, in Codex's order of precedence (lowest first for the config files).
///
/// Its [`Layer::label`] is what audit records, status and messages show: `argv`, `env`,
/// `env-file:PATH`, `config:PATH` (a config file; [`Layer::ProfileTable`] names the table too),
/// `codex exec` or `default`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// Codex's built-in value (nothing set it).
    Default,
    /// `/etc/codex/config.toml`: defaults a user overrides.
    System(PathBuf),
    /// `$CODEX_HOME/config.toml`.
    User(PathBuf),
    /// A profile file: `$CODEX_HOME/NAME.config.toml` at `path`.
    Profile { name: String, path: PathBuf },
    /// A profile table: the `[profiles.NAME]` table of the file at `path`.
    ProfileTable { name: String, path: PathBuf },
    /// A trusted project's `.codex/config.toml`.
    Project(PathBuf),
    /// The session's command line (`-c`, `--model`, `--oss`, …).
    Argv,
    /// `codex exec` itself: it runs approval `never` whatever the layers below managed_config.toml
    /// say.
    Exec,
    /// `/etc/codex/managed_config.toml`: above everything the user sets.
    Managed(PathBuf),
    /// The session's environment (`/proc/PID/environ`).
    Env,
    /// `$CODEX_HOME/.env`, which Codex loads into its environment at start.
    EnvFile(PathBuf),
}

impl Layer {
    /// `argv`, `env`, `env-file:PATH`, `config:PATH`, `codex exec`, `default`. Paths are as the session names
    /// them; escape before printing for a human.
    pub fn label(&self) -> String {
        match self {
            Layer::Default => "default".into(),
            Layer::System(p) | Layer::User(p) | Layer::Project(p) | Layer::Managed(p) => {
                format!("config:{}", p.display())
            }
            Layer::Profile { path, .. } => format!("config:{}", path.display()),
            Layer::ProfileTable { name, path } => {
                format!("config:{} [profiles.{name}]", path.display())
            }
            Layer::Argv => "argv".into(),
            Layer::Exec => "codex exec".into(),
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
    /// A home's profiles (`[profiles.NAME]`, `NAME.config.toml`), each on its own: a user may
    /// select any of them. Empty for a session, whose profile is merged in.
    profiles: Vec<ResolvedConfig>,
    /// A session's route: the base URLs its requests go to, as Codex derives them (the selected
    /// provider's, the environment's). `None` for a home: every base URL it names counts.
    route: Option<Vec<Setting>>,
    /// The command-line flag behind each key argv set (segments, label), in argv order, so a
    /// fix can name the flag.
    flags: Vec<(Vec<String>, String)>,
}

/// One value a config sets: the dotted key as its layer writes it, the value and the layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    pub layer: Layer,
}

/// Where a setting is, as evidence and a fix name it: the key to change and the place that set
/// it (a file, an argv flag such as `--sandbox danger-full-access` or `-c KEY=…`, the session's
/// environment).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Placed {
    pub key: String,
    pub layer: String,
}

impl Placed {
    /// Whether the layer is the session's command line (a flag or a `-c` override).
    pub fn is_argv(&self) -> bool {
        self.layer.starts_with('-')
    }
}

/// A home's config file, named relative to the home (as evidence names it).
pub const HOME_CONFIG_FILE: &str = "config.toml";

/// Keys a `[profiles.NAME]` table cannot hold (Codex reads them from the document only).
const DOCUMENT_ONLY: [&str; 2] = ["mcp_servers", "model_providers"];

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
    /// A Codex home's `config.toml` (named relative to the home): its keys as
    /// [`Layer::User`], and each `[profiles.NAME]` table a profile beside it.
    pub fn of_home(table: &Table) -> ResolvedConfig {
        let mut config = ResolvedConfig::default();
        let path = PathBuf::from(HOME_CONFIG_FILE);
        config.merge(table, &Layer::User(path.clone()));
        config.add_profile_tables(table, &path);
        config
    }

    /// Add a home's profile file, `NAME.config.toml`: a profile of its own, and its
    /// `[profiles.X]` tables too.
    pub fn add_profile_file(&mut self, name: &str, table: &Table) {
        let path = PathBuf::from(format!("{name}.config.toml"));
        let mut profile = ResolvedConfig::default();
        let layer = Layer::Profile {
            name: name.to_string(),
            path: path.clone(),
        };
        profile.merge(table, &layer);
        self.profiles.push(profile);
        self.add_profile_tables(table, &path);
    }

    fn add_profile_tables(&mut self, table: &Table, path: &std::path::Path) {
        let Some(Value::Table(profiles)) = table.get("profiles") else {
            return;
        };
        for (name, profile) in profiles {
            let Value::Table(profile) = profile else {
                continue;
            };
            let mut profile = profile.clone();
            for key in DOCUMENT_ONLY {
                profile.remove(key);
            }
            let mut config = ResolvedConfig::default();
            let layer = Layer::ProfileTable {
                name: name.clone(),
                path: path.to_path_buf(),
            };
            config.merge(&profile, &layer);
            self.profiles.push(config);
        }
    }

    /// What the config rules judge: this config (where Codex's defaults apply to what it leaves
    /// unset: `true`), then each profile a user may select (`false`: a profile inherits).
    pub fn scopes(&self) -> impl Iterator<Item = (&ResolvedConfig, bool)> {
        std::iter::once((self, true)).chain(self.profiles.iter().map(|p| (p, false)))
    }

    /// Record the session's route (see [`ResolvedConfig::base_urls`]).
    pub fn set_route(&mut self, base_urls: Vec<Setting>) {
        self.route = Some(base_urls);
    }

    /// Record that the command-line `flag` (as a fix names it) set the key `path`.
    pub fn note_flag(&mut self, path: &[String], flag: String) {
        self.flags.push((path.to_vec(), flag));
    }

    /// Every base URL this config sends requests to: a session's route; for a home (and each
    /// profile, asked on its own), every `openai_base_url`, `chatgpt_base_url` and
    /// `model_providers.*.base_url` it names. Values are judged ([`crate::core::url::judged_base`]).
    pub fn base_urls(&self) -> Vec<Setting> {
        if let Some(route) = &self.route {
            return route.clone();
        }
        let mut out = Vec::new();
        for name in self.names_under("model_providers") {
            let path = ["model_providers", name.as_str(), "base_url"];
            if let Some(r) = self.get_path(&path) {
                out.extend(url_setting(join_key(&path), r));
            }
        }
        for key in ["openai_base_url", "chatgpt_base_url"] {
            if let Some(r) = self.get(key) {
                out.extend(url_setting(key.to_string(), r));
            }
        }
        out
    }

    /// Each entry of the table `key` (`mcp_servers`, `features`): its name, value, and the layer
    /// of its identity (`command` or `url` where it has one, so a `-c …command=` override of a
    /// server config.toml defines is the command line's doing) with the key it names.
    pub fn entries(&self, key: &str) -> Vec<(String, &Value, Layer, String)> {
        let mut out = Vec::new();
        for name in self.names_under(key) {
            let mut path = split_key(key);
            path.push(name.clone());
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let Some(entry) = self.get_path(&refs) else {
                continue;
            };
            let mut layer = entry.layer;
            let mut at = path.clone();
            for field in ["command", "url"] {
                let mut f = refs.clone();
                f.push(field);
                if let Some(r) = self.get_path(&f) {
                    layer = r.layer;
                    at.push(field.to_string());
                    break;
                }
            }
            out.push((name, entry.value, layer.clone(), join_key(&at)));
        }
        out
    }

    /// Where `key`, set by `layer`, is, as a fix names it: an argv key by its flag
    /// (`--sandbox danger-full-access`, `-c mcp_servers.x.command=…`), the environment as such, a
    /// `[profiles.NAME]` key by its dotted key in the file, any other file by its path.
    pub fn placed(&self, key: &str, layer: &Layer) -> Placed {
        let key_path = split_key(key);
        let (key, layer) = match layer {
            Layer::Argv => {
                let flag = self.flags.iter().rev().find(|(path, _)| {
                    let n = path.len().min(key_path.len());
                    path[..n] == key_path[..n]
                });
                let label = flag.map_or_else(|| "the command line".to_string(), |f| f.1.clone());
                (key.to_string(), label)
            }
            Layer::Env => (key.to_string(), "the session's environment".to_string()),
            Layer::Exec => (key.to_string(), "`codex exec` itself".to_string()),
            Layer::ProfileTable { name, path } => (
                format!("profiles.{}.{key}", key_segment(name)),
                path.display().to_string(),
            ),
            other => {
                let label = other.label();
                let file = label.strip_prefix("config:").unwrap_or(&label).to_string();
                (key.to_string(), file)
            }
        };
        Placed { key, layer }
    }

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

fn url_setting(key: String, r: Resolved<'_>) -> Option<Setting> {
    let url = r.value.as_str()?;
    Some(Setting {
        key,
        // Judged where Codex connects (WHATWG, with what Codex appends), never its redaction.
        value: Value::String(crate::core::url::judged_base(url)),
        layer: r.layer.clone(),
    })
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
