//! Checking one policy source: its TOML against the key [`schema`](super::schema).
//!
//! The TOML is walked by hand over `toml`'s spanned document instead of through serde derive:
//! serde stops at the first error and loses positions, and both are what admins need most. Every
//! problem becomes a [`Diagnostic`] at its exact span; the checked values form a [`CheckedSource`], which
//! [`merge`](super::merge) combines with the other sources' layers.

mod exception;
mod mcp_servers;
mod requirement_keys;
mod values;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::core::policy::Exception;
use crate::core::policy::diag::{self, Code, Diagnostic};
use crate::core::policy::schema::{self, EXCEPTION, Key, Value};
use crate::core::policy::source::Source;

/// What one source says, after checking.
#[derive(Debug, Default)]
pub struct CheckedSource {
    /// `(key, value, line)`, for each valid key.
    pub keys: Vec<(&'static Key, Value, usize)>,
    /// Every known `(section, key)` the file mentions, valid or not: a key with a bad value is
    /// reported as such, never again as missing.
    pub seen: BTreeSet<(&'static str, &'static str)>,
    pub exceptions: Vec<(Exception, usize)>,
}

/// Where a list sits, which changes what an empty list means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Base,
    Exception,
}

/// A file with more problems than this is junk or the wrong file: list the first ones only.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 100;

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
    fn error(&self, code: Code, span: Range<usize>, msg: impl Into<String>) -> Diagnostic {
        let mut diag = Diagnostic::error(code, self.file, msg);
        diag.span = Some(span);
        diag
    }

    fn warning(&self, code: Code, span: Range<usize>, msg: impl Into<String>) -> Diagnostic {
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
                Diagnostic::error(Code::Truncated, self.file, message).with_help(help)
            } else {
                Diagnostic::warning(Code::Truncated, self.file, message).with_help(help)
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
            let diag = self.error(Code::Syntax, span, message);
            self.report(diag);
        }
        !groups_had_lines
    }

    fn check_document(&mut self, root: &DeTable<'_>) -> CheckedSource {
        let mut layer = CheckedSource::default();
        for (key, value) in root.iter() {
            let name = key.get_ref().as_ref();
            if name == EXCEPTION {
                self.check_exceptions(value, &mut layer);
                continue;
            }
            if !value.get_ref().is_table() && self.damaged(key.span().start..value.span().end) {
                continue;
            }
            match (schema::sections().find(|s| *s == name), value.get_ref()) {
                (Some(section), DeValue::Table(table)) => {
                    self.check_section(section, table, &mut layer)
                }
                (Some(section), other) => {
                    let diag = self.error(
                        Code::Type,
                        value.span(),
                        format!("expected a table [{section}], found {}", other.type_str()),
                    );
                    self.report(diag);
                }
                (None, DeValue::Table(_)) => {
                    let mut diag = self.error(
                        Code::UnknownSection,
                        key.span(),
                        format!("unknown section [{name}]"),
                    );
                    diag.help = Some(match suggest(name, schema::section_names()) {
                        Some(EXCEPTION) => "did you mean [[exception]]?".to_string(),
                        Some(s) => format!("did you mean [{s}]?"),
                        None => format!("known sections: {}", join(schema::section_headers())),
                    });
                    self.report(diag);
                }
                (None, _) => {
                    let mut diag = self.error(
                        Code::UnknownKey,
                        key.span(),
                        format!("unknown key `{name}` outside any section"),
                    );
                    diag.help = Some(match schema::home_section(name) {
                        Some(section) => format!("put it under [{section}]"),
                        None => format!(
                            "keys belong in a section: {}",
                            join(schema::section_headers())
                        ),
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
        table: &DeTable<'_>,
        layer: &mut CheckedSource,
    ) {
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let known = schema::key(section, name);
            if let Some(k) = known {
                layer.seen.insert((section, k.name));
            }
            if self.damaged(key.span().start..value.span().end) {
                continue;
            }
            match known {
                Some(k) => {
                    if let Some(v) = self.check_value(k.name, k.kind, value, Context::Base) {
                        layer.keys.push((k, v, self.line(key.span().start)));
                    }
                }
                None => {
                    let candidates = schema::keys_of(section).map(|k| k.name);
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
            Code::UnknownKey,
            key.span(),
            format!("unknown key `{name}` in {place}"),
        );
        // A key that exists elsewhere was put in the wrong section; that beats a near miss.
        diag.help = Some(
            match (
                schema::home_section(name),
                suggest(name, candidates.clone()),
            ) {
                (Some(section), _) => format!("`{name}` belongs in [{section}]"),
                (None, Some(s)) => format!("did you mean `{s}`?"),
                (None, None) => format!("{place} takes: {}", join(candidates)),
            },
        );
        self.report(diag);
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

fn join<S: AsRef<str>>(items: impl Iterator<Item = S>) -> String {
    items
        .map(|s| s.as_ref().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse and check one source.
pub fn check_source(
    source: &Source,
    now: jiff::Timestamp,
) -> (CheckedSource, Vec<Diagnostic>, bool) {
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
        CheckedSource::default()
    };
    let mut diags = checker.finish();
    if !errors.is_empty() && !looks_like_a_policy(&source.text) {
        // Not a policy at all (a wrong path, or a link to some other file): say where the
        // problems are, but quote none of its lines, which may be anyone's secrets.
        for diag in &mut diags {
            diag.span = None;
        }
        diags.insert(
            0,
            Diagnostic::error(
                Code::Syntax,
                source.name.clone(),
                "this file is not a policy (no policy section and not TOML); its lines are not shown",
            )
            .with_help("check the path: policy files are TOML with [policy], [login], … sections"),
        );
    }
    (layer, diags, !errors.is_empty())
}

/// Whether some line opens a policy section: a file that never does and is not even TOML is
/// some other file.
fn looks_like_a_policy(text: &str) -> bool {
    let opens: Vec<String> = schema::section_names().map(|s| format!("[{s}")).collect();
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with('[') && {
            let name = l.trim_start_matches('[').trim_start();
            opens.iter().any(|o| name.starts_with(&o[1..]))
        }
    })
}
