//! Policy diagnostics as data.
//!
//! Loading never stops at the first problem: every check pushes a [`Diagnostic`] (a stable code,
//! a severity, a position and a message) and the caller decides what is fatal. The same values
//! render for people ([`render_human`], rustc style with a caret under the exact span) and for
//! machines ([`render_json`]), so `policy validate`, the agent's log and the `policy_rejected`
//! audit record all say the same thing.
//!
//! Messages quote policy values only, never whole lines of other files, so nothing secret can
//! leak through a diagnostic.

use std::fmt::Write as _;
use std::ops::Range;

use serde::Serialize;

use crate::core::policy::source::Source;

/// How bad a diagnostic is: any error rejects the whole policy; warnings are advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a policy source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable kebab-case code.
    pub code: Code,
    pub severity: Severity,
    /// Display name of the source: the path as given, or `managed preferences (PATH)`.
    pub file: String,
    /// 1-based; 0 when the diagnostic is about the whole file, which then has no position: it
    /// renders as `FILE`, never `FILE:0:0`, and JSON leaves `line` and `column` out (as rustc's
    /// JSON gives such a diagnostic no span).
    #[serde(skip_serializing_if = "whole_file")]
    pub line: usize,
    /// 1-based, counted in chars; 0 when the diagnostic is about the whole file.
    #[serde(skip_serializing_if = "whole_file")]
    pub column: usize,
    /// Byte span in the source text.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    pub message: String,
    pub help: Option<String>,
}

fn whole_file(position: &usize) -> bool {
    *position == 0
}

impl Diagnostic {
    /// Where the diagnostic is, as people read it: `FILE:LINE:COL`, or `FILE` for a problem with
    /// the whole file (a mode, an owner, a size, a key no file sets).
    pub fn location(&self) -> String {
        if self.line > 0 {
            format!("{}:{}:{}", self.file, self.line, self.column)
        } else {
            self.file.clone()
        }
    }

    /// A whole-file diagnostic (no position) in `file`.
    pub fn new(
        code: Code,
        severity: Severity,
        file: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity,
            file: file.into(),
            line: 0,
            column: 0,
            span: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn error(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, file, message)
    }

    pub fn warning(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, file, message)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Point the diagnostic at `span` of `text` (the source it was found in).
    pub fn at(mut self, text: &str, span: Range<usize>) -> Self {
        let (line, column) = line_col(text, span.start);
        self.line = line;
        self.column = column;
        self.span = Some(span);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Every code a policy diagnostic can carry: a stable kebab-case string (at the edges: output,
/// audit records, docs) and a one-line description (for the docs).
macro_rules! codes {
    ($($variant:ident => $code:literal, $description:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            /// The stable code, e.g. `policy.unknown-key`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// What the code means, starting with the severity it is reported at.
            pub fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $description,)*
                }
            }
        }
    };
}

codes! {
    Syntax => "policy.syntax", "error: the file is not valid TOML";
    UnknownSection => "policy.unknown-section", "error: a section (table) the policy does not know";
    UnknownKey => "policy.unknown-key", "error: a key the section does not know";
    Type => "policy.type", "error: a value of the wrong TOML type";
    UnknownValue => "policy.unknown-value", "error: a value outside the key's fixed set of names";
    MissingKey => "policy.missing-key", "error: a required key is set by no policy file";
    EmptyValue => "policy.empty-value", "error: a value that must say something is empty";
    EmptyList => "policy.empty-list", "warning: an allowed_* list is empty, so it allows nothing";
    DuplicateValue => "policy.duplicate-value", "warning: a list names the same value twice";
    UnknownPlan => "policy.unknown-plan", "warning: a plan name ChatGPT is not known to use";
    WorkspaceId => "policy.workspace-id", "warning: a workspace id that does not look like a chatgpt_account_id (a UUID or ws-…)";
    ModeDowngrade => "policy.mode-downgrade", "warning: a later drop-in lowers `mode` from enforce to monitor";
    InvalidDomain => "policy.invalid-domain", "error: an email domain that is not a bare domain";
    InvalidFingerprint => "policy.invalid-fingerprint", "error: an API key fingerprint that is not 8 to 64 hex digits";
    InvalidUrl => "policy.invalid-url", "error: a base URL that is not an http(s) URL with a host";
    InvalidDuration => "policy.invalid-duration", "error: a duration that is not like \"500ms\", \"5s\" or \"2m\"";
    OutOfRange => "policy.out-of-range", "error: an integer outside the key's range";
    InvalidGlob => "policy.invalid-glob", "error: a home glob the glob syntax rejects";
    RelativePath => "policy.relative-path", "error: a home glob that is not an absolute path";
    InvalidDatetime => "policy.invalid-datetime", "error: an expiry that is not a date-time with an offset";
    ExceptionNoExpiry => "policy.exception-no-expiry", "warning: an exception that never expires";
    ExceptionExpired => "policy.exception-expired", "warning: an exception whose expiry has passed";
    ExceptionNoEffect => "policy.exception-no-effect", "warning: an exception with no allowed_* key loosens nothing";
    SandboxReadOnly => "policy.sandbox-read-only", "error: an allowed_sandbox_modes that omits read-only, which Codex requires";
    McpIdentity => "policy.mcp-identity", "error: an MCP server entry that cannot match: neither or both of command and url, a field of the other transport, LD_*/DYLD_*/PATH in its env, a field both pinned and in `any`";
    Io => "policy.io", "error: a policy file or directory could not be read";
    NotUtf8 => "policy.not-utf8", "error: a policy file is not UTF-8";
    NotRegularFile => "policy.not-regular-file", "error: a policy path is not a regular file (a directory, a FIFO, …)";
    TooLarge => "policy.too-large", "error: a policy file is larger than 1 MiB";
    FilePermissions => "policy.file-permissions", "error: a policy file or directory is not owned by root or is group/other-writable";
    NoFiles => "policy.no-files", "warning: no policy source was found, so no admin policy applies";
    ManagedPrefs => "policy.managed-prefs", "error: the managed preferences plist could not be read or decoded";
    Truncated => "policy.truncated", "error or warning, the worst of those left out: a file has more problems than are listed";
}

impl Code {
    /// Whether a policy carrying this (warning) diagnostic enforces less than its base files
    /// ask for: the agent runs it, and the health contract calls the machine unhealthy
    /// (`policy-weakened`, docs/fleet.md) until the admin removes the cause.
    pub fn weakens_enforcement(self) -> bool {
        matches!(self, Code::ModeDowngrade)
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 1-based line and char column of byte `offset` in `text` (clamped to the text).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(offset)
}

/// The line starts of a text, so that many offsets turn into `line:column` cheaply.
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// 1-based line and char column of byte `offset` (clamped to the text).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.text, offset);
        let line = self.starts.partition_point(|&start| start <= offset);
        let line_start = self.starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Render diagnostics the way rustc and cargo-deny do, followed by a one-line summary.
pub fn render_human(diags: &[Diagnostic], sources: &[Source]) -> String {
    let mut out = String::new();
    for diag in diags {
        let source = sources.iter().find(|s| s.name == diag.file);
        render_one(&mut out, diag, source.map(|s| s.text.as_str()));
        out.push('\n');
    }
    out.push_str(&summary(diags));
    out.push('\n');
    out
}

/// `policy rejected: 2 errors, 1 warning` or `policy ok: 0 errors, 1 warning`.
pub fn summary(diags: &[Diagnostic]) -> String {
    let (errors, warnings) = counts(diags);
    let verdict = if errors > 0 { "rejected" } else { "ok" };
    format!(
        "policy {verdict}: {errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

fn render_one(out: &mut String, diag: &Diagnostic, text: Option<&str>) {
    let _ = writeln!(
        out,
        "{}[{}]: {}",
        diag.severity.as_str(),
        diag.code,
        diag.message
    );
    let snippet = match (text, &diag.span) {
        (Some(text), Some(span)) if diag.line > 0 => Some((text, span.clone())),
        _ => None,
    };
    let gutter = if snippet.is_some() {
        diag.line.to_string().len()
    } else {
        1
    };
    let pad = " ".repeat(gutter);
    if !diag.file.is_empty() {
        if diag.line > 0 {
            let _ = writeln!(out, "{pad}--> {}:{}:{}", diag.file, diag.line, diag.column);
        } else {
            let _ = writeln!(out, "{pad}--> {}", diag.file);
        }
    }
    if let Some((text, span)) = snippet {
        let start = floor_char_boundary(text, span.start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line_text = text[line_start..line_end].trim_end_matches('\r');
        let end = floor_char_boundary(text, span.end.max(start)).min(line_start + line_text.len());
        // Keep tabs in the padding so the caret lines up with the text above it.
        let indent: String = text[line_start..start.min(line_start + line_text.len())]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let carets = text[start.min(end)..end].chars().count().max(1);
        let _ = writeln!(out, "{pad} |");
        if line_text.is_empty() {
            let _ = writeln!(out, "{} |", diag.line);
        } else {
            let _ = writeln!(out, "{} | {}", diag.line, mask_secrets(line_text));
        }
        let _ = writeln!(out, "{pad} | {indent}{}", "^".repeat(carets));
    }
    if let Some(help) = &diag.help {
        let _ = writeln!(out, "{pad} = help: {help}");
    }
}

/// A source line as a snippet shows it: every key-shaped word (an API key pasted where its
/// fingerprint belongs, a token in a URL) is replaced by as many `*`, so the caret below still
/// points at the right column.
fn mask_secrets(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if crate::core::redact::key_shaped(word) {
            out.extend(std::iter::repeat_n('*', word.chars().count()));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in line.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `{"errors":N,"warnings":M,"diagnostics":[...]}`.
pub fn render_json(diags: &[Diagnostic]) -> serde_json::Value {
    let (errors, warnings) = counts(diags);
    serde_json::json!({
        "errors": errors,
        "warnings": warnings,
        "diagnostics": diags,
    })
}

#[cfg(test)]
#[path = "diag_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "diag_docs_tests.rs"]
mod docs_tests;
