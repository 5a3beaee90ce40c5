//! Policy loading: policy sources → diagnostics → one merged [`Policy`] with provenance.
//!
//! Admins ship drop-ins (`policy.d/*.toml`) and, on macOS, a managed-preferences plist. Loading
//! reads them all, checks every key of every file in one pass (so `policy validate` lists every
//! problem at once, each at its `file:line:col`), and merges them in order: a later source's key
//! replaces an earlier one's, `[[exception]]` entries append. Provenance records which files set
//! each key, which is what `policy explain` shows.
//!
//! The TOML is walked by hand over `toml`'s spanned document instead of through serde derive:
//! serde stops at the first error and loses positions, and both are what admins need most.
//!
//! [`load_sources`] is pure (text in, outcome out). [`load_dir`] and [`load_files`] add the checks
//! a root agent owes its inputs: regular files only (a FIFO never blocks us), a size cap, UTF-8,
//! and sshd-style ownership (root or us, not group/other-writable).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, Metadata};
use std::io::Read as _;
use std::ops::Range;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::policy::diag::{self, Diagnostic, render_human, render_json};
use crate::policy::{
    ApiKeyKind, ConfigRules, CredentialStore, EnforceSettings, Exception, LoginMethod, LoginRules,
    Mode, Policy, Scope,
};

/// Policy files (and the managed-preferences plist) larger than this are rejected unread.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// The plist key holding the base64 of the policy TOML, as Codex's own managed config does.
pub const MANAGED_PREFS_KEY: &str = "policy_toml_base64";

/// One policy text and the name diagnostics use for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Where a key was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// A source that was read, and the SHA-256 of its text (stamped into `policy_loaded` records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub name: String,
    pub sha256: String,
}

/// Everything a load found: the policy if it is valid, and what to tell the admin either way.
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    /// `Some` iff there is no error diagnostic and at least one source.
    pub policy: Option<Policy>,
    pub diagnostics: Vec<Diagnostic>,
    /// What was read (for rendering).
    pub sources: Vec<Source>,
    pub source_info: Vec<SourceInfo>,
    /// `"section.key"` (e.g. `"login.allowed_methods"`) → every file that set it, in merge order;
    /// the last one wins. Exceptions appear as `"exception[N]"`.
    pub provenance: BTreeMap<String, Vec<Origin>>,
}

impl LoadOutcome {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// The diagnostics rendered for people (see [`render_human`]).
    pub fn render_diagnostics(&self) -> String {
        render_human(&self.diagnostics, &self.sources)
    }
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

/// How a key's value is checked, and which [`Value`] it becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A non-empty string.
    Text,
    Mode,
    Bool,
    /// `"500ms"`, `"5s"`, `"2m"`, `"1h"`.
    Duration,
    Uid,
    Methods,
    /// A list of non-empty strings.
    Names,
    Plans,
    Domains,
    KeyKinds,
    Fingerprints,
    BaseUrls,
    Stores,
    Homes,
}

const POLICY_KEYS: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("revision", Kind::Text),
    ("mode", Kind::Mode),
];

const LOGIN_KEYS: &[(&str, Kind)] = &[
    ("allowed_methods", Kind::Methods),
    ("allowed_workspaces", Kind::Names),
    ("allowed_plans", Kind::Plans),
    ("allowed_email_domains", Kind::Domains),
    ("allowed_api_key_kinds", Kind::KeyKinds),
    ("allowed_api_key_fingerprints", Kind::Fingerprints),
];

const CONFIG_KEYS: &[(&str, Kind)] = &[
    ("allowed_model_providers", Kind::Names),
    ("allowed_base_urls", Kind::BaseUrls),
    ("allowed_credential_stores", Kind::Stores),
];

const ENFORCE_KEYS: &[(&str, Kind)] = &[
    ("quarantine", Kind::Bool),
    ("terminate", Kind::Bool),
    ("terminate_grace", Kind::Duration),
    ("native_requirements", Kind::Bool),
    ("message", Kind::Text),
];

const SCOPE_KEYS: &[(&str, Kind)] = &[
    ("passwd_users", Kind::Bool),
    ("min_uid", Kind::Uid),
    ("exclude_users", Kind::Names),
    ("homes", Kind::Homes),
];

const AUDIT_KEYS: &[(&str, Kind)] = &[
    ("max_size_kb", Kind::Uid),
    ("keep", Kind::Uid),
    ("checkpoint_interval", Kind::Duration),
];

/// Every `[section]` and its keys, in the order `policy explain` prints them.
const SECTIONS: &[(&str, &[(&str, Kind)])] = &[
    ("policy", POLICY_KEYS),
    ("login", LOGIN_KEYS),
    ("config", CONFIG_KEYS),
    ("enforce", ENFORCE_KEYS),
    ("scope", SCOPE_KEYS),
    ("audit", AUDIT_KEYS),
];

const EXCEPTION: &str = "exception";
/// The keys of `[[exception]]` besides the `[login]`/`[config]` allowed_* lists.
const EXCEPTION_OWN_KEYS: &[&str] = &["users", "reason", "expires"];
/// The sections whose allowed_* lists an exception may widen.
const LOOSENABLE: &[(&str, &[(&str, Kind)])] = &[("login", LOGIN_KEYS), ("config", CONFIG_KEYS)];

const KNOWN_PLANS: &[&str] = &[
    "free",
    "go",
    "plus",
    "pro",
    "team",
    "business",
    "enterprise",
    "edu",
    "education",
];

const REQUIRED: &[&str] = &["name", "revision", "mode"];

/// `[policy]`, …, `[[exception]]`, as a file writes them.
fn section_headers() -> impl Iterator<Item = String> {
    section_names().map(|s| match s {
        EXCEPTION => format!("[[{s}]]"),
        s => format!("[{s}]"),
    })
}

fn section_names() -> impl Iterator<Item = &'static str> {
    SECTIONS
        .iter()
        .map(|(s, _)| *s)
        .chain(std::iter::once(EXCEPTION))
}

// ---------------------------------------------------------------------------------------------
// Validated values and per-file layers
// ---------------------------------------------------------------------------------------------

/// A checked value, typed by its key's [`Kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(String),
    Mode(Mode),
    Bool(bool),
    Duration(Duration),
    Uid(u32),
    Strings(Vec<String>),
    Methods(Vec<LoginMethod>),
    KeyKinds(Vec<ApiKeyKind>),
    Stores(Vec<CredentialStore>),
}

/// What one source says, after checking.
#[derive(Debug, Default)]
struct Layer {
    /// `(section, key, value, line)`, for each valid key.
    keys: Vec<(&'static str, &'static str, Value, usize)>,
    /// Every known `(section, key)` the file mentions, valid or not: a key with a bad value is
    /// reported as such, never again as missing.
    seen: BTreeSet<(&'static str, &'static str)>,
    exceptions: Vec<(Exception, usize)>,
}

/// Set `section.key` on `login`/`config`; false if the key is not one of theirs.
fn apply_rule(
    login: &mut LoginRules,
    config: &mut ConfigRules,
    section: &str,
    key: &str,
    value: Value,
) -> bool {
    match (section, key, value) {
        ("login", "allowed_methods", Value::Methods(v)) => login.allowed_methods = Some(v),
        ("login", "allowed_workspaces", Value::Strings(v)) => login.allowed_workspaces = Some(v),
        ("login", "allowed_plans", Value::Strings(v)) => login.allowed_plans = Some(v),
        ("login", "allowed_email_domains", Value::Strings(v)) => {
            login.allowed_email_domains = Some(v)
        }
        ("login", "allowed_api_key_kinds", Value::KeyKinds(v)) => {
            login.allowed_api_key_kinds = Some(v)
        }
        ("login", "allowed_api_key_fingerprints", Value::Strings(v)) => {
            login.allowed_api_key_fingerprints = Some(v)
        }
        ("config", "allowed_model_providers", Value::Strings(v)) => {
            config.allowed_model_providers = Some(v)
        }
        ("config", "allowed_base_urls", Value::Strings(v)) => config.allowed_base_urls = Some(v),
        ("config", "allowed_credential_stores", Value::Stores(v)) => {
            config.allowed_credential_stores = Some(v)
        }
        _ => return false,
    }
    true
}

/// Set `section.key` on `policy`; false if schema and model disagree (a bug a test catches).
fn apply(policy: &mut Policy, section: &str, key: &str, value: Value) -> bool {
    let (enforce, scope) = (&mut policy.enforce, &mut policy.scope);
    match (section, key, value) {
        ("policy", "name", Value::Text(v)) => policy.name = v,
        ("policy", "revision", Value::Text(v)) => policy.revision = v,
        ("policy", "mode", Value::Mode(v)) => policy.mode = v,
        ("enforce", "quarantine", Value::Bool(v)) => enforce.quarantine = v,
        ("enforce", "terminate", Value::Bool(v)) => enforce.terminate = v,
        ("enforce", "terminate_grace", Value::Duration(v)) => enforce.terminate_grace = v,
        ("enforce", "native_requirements", Value::Bool(v)) => enforce.native_requirements = v,
        ("enforce", "message", Value::Text(v)) => enforce.message = Some(v),
        ("scope", "passwd_users", Value::Bool(v)) => scope.passwd_users = v,
        ("scope", "min_uid", Value::Uid(v)) => scope.min_uid = v,
        ("scope", "exclude_users", Value::Strings(v)) => scope.exclude_users = v,
        ("scope", "homes", Value::Strings(v)) => scope.homes = v,
        ("audit", "max_size_kb", Value::Uid(v)) => policy.audit.max_size_kb = v,
        ("audit", "keep", Value::Uid(v)) => policy.audit.keep = v,
        ("audit", "checkpoint_interval", Value::Duration(v)) => {
            policy.audit.checkpoint_interval = v
        }
        (section, key, value) => {
            return apply_rule(&mut policy.login, &mut policy.config, section, key, value);
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// Checking one source
// ---------------------------------------------------------------------------------------------

/// Where a list sits, which changes what an empty list means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Base,
    Exception,
}

/// A file with more problems than this is junk or the wrong file: list the first ones only.
const MAX_DIAGNOSTICS_PER_FILE: usize = 100;

/// Checks one source and collects its diagnostics.
struct Checker<'a> {
    file: &'a str,
    lines: diag::LineIndex<'a>,
    now: jiff::Timestamp,
    diags: Vec<Diagnostic>,
    /// Diagnostics past [`MAX_DIAGNOSTICS_PER_FILE`]: how many, and whether any was an error.
    left_out: (usize, bool),
    /// Sorted byte offsets of syntax errors: a key-value pair containing one is not checked
    /// further, since the parser's recovery may have left anything in it.
    damage: Vec<usize>,
}

impl<'a> Checker<'a> {
    fn error(&self, code: &'static str, span: Range<usize>, msg: impl Into<String>) -> Diagnostic {
        let mut diag = Diagnostic::error(code, self.file, msg);
        diag.span = Some(span);
        diag
    }

    fn warning(
        &self,
        code: &'static str,
        span: Range<usize>,
        msg: impl Into<String>,
    ) -> Diagnostic {
        let mut diag = Diagnostic::warning(code, self.file, msg);
        diag.span = Some(span);
        diag
    }

    /// Keep `diag`, positioned at its span, unless the file already has too many.
    fn report(&mut self, mut diag: Diagnostic) {
        if self.diags.len() >= MAX_DIAGNOSTICS_PER_FILE {
            self.left_out.0 += 1;
            self.left_out.1 |= diag.is_error();
            return;
        }
        if let Some(span) = &diag.span {
            (diag.line, diag.column) = self.lines.line_col(span.start);
        }
        self.diags.push(diag);
    }

    fn line(&self, offset: usize) -> usize {
        self.lines.line_col(offset).0
    }

    fn damaged(&self, span: Range<usize>) -> bool {
        let first = self.damage.partition_point(|&at| at < span.start);
        self.damage.get(first).is_some_and(|&at| at <= span.end)
    }

    /// The diagnostics, in file order, with a note for any left out.
    fn finish(mut self) -> Vec<Diagnostic> {
        self.diags.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
        let (count, any_error) = self.left_out;
        if count > 0 {
            let message = format!("{count} more problems in this file are not listed");
            let help = "fix the ones above and validate again";
            self.diags.push(if any_error {
                Diagnostic::error(diag::TRUNCATED, self.file, message).with_help(help)
            } else {
                Diagnostic::warning(diag::TRUNCATED, self.file, message).with_help(help)
            });
        }
        self.diags
    }

    /// Report syntax errors, one per damaged key-value pair (or per line outside any pair).
    ///
    /// The parser recovers and goes on, so one unclosed array yields an error on every line
    /// after it; only the first (or the "unclosed" one, at the opening bracket) is useful.
    ///
    /// Returns whether the document's structure is intact: true when every error lies inside
    /// some key's value. An error in a header or between pairs means the recovered tables may
    /// not be what the admin wrote, so checking their keys would only invent problems.
    fn syntax(&mut self, root: &DeTable<'_>, errors: &[toml::de::Error]) -> bool {
        let mut pairs = Vec::new();
        collect_pairs(root, &mut pairs);
        // Leaf pairs never overlap, so sorted by start they can be binary-searched.
        pairs.sort_by_key(|p| p.span.start);
        let mut groups: BTreeMap<Place, Vec<&toml::de::Error>> = BTreeMap::new();
        for error in errors {
            let at = error.span().map_or(0, |s| s.start);
            self.damage.push(at);
            let candidate = pairs.partition_point(|p| p.span.start <= at).checked_sub(1);
            let place = match candidate.filter(|&i| at <= pairs[i].span.end) {
                Some(pair) => Place::Pair(pair),
                None => Place::Line(self.line(at)),
            };
            groups.entry(place).or_default().push(error);
        }
        self.damage.sort_unstable();
        let groups_had_lines = groups.keys().any(|p| matches!(p, Place::Line(_)));
        for (place, mut group) in groups {
            group.sort_by_key(|e| e.span().map_or(0, |s| s.start));
            let unclosed = group.iter().find(|e| e.message().starts_with("unclosed"));
            let (span, message) = match (place, unclosed) {
                (Place::Pair(pair), Some(error)) => {
                    let start = pairs[pair].value_start;
                    (start..start + 1, error.message())
                }
                _ => (group[0].span().unwrap_or(0..0), group[0].message()),
            };
            let diag = self.error(diag::SYNTAX, span, message);
            self.report(diag);
        }
        !groups_had_lines
    }

    fn check_document(&mut self, root: &DeTable<'_>) -> Layer {
        let mut layer = Layer::default();
        for (key, value) in root.iter() {
            let name = key.get_ref().as_ref();
            if name == EXCEPTION {
                self.check_exceptions(value, &mut layer);
                continue;
            }
            if !value.get_ref().is_table() && self.damaged(key.span().start..value.span().end) {
                continue;
            }
            match (SECTIONS.iter().find(|(s, _)| *s == name), value.get_ref()) {
                (Some((section, keys)), DeValue::Table(table)) => {
                    self.check_section(section, keys, table, &mut layer)
                }
                (Some((section, _)), other) => {
                    let diag = self.error(
                        diag::TYPE,
                        value.span(),
                        format!("expected a table [{section}], found {}", other.type_str()),
                    );
                    self.report(diag);
                }
                (None, DeValue::Table(_)) => {
                    let mut diag = self.error(
                        diag::UNKNOWN_SECTION,
                        key.span(),
                        format!("unknown section [{name}]"),
                    );
                    diag.help = Some(match suggest(name, section_names()) {
                        Some(EXCEPTION) => "did you mean [[exception]]?".to_string(),
                        Some(s) => format!("did you mean [{s}]?"),
                        None => format!("known sections: {}", join(section_headers())),
                    });
                    self.report(diag);
                }
                (None, _) => {
                    let mut diag = self.error(
                        diag::UNKNOWN_KEY,
                        key.span(),
                        format!("unknown key `{name}` outside any section"),
                    );
                    diag.help = Some(match home_section(name) {
                        Some(section) => format!("put it under [{section}]"),
                        None => format!("keys belong in a section: {}", join(section_headers())),
                    });
                    self.report(diag);
                }
            }
        }
        layer
    }

    fn check_section(
        &mut self,
        section: &'static str,
        keys: &'static [(&'static str, Kind)],
        table: &DeTable<'_>,
        layer: &mut Layer,
    ) {
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let known = keys.iter().find(|(k, _)| *k == name);
            if let Some((k, _)) = known {
                layer.seen.insert((section, k));
            }
            if self.damaged(key.span().start..value.span().end) {
                continue;
            }
            match known {
                Some((k, kind)) => {
                    if let Some(v) = self.check_value(k, *kind, value, Context::Base) {
                        layer
                            .keys
                            .push((section, k, v, self.line(key.span().start)));
                    }
                }
                None => {
                    let candidates = keys.iter().map(|(k, _)| *k);
                    self.unknown_key(key, &format!("[{section}]"), candidates);
                }
            }
        }
    }

    fn unknown_key<'k>(
        &mut self,
        key: &Spanned<toml::de::DeString<'_>>,
        place: &str,
        candidates: impl Iterator<Item = &'k str> + Clone,
    ) {
        let name = key.get_ref().as_ref();
        let mut diag = self.error(
            diag::UNKNOWN_KEY,
            key.span(),
            format!("unknown key `{name}` in {place}"),
        );
        // A key that exists elsewhere was put in the wrong section; that beats a near miss.
        diag.help = Some(
            match (home_section(name), suggest(name, candidates.clone())) {
                (Some(section), _) => format!("`{name}` belongs in [{section}]"),
                (None, Some(s)) => format!("did you mean `{s}`?"),
                (None, None) => format!("{place} takes: {}", join(candidates)),
            },
        );
        self.report(diag);
    }

    fn check_value(
        &mut self,
        key: &str,
        kind: Kind,
        value: &Spanned<DeValue<'_>>,
        context: Context,
    ) -> Option<Value> {
        let span = value.span();
        match kind {
            Kind::Text => {
                let s = self.string(key, value)?;
                if s.trim().is_empty() {
                    let diag = self.error(diag::EMPTY_VALUE, span, format!("`{key}` is empty"));
                    self.report(diag);
                    return None;
                }
                Some(Value::Text(s.to_string()))
            }
            Kind::Mode => {
                let s = self.string(key, value)?;
                let mode = match self.one_of(key, s, span, &["enforce", "monitor"])? {
                    "enforce" => Mode::Enforce,
                    _ => Mode::Monitor,
                };
                Some(Value::Mode(mode))
            }
            Kind::Bool => match value.get_ref() {
                DeValue::Boolean(b) => Some(Value::Bool(*b)),
                other => {
                    let mut diag = self.error(
                        diag::TYPE,
                        span,
                        format!("expected a boolean, found {}", other.type_str()),
                    );
                    if let Some(s @ ("true" | "false")) = other.as_str() {
                        diag = diag.with_help(format!("write it unquoted: {key} = {s}"));
                    }
                    self.report(diag);
                    None
                }
            },
            Kind::Duration => match value.get_ref() {
                DeValue::String(s) => match parse_duration(s) {
                    Some(d) => Some(Value::Duration(d)),
                    None => {
                        let diag = self
                            .error(
                                diag::INVALID_DURATION,
                                span,
                                format!("`{s}` is not a duration"),
                            )
                            .with_help(
                                "write a whole number and a unit: \"500ms\", \"5s\", \"2m\"",
                            );
                        self.report(diag);
                        None
                    }
                },
                other => {
                    let mut diag = self.error(
                        diag::TYPE,
                        span,
                        format!("expected a duration string, found {}", other.type_str()),
                    );
                    if let Some(n) = other.as_integer() {
                        diag = diag.with_help(format!("give it a unit: {key} = \"{n}s\""));
                    }
                    self.report(diag);
                    None
                }
            },
            Kind::Uid => match value.get_ref() {
                DeValue::Integer(n) => {
                    match i128::from_str_radix(n.as_str(), n.radix())
                        .ok()
                        .and_then(|n| u32::try_from(n).ok())
                    {
                        Some(uid) => Some(Value::Uid(uid)),
                        None => {
                            let diag = self.error(
                                diag::OUT_OF_RANGE,
                                span,
                                format!("`{key}` must be between 0 and {}", u32::MAX),
                            );
                            self.report(diag);
                            None
                        }
                    }
                }
                other => {
                    let diag = self.error(
                        diag::TYPE,
                        span,
                        format!("expected an integer, found {}", other.type_str()),
                    );
                    self.report(diag);
                    None
                }
            },
            Kind::Methods => {
                let names = LoginMethod::ALL.map(LoginMethod::as_str);
                self.list(key, value, context, |cx, s, span| {
                    cx.one_of(key, s, span, &names).and_then(LoginMethod::parse)
                })
                .map(Value::Methods)
            }
            Kind::KeyKinds => {
                let names = ApiKeyKind::NAMEABLE.map(ApiKeyKind::as_str);
                self.list(key, value, context, |cx, s, span| {
                    cx.one_of(key, s, span, &names).and_then(ApiKeyKind::parse)
                })
                .map(Value::KeyKinds)
            }
            Kind::Stores => {
                let names = CredentialStore::ALL.map(CredentialStore::as_str);
                self.list(key, value, context, |cx, s, span| {
                    cx.one_of(key, s, span, &names)
                        .and_then(CredentialStore::parse)
                })
                .map(Value::Stores)
            }
            Kind::Names => self
                .list(key, value, context, |cx, s, span| cx.name(key, s, span))
                .map(Value::Strings),
            Kind::Plans => self
                .list(key, value, context, |cx, s, span| cx.plan(key, s, span))
                .map(Value::Strings),
            Kind::Domains => self
                .list(key, value, context, |cx, s, span| cx.domain(s, span))
                .map(Value::Strings),
            Kind::Fingerprints => self
                .list(key, value, context, |cx, s, span| cx.fingerprint(s, span))
                .map(Value::Strings),
            Kind::BaseUrls => self
                .list(key, value, context, |cx, s, span| cx.base_url(s, span))
                .map(Value::Strings),
            Kind::Homes => self
                .list(key, value, context, |cx, s, span| cx.home_glob(s, span))
                .map(Value::Strings),
        }
    }

    /// The value as a string, or a type error.
    fn string<'v>(&mut self, key: &str, value: &'v Spanned<DeValue<'_>>) -> Option<&'v str> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                let mut diag = self.error(
                    diag::TYPE,
                    value.span(),
                    format!("expected a string, found {}", other.type_str()),
                );
                if other.is_integer() || other.is_float() || other.is_bool() {
                    diag = diag.with_help(format!("quote it: {key} = \"…\""));
                }
                self.report(diag);
                None
            }
        }
    }

    /// An array of strings, each turned into a `T` by `item` (which reports its own problems).
    fn list<T: Ord + Clone>(
        &mut self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
        context: Context,
        mut item: impl FnMut(&mut Self, &str, Range<usize>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let DeValue::Array(array) = value.get_ref() else {
            let found = value.get_ref();
            let mut diag = self.error(
                diag::TYPE,
                value.span(),
                format!("expected an array of strings, found {}", found.type_str()),
            );
            if let Some(s) = found.as_str() {
                diag = diag.with_help(format!("write a list: {key} = [{s:?}]"));
            }
            self.report(diag);
            return None;
        };
        let mut out = Vec::new();
        let mut listed = BTreeSet::new();
        for element in array.iter() {
            let Some(s) = element.get_ref().as_str() else {
                let diag = self.error(
                    diag::TYPE,
                    element.span(),
                    format!(
                        "expected a string in `{key}`, found {}",
                        element.get_ref().type_str()
                    ),
                );
                self.report(diag);
                continue;
            };
            let Some(v) = item(self, s, element.span()) else {
                continue;
            };
            if !listed.insert(v.clone()) {
                let diag = self
                    .warning(
                        diag::DUPLICATE_VALUE,
                        element.span(),
                        format!("`{s}` is listed more than once in `{key}`"),
                    )
                    .with_help("remove the repeat");
                self.report(diag);
            } else {
                out.push(v);
            }
        }
        if array.is_empty() && key.starts_with("allowed_") {
            let diag = match context {
                Context::Base => self
                    .warning(
                        diag::EMPTY_LIST,
                        value.span(),
                        format!("`{key} = []` allows nothing: every login breaks this rule"),
                    )
                    .with_help("remove the key to allow anything, or list what is allowed"),
                Context::Exception => self
                    .warning(
                        diag::EMPTY_LIST,
                        value.span(),
                        format!("`{key} = []` in an exception adds nothing"),
                    )
                    .with_help("remove the key, or list what the exception allows"),
            };
            self.report(diag);
        }
        Some(out)
    }

    /// `s` if it is one of `allowed`, else an `unknown-value` error with a suggestion.
    fn one_of<'v>(
        &mut self,
        key: &str,
        s: &str,
        span: Range<usize>,
        allowed: &[&'v str],
    ) -> Option<&'v str> {
        if let Some(found) = allowed.iter().find(|a| **a == s) {
            return Some(found);
        }
        let candidates = allowed.iter().copied();
        let help = match suggest(s, candidates.clone()) {
            Some(near) => format!("did you mean `{near}`? `{key}` takes: {}", join(candidates)),
            None => format!("`{key}` takes: {}", join(candidates)),
        };
        let diag = self
            .error(
                diag::UNKNOWN_VALUE,
                span,
                format!("unknown value `{s}` for `{key}`"),
            )
            .with_help(help);
        self.report(diag);
        None
    }

    fn name(&mut self, key: &str, s: &str, span: Range<usize>) -> Option<String> {
        if s.trim().is_empty() {
            let diag = self.error(diag::EMPTY_VALUE, span, format!("empty string in `{key}`"));
            self.report(diag);
            return None;
        }
        Some(s.to_string())
    }

    fn plan(&mut self, key: &str, s: &str, span: Range<usize>) -> Option<String> {
        let plan = self.name(key, s, span.clone())?.to_lowercase();
        if !KNOWN_PLANS.contains(&plan.as_str()) {
            let known = KNOWN_PLANS.iter().copied();
            let help = match suggest(&plan, known.clone()) {
                Some(near) => format!("did you mean `{near}`? known plans: {}", join(known)),
                None => format!("known plans: {}", join(known)),
            };
            let diag = self
                .warning(
                    diag::UNKNOWN_PLAN,
                    span,
                    format!("`{s}` is not a known plan; it is kept as written"),
                )
                .with_help(help);
            self.report(diag);
        }
        Some(if plan == "education" {
            "edu".to_string()
        } else {
            plan
        })
    }

    fn domain(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        let domain = s.to_lowercase();
        let bad = domain.is_empty()
            || domain.starts_with(['.', '*'])
            || domain.ends_with('.')
            || domain
                .chars()
                .any(|c| c == '@' || c == '/' || c == ':' || c.is_whitespace());
        if bad {
            let diag = self
                .error(
                    diag::INVALID_DOMAIN,
                    span,
                    format!("`{s}` is not an email domain"),
                )
                .with_help("write the domain only: example.com");
            self.report(diag);
            return None;
        }
        Some(domain)
    }

    /// Never quotes the value: an admin who pasted a key here instead of its fingerprint must
    /// not see it copied into logs.
    fn fingerprint(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        let fingerprint = s.to_ascii_lowercase();
        if (8..=64).contains(&fingerprint.len())
            && fingerprint.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Some(fingerprint);
        }
        let diag = self
            .error(
                diag::INVALID_FINGERPRINT,
                span,
                "not an API key fingerprint: expected 8 to 64 hex digits",
            )
            .with_help(
                "a fingerprint is a hex prefix of the SHA-256 of the key; never put a key itself \
                 in a policy file",
            );
        self.report(diag);
        None
    }

    fn base_url(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"));
        let problem = match rest {
            None => Some(format!("`{s}` is not an http:// or https:// URL")),
            Some(rest) => {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
                if authority.contains('@') {
                    // Do not quote it: user:password@host is a secret.
                    Some("a base URL must not carry credentials (user@host)".to_string())
                } else if authority.is_empty() || authority.starts_with(':') {
                    Some(format!("`{s}` has no host"))
                } else if s.chars().any(char::is_whitespace) {
                    Some(format!("`{s}` contains whitespace"))
                } else {
                    None
                }
            }
        };
        if let Some(message) = problem {
            let diag = self
                .error(diag::INVALID_URL, span, message)
                .with_help("write the URL Codex is configured with: https://api.openai.com/v1");
            self.report(diag);
            return None;
        }
        Some(s.trim_end_matches('/').to_string())
    }

    fn home_glob(&mut self, s: &str, span: Range<usize>) -> Option<String> {
        if !s.starts_with('/') {
            let diag = self
                .error(
                    diag::RELATIVE_PATH,
                    span,
                    format!("`{s}` is not an absolute path"),
                )
                .with_help("home globs start at /, e.g. /srv/ci/*/.codex");
            self.report(diag);
            return None;
        }
        if let Err(e) = glob::Pattern::new(s) {
            let diag = self
                .error(
                    diag::INVALID_GLOB,
                    span,
                    format!("`{s}` is not a valid glob: {} (at char {})", e.msg, e.pos),
                )
                .with_help("`*` matches within one path component, `?` one char, `[ab]` one of");
            self.report(diag);
            return None;
        }
        Some(s.to_string())
    }

    fn check_exceptions(&mut self, value: &Spanned<DeValue<'_>>, layer: &mut Layer) {
        let DeValue::Array(array) = value.get_ref() else {
            let diag = self
                .error(
                    diag::TYPE,
                    value.span(),
                    format!(
                        "expected an array of tables, found {}",
                        value.get_ref().type_str()
                    ),
                )
                .with_help("write each exception as [[exception]], with two brackets");
            if !self.damaged(value.span()) {
                self.report(diag);
            }
            return;
        };
        for element in array.iter() {
            match element.get_ref() {
                DeValue::Table(table) => self.check_exception(element.span(), table, layer),
                _ if self.damaged(element.span()) => {}
                other => {
                    let diag = self.error(
                        diag::TYPE,
                        element.span(),
                        format!(
                            "expected an [[exception]] table, found {}",
                            other.type_str()
                        ),
                    );
                    self.report(diag);
                }
            }
        }
    }

    fn check_exception(&mut self, header: Range<usize>, table: &DeTable<'_>, layer: &mut Layer) {
        let mut users = None;
        let mut reason = None;
        let mut expires = None;
        let mut seen = BTreeSet::new();
        let mut login = LoginRules::default();
        let mut config = ConfigRules::default();
        let mut loosens = false;
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            seen.insert(name.to_string());
            if self.damaged(key.span().start..value.span().end) {
                loosens = true; // do not also claim it loosens nothing
                continue;
            }
            let rule = LOOSENABLE.iter().find_map(|(section, keys)| {
                keys.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(k, kind)| (*section, *k, *kind))
            });
            match (name, rule) {
                ("users", _) => {
                    users = self.list("users", value, Context::Exception, |cx, s, span| {
                        cx.name("users", s, span)
                    });
                    if users.as_ref().is_some_and(Vec::is_empty) {
                        let diag = self.error(
                            diag::EMPTY_VALUE,
                            value.span(),
                            "an exception must name at least one user",
                        );
                        self.report(diag);
                    }
                }
                ("reason", _) => {
                    reason = self.check_value("reason", Kind::Text, value, Context::Exception)
                }
                ("expires", _) => expires = self.expiry(value),
                (_, Some((section, key, kind))) => {
                    loosens = true;
                    if let Some(v) = self.check_value(key, kind, value, Context::Exception) {
                        apply_rule(&mut login, &mut config, section, key, v);
                    }
                }
                (_, None) => {
                    let candidates = EXCEPTION_OWN_KEYS.iter().copied().chain(
                        LOOSENABLE
                            .iter()
                            .flat_map(|(_, keys)| keys.iter().map(|(k, _)| *k)),
                    );
                    self.unknown_key(key, "[[exception]]", candidates);
                }
            }
        }
        let header_line = self.line(header.start);
        if !seen.contains("users") {
            let diag = self
                .error(
                    diag::MISSING_KEY,
                    header.clone(),
                    "this exception has no `users`",
                )
                .with_help("name the users it applies to: users = [\"ci-bot\"]");
            self.report(diag);
        }
        if !seen.contains("reason") {
            let diag = self
                .error(
                    diag::MISSING_KEY,
                    header.clone(),
                    "this exception has no `reason`",
                )
                .with_help("say why it exists: reason = \"CI pipeline, OPS-123\"");
            self.report(diag);
        }
        if !seen.contains("expires") {
            let diag = self
                .warning(
                    diag::EXCEPTION_NO_EXPIRY,
                    header.clone(),
                    "this exception never expires",
                )
                .with_help("add an end date: expires = 2026-12-31T00:00:00Z");
            self.report(diag);
        }
        if !loosens {
            let diag = self
                .warning(
                    diag::EXCEPTION_NO_EFFECT,
                    header,
                    "this exception has no allowed_* key, so it loosens nothing",
                )
                .with_help("add the [login] or [config] allowed_* lists it widens");
            self.report(diag);
        }
        if let (Some(users), Some(Value::Text(reason))) = (users, reason) {
            let exception = Exception {
                users,
                login,
                config,
                expires,
                reason,
            };
            layer.exceptions.push((exception, header_line));
        }
    }

    fn expiry(&mut self, value: &Spanned<DeValue<'_>>) -> Option<jiff::Timestamp> {
        let span = value.span();
        let datetime = match value.get_ref() {
            DeValue::Datetime(dt) => dt,
            other => {
                let mut diag = self.error(
                    diag::TYPE,
                    span,
                    format!("expected a date-time, found {}", other.type_str()),
                );
                if other.is_str() {
                    diag = diag.with_help("write it unquoted: expires = 2026-12-31T00:00:00Z");
                }
                self.report(diag);
                return None;
            }
        };
        let Some(timestamp) = to_timestamp(datetime) else {
            let diag = self
                .error(
                    diag::INVALID_DATETIME,
                    span,
                    format!("`{datetime}` is not a date-time with a UTC offset"),
                )
                .with_help("write a full date-time with an offset: 2026-12-31T00:00:00Z");
            self.report(diag);
            return None;
        };
        if timestamp <= self.now {
            let diag = self
                .warning(
                    diag::EXCEPTION_EXPIRED,
                    span,
                    format!("this exception expired at {timestamp}"),
                )
                .with_help("remove it, or move `expires` later");
            self.report(diag);
        }
        Some(timestamp)
    }
}

/// Where syntax errors are grouped: by the key-value pair they fall in, else by line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Pair(usize),
    Line(usize),
}

/// A key-value pair holding a leaf value (not a table).
struct Pair {
    /// Key start ..= value end.
    span: Range<usize>,
    value_start: usize,
}

fn collect_pairs(table: &DeTable<'_>, pairs: &mut Vec<Pair>) {
    for (key, value) in table.iter() {
        match value.get_ref() {
            DeValue::Table(inner) => collect_pairs(inner, pairs),
            DeValue::Array(array)
                if !array.is_empty() && array.iter().all(|e| e.get_ref().is_table()) =>
            {
                for element in array.iter() {
                    if let DeValue::Table(inner) = element.get_ref() {
                        collect_pairs(inner, pairs);
                    }
                }
            }
            _ => pairs.push(Pair {
                span: key.span().start..value.span().end,
                value_start: value.span().start,
            }),
        }
    }
}

fn to_timestamp(datetime: &toml::value::Datetime) -> Option<jiff::Timestamp> {
    let (date, time, offset) = (datetime.date?, datetime.time?, datetime.offset?);
    let civil = jiff::civil::DateTime::new(
        i16::try_from(date.year).ok()?,
        i8::try_from(date.month).ok()?,
        i8::try_from(date.day).ok()?,
        i8::try_from(time.hour).ok()?,
        i8::try_from(time.minute).ok()?,
        i8::try_from(time.second).ok()?,
        i32::try_from(time.nanosecond).ok()?,
    )
    .ok()?;
    let seconds = match offset {
        toml::value::Offset::Z => 0,
        toml::value::Offset::Custom { minutes } => i32::from(minutes) * 60,
    };
    jiff::tz::Offset::from_seconds(seconds)
        .ok()?
        .to_timestamp(civil)
        .ok()
}

/// `"500ms"`, `"5s"`, `"2m"`, `"1h"`: a whole number and a unit.
fn parse_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = s.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    Some(Duration::from_millis(number.checked_mul(millis_per_unit)?))
}

/// The inverse of [`parse_duration`], in the largest unit that is exact.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !duration.subsec_nanos().is_multiple_of(1_000_000) {
        return format!("{}ns", duration.as_nanos());
    }
    match millis {
        0 => "0s".to_string(),
        m if m.is_multiple_of(3_600_000) => format!("{}h", m / 3_600_000),
        m if m.is_multiple_of(60_000) => format!("{}m", m / 60_000),
        m if m.is_multiple_of(1_000) => format!("{}s", m / 1_000),
        m => format!("{m}ms"),
    }
}

/// The closest candidate to `input`, if one is close enough to be a typo of it.
fn suggest<'c>(input: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let input = input.to_lowercase();
    candidates
        .map(|c| {
            (
                c,
                strsim::jaro_winkler(&input, c),
                strsim::levenshtein(&input, c),
            )
        })
        .filter(|(_, jw, lev)| *jw > 0.8 || *lev <= 2)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _, _)| c)
}

/// The section a key belongs to, for "put it under [login]" hints.
fn home_section(key: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .find(|(_, keys)| keys.iter().any(|(k, _)| *k == key))
        .map(|(s, _)| *s)
}

fn join<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Parse and check one source.
fn check_source(source: &Source, now: jiff::Timestamp) -> (Layer, Vec<Diagnostic>, bool) {
    let (root, errors) = DeTable::parse_recoverable(&source.text);
    let mut checker = Checker {
        file: &source.name,
        lines: diag::LineIndex::new(&source.text),
        now,
        diags: Vec::new(),
        left_out: (0, false),
        damage: Vec::new(),
    };
    let layer = if checker.syntax(root.get_ref(), &errors) {
        checker.check_document(root.get_ref())
    } else {
        Layer::default()
    };
    (layer, checker.finish(), !errors.is_empty())
}

// ---------------------------------------------------------------------------------------------
// Merging
// ---------------------------------------------------------------------------------------------

/// One source as read from disk: its text (if it could be read) and what reading it found.
struct Entry {
    source: Option<Source>,
    diagnostics: Vec<Diagnostic>,
}

/// Parse, check and merge sources in the given order. Pure: touches no file.
pub fn load_sources(sources: Vec<Source>) -> LoadOutcome {
    let entries = sources
        .into_iter()
        .map(|source| Entry {
            source: Some(source),
            diagnostics: Vec::new(),
        })
        .collect();
    assemble(
        Vec::new(),
        entries,
        "no policy source was given",
        jiff::Timestamp::now(),
    )
}

fn assemble(
    mut diagnostics: Vec<Diagnostic>,
    entries: Vec<Entry>,
    nothing_found: &str,
    now: jiff::Timestamp,
) -> LoadOutcome {
    let mut sources = Vec::new();
    let mut layers = Vec::new();
    let mut syntax_errors = false;
    for entry in entries {
        diagnostics.extend(entry.diagnostics);
        if let Some(source) = entry.source {
            let (layer, diags, had_syntax_errors) = check_source(&source, now);
            diagnostics.extend(diags);
            syntax_errors |= had_syntax_errors;
            layers.push((source.name.clone(), layer));
            sources.push(source);
        }
    }
    if sources.is_empty() && diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::warning(diag::NO_FILES, "", nothing_found).with_help(
                "with no admin policy, the agent runs its built-in monitor-only baseline",
            ),
        );
    }

    let mut merged: BTreeMap<(&str, &str), Value> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut exceptions = Vec::new();
    let mut provenance: BTreeMap<String, Vec<Origin>> = BTreeMap::new();
    for (file, layer) in layers {
        seen.extend(layer.seen);
        for (section, key, value, line) in layer.keys {
            merged.insert((section, key), value);
            provenance
                .entry(format!("{section}.{key}"))
                .or_default()
                .push(Origin {
                    file: file.clone(),
                    line,
                });
        }
        for (exception, line) in layer.exceptions {
            provenance.insert(
                format!("{EXCEPTION}[{}]", exceptions.len()),
                vec![Origin {
                    file: file.clone(),
                    line,
                }],
            );
            exceptions.push(exception);
        }
    }

    // A required key is reported missing only when no file even tried to set it, and only when
    // every file parsed: a syntax error may be hiding it.
    if let Some(last) = sources.last().filter(|_| !syntax_errors) {
        for key in REQUIRED {
            if !seen.contains(&("policy", *key)) {
                let example = match *key {
                    "mode" => "mode = \"monitor\"",
                    "revision" => "revision = \"2026-01-01.1\"",
                    _ => "name = \"example-corp\"",
                };
                diagnostics.push(
                    Diagnostic::error(
                        diag::MISSING_KEY,
                        last.name.clone(),
                        format!("no policy file sets `{key}` in [policy]"),
                    )
                    .with_help(format!(
                        "add it under [policy] in one of the files: {example}"
                    )),
                );
            }
        }
    }

    let valid = !sources.is_empty() && !diagnostics.iter().any(Diagnostic::is_error);
    let policy = valid.then(|| {
        let mut policy = Policy {
            name: String::new(),
            revision: String::new(),
            mode: Mode::default(),
            login: LoginRules::default(),
            config: ConfigRules::default(),
            enforce: EnforceSettings::default(),
            scope: Scope::default(),
            audit: Default::default(),
            exceptions,
            baseline: false,
        };
        for ((section, key), value) in merged {
            let applied = apply(&mut policy, section, key, value);
            debug_assert!(applied, "schema key {section}.{key} has no place in Policy");
        }
        policy
    });
    let source_info = sources
        .iter()
        .map(|s| SourceInfo {
            name: s.name.clone(),
            sha256: sha256_hex(s.text.as_bytes()),
        })
        .collect();
    LoadOutcome {
        policy,
        diagnostics,
        sources,
        source_info,
        provenance,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading from disk
// ---------------------------------------------------------------------------------------------

/// Read `*.toml` in `dir` in lexical order (by file name bytes), then the managed-preferences
/// plist if it exists: it comes last so it outranks the drop-ins.
///
/// Hidden files and anything not ending in `.toml` (editor backups, `.rpmnew`, …) are skipped.
pub fn load_dir(dir: &Path, managed_prefs: Option<&Path>) -> LoadOutcome {
    let dir_name = dir.display().to_string();
    let mut head = Vec::new();
    let mut entries = Vec::new();
    let mut nothing_found = format!("no *.toml policy files in {dir_name}");
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            nothing_found = format!("policy directory {dir_name} does not exist");
        }
        Err(e) => head.push(Diagnostic::error(
            diag::IO,
            dir_name.clone(),
            format!("cannot read the policy directory: {e}"),
        )),
        Ok(meta) if !meta.is_dir() => head.push(Diagnostic::error(
            diag::IO,
            dir_name.clone(),
            "the policy directory is not a directory",
        )),
        Ok(meta) => {
            head.extend(check_ownership(&meta, &dir_name, true));
            match policy_file_names(dir) {
                Ok(names) => {
                    for name in names {
                        let path = dir.join(&name);
                        entries.push(read_policy_file(&path, path.display().to_string()));
                    }
                }
                Err(e) => head.push(Diagnostic::error(
                    diag::IO,
                    dir_name.clone(),
                    format!("cannot list the policy directory: {e}"),
                )),
            }
        }
    }
    if let Some(entry) = managed_prefs.and_then(read_managed_prefs) {
        entries.push(entry);
    }
    assemble(head, entries, &nothing_found, jiff::Timestamp::now())
}

/// The `*.toml` names in `dir` worth reading, sorted by bytes.
fn policy_file_names(dir: &Path) -> std::io::Result<Vec<std::ffi::OsString>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let bytes = name.as_bytes();
        if !bytes.starts_with(b".") && bytes.ends_with(b".toml") {
            names.push(name);
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

/// Read the given files in order (`policy validate FILE...`).
pub fn load_files(files: &[PathBuf]) -> LoadOutcome {
    let entries = files
        .iter()
        .map(|path| read_policy_file(path, path.display().to_string()))
        .collect();
    assemble(
        Vec::new(),
        entries,
        "no policy files were given",
        jiff::Timestamp::now(),
    )
}

fn read_policy_file(path: &Path, name: String) -> Entry {
    let (bytes, mut diagnostics) = read_checked(path, &name);
    let source = bytes.and_then(|bytes| match String::from_utf8(bytes) {
        Ok(text) => Some(Source {
            name: name.clone(),
            text,
        }),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
            let (line, column) = diag::line_col(&prefix, valid);
            let mut diag =
                Diagnostic::error(diag::NOT_UTF8, name.clone(), "the file is not valid UTF-8")
                    .with_help("save it as UTF-8");
            diag.line = line;
            diag.column = column;
            diagnostics.push(diag);
            None
        }
    });
    Entry {
        source,
        diagnostics,
    }
}

/// Open without blocking (a FIFO must not hang the agent), then check type, ownership and size
/// on the open file, then read at most [`MAX_POLICY_BYTES`].
fn read_checked(path: &Path, name: &str) -> (Option<Vec<u8>>, Vec<Diagnostic>) {
    let io_error = |what: &str, e: std::io::Error| {
        (
            None,
            vec![Diagnostic::error(
                diag::IO,
                name,
                format!("cannot {what} the file: {e}"),
            )],
        )
    };
    let flags =
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::CLOEXEC;
    let mut file = match rustix::fs::open(path, flags, rustix::fs::Mode::empty()) {
        Ok(fd) => File::from(fd),
        Err(e) => return io_error("open", e.into()),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => return io_error("inspect", e),
    };
    if !meta.is_file() {
        let what = describe_file_type(&meta);
        let diag = Diagnostic::error(
            diag::NOT_REGULAR_FILE,
            name,
            format!("not a regular file (it is {what})"),
        )
        .with_help("policy files must be regular files");
        return (None, vec![diag]);
    }
    let mut diagnostics: Vec<Diagnostic> =
        check_ownership(&meta, name, false).into_iter().collect();
    let too_large = |size: u64| {
        Diagnostic::error(
            diag::TOO_LARGE,
            name,
            format!("the file is {size} bytes; the limit is {MAX_POLICY_BYTES} (1 MiB)"),
        )
    };
    if meta.len() > MAX_POLICY_BYTES {
        diagnostics.push(too_large(meta.len()));
        return (None, diagnostics);
    }
    let mut bytes = Vec::new();
    if let Err(e) = (&mut file)
        .take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
    {
        return io_error("read", e);
    }
    if bytes.len() as u64 > MAX_POLICY_BYTES {
        diagnostics.push(too_large(bytes.len() as u64));
        return (None, diagnostics);
    }
    (Some(bytes), diagnostics)
}

fn describe_file_type(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "something else"
    }
}

/// sshd's StrictModes: owned by root (or by us, so tests and unprivileged runs work) and not
/// writable by group or others. Anyone who can write a policy file can turn enforcement off.
fn check_ownership(meta: &Metadata, name: &str, is_dir: bool) -> Option<Diagnostic> {
    let euid = rustix::process::geteuid().as_raw();
    let (uid, mode) = (meta.uid(), meta.mode() & 0o7777);
    let message = if uid != 0 && uid != euid {
        format!("owned by uid {uid}, not root: its owner could rewrite the policy")
    } else if mode & 0o022 != 0 {
        format!("writable by group or others (mode {mode:04o}): they could rewrite the policy")
    } else {
        return None;
    };
    let help = if is_dir {
        format!("chown root:root {name} && chmod 755 {name}")
    } else {
        format!("chown root:root {name} && chmod 644 {name}")
    };
    Some(Diagnostic::error(diag::FILE_PERMISSIONS, name, message).with_help(help))
}

/// The policy from a managed-preferences plist (XML or binary), or `None` if there is none.
fn read_managed_prefs(path: &Path) -> Option<Entry> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        _ => {}
    }
    let name = format!("managed preferences ({})", path.display());
    let (bytes, mut diagnostics) = read_checked(path, &name);
    let source = bytes.and_then(|bytes| match decode_managed_prefs(&bytes) {
        Ok(text) => Some(Source {
            name: name.clone(),
            text,
        }),
        Err((message, help)) => {
            diagnostics.push(
                Diagnostic::error(diag::MANAGED_PREFS, name.clone(), message).with_help(help),
            );
            None
        }
    });
    Some(Entry {
        source,
        diagnostics,
    })
}

/// The policy TOML inside a managed-preferences plist, or `(message, help)`.
fn decode_managed_prefs(bytes: &[u8]) -> Result<String, (String, String)> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const BASE64: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let help = format!(
        "the profile must set `{MANAGED_PREFS_KEY}` to the base64 of the policy TOML: base64 < policy.toml"
    );
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| (format!("cannot parse the plist: {e}"), help.clone()))?;
    let entry = value
        .as_dictionary()
        .and_then(|d| d.get(MANAGED_PREFS_KEY))
        .ok_or_else(|| {
            (
                format!("the plist has no `{MANAGED_PREFS_KEY}` key"),
                help.clone(),
            )
        })?;
    let decoded = match entry {
        plist::Value::String(s) => {
            let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
            BASE64.decode(compact).map_err(|e| {
                (
                    format!("`{MANAGED_PREFS_KEY}` is not valid base64: {e}"),
                    help.clone(),
                )
            })?
        }
        // A <data> value is base64 in the XML already; take its bytes as they are.
        plist::Value::Data(data) => data.clone(),
        _ => {
            return Err((
                format!("`{MANAGED_PREFS_KEY}` is not a string"),
                help.clone(),
            ));
        }
    };
    if decoded.len() as u64 > MAX_POLICY_BYTES {
        return Err((
            format!(
                "the decoded policy is {} bytes; the limit is 1 MiB",
                decoded.len()
            ),
            help,
        ));
    }
    String::from_utf8(decoded)
        .map_err(|_| ("the decoded policy is not valid UTF-8".to_string(), help))
}

// ---------------------------------------------------------------------------------------------
// Explaining
// ---------------------------------------------------------------------------------------------

/// One effective key for `policy explain`.
struct Explained {
    section: &'static str,
    key: &'static str,
    value: serde_json::Value,
    /// Where the effective value came from; `None` for a default.
    from: Option<Origin>,
    /// Earlier sources that set the key too, in merge order.
    overrode: Vec<Origin>,
}

fn explained(outcome: &LoadOutcome, policy: &Policy) -> Vec<Explained> {
    let json = serde_json::to_value(policy).unwrap_or_default();
    let mut out = Vec::new();
    for (section, keys) in SECTIONS {
        for (key, _) in *keys {
            let full = format!("{section}.{key}");
            let value = if (*section, *key) == ("enforce", "terminate_grace") {
                serde_json::Value::String(format_duration(policy.enforce.terminate_grace))
            } else if *section == "policy" {
                json[*key].clone()
            } else {
                json[*section][*key].clone()
            };
            let mut origins = outcome.provenance.get(&full).cloned().unwrap_or_default();
            let from = origins.pop();
            out.push(Explained {
                section,
                key,
                value,
                from,
                overrode: origins,
            });
        }
    }
    out
}

/// An exception's keys as TOML would spell them, absent lists left out.
fn exception_fields(exception: &Exception) -> Vec<(&'static str, serde_json::Value)> {
    let mut fields = vec![("users", serde_json::json!(exception.users))];
    let login = serde_json::to_value(&exception.login).unwrap_or_default();
    let config = serde_json::to_value(&exception.config).unwrap_or_default();
    for (rules, keys) in [(&login, LOGIN_KEYS), (&config, CONFIG_KEYS)] {
        for (key, _) in keys {
            if !rules[*key].is_null() {
                fields.push((key, rules[*key].clone()));
            }
        }
    }
    if let Some(expires) = exception.expires {
        fields.push(("expires", serde_json::Value::String(expires.to_string())));
    }
    fields.push(("reason", serde_json::json!(exception.reason)));
    fields
}

fn origin_str(origin: &Origin) -> String {
    format!("{}:{}", origin.file, origin.line)
}

/// A JSON value as TOML would write it (strings quoted, lists inline).
fn toml_like(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => {
            format!("[{}]", join(items.iter().map(toml_like)))
        }
        other => other.to_string(),
    }
}

/// `policy explain`: each effective key, its value, where it came from and what it overrode.
pub fn render_explain(outcome: &LoadOutcome) -> String {
    let Some(policy) = &outcome.policy else {
        return format!(
            "no effective policy: the sources have problems\n\n{}",
            outcome.render_diagnostics()
        );
    };
    let mut out = format!(
        "policy `{}` revision {} (mode {}), merged from {} source{} (later ones win):\n",
        policy.name,
        policy.revision,
        policy.mode.as_str(),
        outcome.source_info.len(),
        if outcome.source_info.len() == 1 {
            ""
        } else {
            "s"
        },
    );
    for info in &outcome.source_info {
        let short = info.sha256.get(..16).unwrap_or(&info.sha256);
        out.push_str(&format!("  {}  sha256:{short}\n", info.name));
    }

    // (text, comment) per line; lines with a comment get their comments aligned.
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    let mut section = "";
    for entry in explained(outcome, policy) {
        let key = entry.key;
        if entry.section != section {
            section = entry.section;
            lines.push((String::new(), None));
            lines.push((format!("[{section}]"), None));
        }
        if entry.value.is_null() {
            let what = if section == "enforce" {
                "not set"
            } else {
                "not set, anything allowed"
            };
            lines.push((format!("# {key}: {what}"), None));
            continue;
        }
        let comment = match &entry.from {
            None => "default".to_string(),
            Some(from) if entry.overrode.is_empty() => origin_str(from),
            Some(from) => format!(
                "{}, overrides {}",
                origin_str(from),
                join(entry.overrode.iter().map(origin_str))
            ),
        };
        lines.push((
            format!("{key} = {}", toml_like(&entry.value)),
            Some(comment),
        ));
    }
    for (index, exception) in policy.exceptions.iter().enumerate() {
        let from = outcome
            .provenance
            .get(&format!("{EXCEPTION}[{index}]"))
            .and_then(|o| o.last())
            .map(origin_str);
        lines.push((String::new(), None));
        lines.push(("[[exception]]".to_string(), from));
        for (key, value) in exception_fields(exception) {
            let value = if key == "expires" {
                value.as_str().unwrap_or_default().to_string()
            } else {
                toml_like(&value)
            };
            lines.push((format!("{key} = {value}"), None));
        }
    }

    let width = lines
        .iter()
        .filter(|(_, c)| c.is_some())
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(40);
    for (left, comment) in lines {
        match comment {
            Some(c) => {
                let pad = width.saturating_sub(left.chars().count());
                out.push_str(&format!("{left}{}  # {c}\n", " ".repeat(pad)));
            }
            None => {
                out.push_str(&left);
                out.push('\n');
            }
        }
    }
    let warnings = outcome.warnings();
    if warnings > 0 {
        out.push_str(&format!(
            "\n{warnings} warning{}: `codex-warden policy validate` shows them\n",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    out
}

/// `policy explain --json`.
pub fn explain_json(outcome: &LoadOutcome) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = match &outcome.policy {
        Some(policy) => explained(outcome, policy)
            .into_iter()
            .map(|e| {
                serde_json::json!({
                    "key": format!("{}.{}", e.section, e.key),
                    "value": e.value,
                    "source": e.from,
                    "overrode": e.overrode,
                })
            })
            .collect(),
        None => Vec::new(),
    };
    let exceptions: Vec<serde_json::Value> = outcome
        .policy
        .iter()
        .flat_map(|p| p.exceptions.iter().enumerate())
        .map(|(index, exception)| {
            let fields: serde_json::Map<String, serde_json::Value> = exception_fields(exception)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            serde_json::json!({
                "index": index,
                "source": outcome.provenance.get(&format!("{EXCEPTION}[{index}]")).and_then(|o| o.last()),
                "exception": fields,
            })
        })
        .collect();
    serde_json::json!({
        "policy": outcome.policy.as_ref().map(|p| serde_json::json!({
            "name": p.name,
            "revision": p.revision,
            "mode": p.mode,
        })),
        "sources": outcome.source_info,
        "keys": keys,
        "exceptions": exceptions,
        "diagnostics": render_json(&outcome.diagnostics),
    })
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
