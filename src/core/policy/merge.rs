//! Merging checked sources: in order, a later source's key replaces an earlier one's (lists
//! replace, not append), `[[exception]]` entries append, and provenance records every file that
//! set each key, which is what `policy explain` shows.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest as _, Sha256};

use crate::core::policy::check::check_source;
use crate::core::policy::diag::{Code, Diagnostic, render_human};
use crate::core::policy::schema::{EXCEPTION, Key, REQUIRED, Value};
use crate::core::policy::source::{Origin, Source, SourceInfo};
use crate::core::policy::{ConfigRules, EnforceSettings, LoginRules, Mode, Policy, Scope};

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

/// One source as read from disk: its text (if it could be read) and what reading it found.
pub struct Entry {
    pub source: Option<Source>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parse, check and merge sources in the given order, at `now` (exceptions' expiry is judged
/// against it). Pure: touches no file, reads no clock.
pub fn load_sources_at(sources: Vec<Source>, now: jiff::Timestamp) -> LoadOutcome {
    let entries = sources
        .into_iter()
        .map(|source| Entry {
            source: Some(source),
            diagnostics: Vec::new(),
        })
        .collect();
    assemble(Vec::new(), entries, "no policy source was given", now)
}

/// A drop-in that turns `mode = "enforce"` of an earlier source into `"monitor"` silently stops
/// all enforcement on the machine: legitimate during a rollback, so a warning, never an error.
fn mode_downgrade(
    earlier: Option<&(&'static Key, Value)>,
    later: &Value,
    file: &str,
    line: usize,
) -> Option<Diagnostic> {
    let (Some((_, Value::Mode(Mode::Enforce))), Value::Mode(Mode::Monitor)) = (earlier, later)
    else {
        return None;
    };
    let mut diag = Diagnostic::warning(
        Code::ModeDowngrade,
        file,
        "this file lowers `mode` from \"enforce\" (set by an earlier file) to \"monitor\": \
         violations are only recorded",
    )
    .with_help(
        "if the rollback is intended, keep it; otherwise remove `mode` from this file \
         (`codex-warden policy explain` shows which file set what)",
    );
    diag.line = line;
    diag.column = 1;
    Some(diag)
}

pub fn assemble(
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
            Diagnostic::warning(Code::NoFiles, "", nothing_found).with_help(
                "with no admin policy, the agent runs its built-in monitor-only baseline",
            ),
        );
    }

    let mut merged: BTreeMap<(&str, &str), (&'static Key, Value)> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    let mut exceptions = Vec::new();
    let mut provenance: BTreeMap<String, Vec<Origin>> = BTreeMap::new();
    for (file, layer) in layers {
        seen.extend(layer.seen);
        for (key, value, line) in layer.keys {
            if let Some(diag) =
                mode_downgrade(merged.get(&(key.section, key.name)), &value, &file, line)
            {
                diagnostics.push(diag);
            }
            merged.insert((key.section, key.name), (key, value));
            provenance.entry(key.path()).or_default().push(Origin {
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
                        Code::MissingKey,
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
    let mut wrong = Vec::new();
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
            vault: Default::default(),
            exceptions,
            baseline: false,
        };
        for (key, value) in merged.into_values() {
            if let Err(e) = key.apply(&mut policy, value) {
                wrong.push(e);
            }
        }
        policy
    });
    // A value its key cannot take is refused with the policy, never dropped from it.
    let policy = match (wrong.is_empty(), sources.last()) {
        (true, _) => policy,
        (false, last) => {
            let file = last.map(|s| s.name.clone()).unwrap_or_default();
            for e in wrong {
                diagnostics.push(Diagnostic::error(Code::Type, file.clone(), e.to_string()));
            }
            None
        }
    };
    let source_info = sources
        .iter()
        .map(|s| SourceInfo {
            name: s.name.clone(),
            sha256: format!("{:x}", Sha256::digest(s.text.as_bytes())),
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

/// [`load_sources_at`] the present time: for tests.
#[cfg(test)]
pub fn load_sources(sources: Vec<Source>) -> LoadOutcome {
    load_sources_at(sources, jiff::Timestamp::now())
}

#[cfg(test)]
#[path = "merge_mode_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "merge_tests.rs"]
mod checker_tests;
