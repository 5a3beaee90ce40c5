//! `codex-warden audit`: review the log (filters, formats, follow), verify it, export its key.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::app::cli::audit_args::{AuditArgs, AuditCommand, Format, ReviewArgs};
use crate::app::cli::exit::{FINDINGS, OK, is_broken_pipe};
use crate::app::cli::settings::Settings;
use crate::platform::audit::chain::{self as audit_chain, PublicKey};
use crate::platform::audit::files as audit_files;
use crate::platform::audit::verify::{self as audit_verify, Trust};

pub fn run(settings: &Settings, args: AuditArgs) -> Result<u8> {
    match args.command {
        Some(AuditCommand::Verify { json, public_key }) => verify(settings, json, public_key),
        Some(AuditCommand::PublicKey) => {
            let key = audit_chain::local_public_key(&settings.state_dir)?.with_context(|| {
                format!(
                    "no audit key in {}: the agent creates it with its first record",
                    settings.state_dir.display()
                )
            })?;
            crate::outln!("{}", key.export());
            Ok(OK)
        }
        None => match review(settings, &args.review) {
            Err(e) if is_broken_pipe(&e) => Ok(OK),
            other => other,
        },
    }
}

fn is_denied(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::PermissionDenied)
    })
}

/// What a user who may not read the log is told.
fn denied(settings: &Settings) -> String {
    format!(
        "permission denied: {} is readable by root only; review it as root (`sudo codex-warden \
         audit`), or see your own homes with `codex-warden status`",
        settings.audit_log.display()
    )
}

fn verify(settings: &Settings, json: bool, public_key: Option<PathBuf>) -> Result<u8> {
    let (key, anchor, anchor_expected) = match &public_key {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            (PublicKey::parse(&text)?, None, false)
        }
        None => {
            let key = audit_chain::local_public_key(&settings.state_dir)?.with_context(|| {
                format!(
                    "no audit key in {} (pass --public-key to verify a copy)",
                    settings.state_dir.display()
                )
            })?;
            let anchor = crate::platform::safefs::Dir::open(&settings.state_dir)
                .ok()
                .and_then(|d| audit_chain::read_anchor(&d).ok().flatten());
            (key, anchor, true)
        }
    };
    let trust = Trust {
        key: &key,
        anchor,
        anchor_expected,
    };
    let report = audit_verify::verify(&settings.audit_log, &trust)
        .with_context(|| format!("verifying {}", settings.audit_log.display()))?;
    let mut out = crate::app::cli::output::stdout();
    let written = if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)
    } else {
        write_verify_human(&mut out, &report)
    };
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if report.intact() { OK } else { FINDINGS })
}

fn write_verify_human(out: &mut impl Write, r: &audit_verify::Report) -> io::Result<()> {
    let files = r.files.len();
    let what = format!(
        "{} records in {files} file{}",
        r.records,
        if files == 1 { "" } else { "s" }
    );
    if r.intact() {
        writeln!(
            out,
            "{}: {what}, chain intact{}, key {}{}",
            r.path.display(),
            r.last_hash
                .as_deref()
                .map(|h| format!(", head {}", &h[..16.min(h.len())]))
                .unwrap_or_default(),
            r.key_id,
            if r.anchored { ", anchored" } else { "" }
        )?;
    } else {
        writeln!(
            out,
            "{}: chain BROKEN: {} problem{} ({what})",
            r.path.display(),
            r.findings.len(),
            if r.findings.len() == 1 { "" } else { "s" }
        )?;
        for f in &r.findings {
            let lines = match (f.line, f.line_end) {
                (0, _) => String::new(),
                (l, Some(e)) => format!(" lines {l}-{e}"),
                (l, None) => format!(" line {l}"),
            };
            writeln!(
                out,
                "  {}: {}{lines}{}: {}",
                f.kind.name(),
                escape(&f.file.display().to_string()),
                f.seq.map(|s| format!(" (seq {s})")).unwrap_or_default(),
                f.problem
            )?;
        }
    }
    for note in &r.notes {
        writeln!(out, "  note: {note}")?;
    }
    Ok(())
}

// ---- review ---------------------------------------------------------------------------------

struct Filter {
    since: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
    user: Option<String>,
    home: Option<PathBuf>,
    events: Vec<String>,
    rule: Option<String>,
}

/// RFC 3339, or an age before now (`90s`, `30m`, `24h`, `7d`, `2w`).
pub fn parse_time(s: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .filter(|&i| i > 0)
        .with_context(|| format!("`{s}` is neither RFC 3339 nor an age like 24h or 7d"))?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n
        .parse()
        .with_context(|| format!("`{s}`: number too large"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => bail!("`{s}`: the unit is s, m, h, d or w"),
    };
    let span = jiff::SignedDuration::from_secs(n.saturating_mul(secs));
    now.checked_sub(span)
        .with_context(|| format!("`{s}` is too far back"))
}

impl Filter {
    fn new(args: &ReviewArgs) -> Result<Filter> {
        let now = jiff::Timestamp::now();
        Ok(Filter {
            since: args
                .since
                .as_deref()
                .map(|s| parse_time(s, now))
                .transpose()?,
            until: args
                .until
                .as_deref()
                .map(|s| parse_time(s, now))
                .transpose()?,
            user: args.user.clone(),
            home: args.home.clone(),
            events: args.event.clone(),
            rule: args.rule.clone(),
        })
    }

    fn matches(&self, r: &Value) -> bool {
        let s = |k: &str| r.get(k).and_then(Value::as_str);
        let time = s("time").and_then(|t| t.parse::<jiff::Timestamp>().ok());
        if let Some(since) = self.since
            && time.is_none_or(|t| t < since)
        {
            return false;
        }
        if let Some(until) = self.until
            && time.is_none_or(|t| t >= until)
        {
            return false;
        }
        if let Some(user) = &self.user
            && s("user") != Some(user.as_str())
        {
            return false;
        }
        if let Some(home) = &self.home
            && !s("codex_home").is_some_and(|h| std::path::Path::new(h).starts_with(home))
        {
            return false;
        }
        if !self.events.is_empty() && !self.events.iter().any(|e| s("event") == Some(e.as_str())) {
            return false;
        }
        if let Some(rule) = &self.rule {
            let family = format!("{rule}.");
            let named = r
                .get("rules")
                .and_then(Value::as_array)
                .is_some_and(|rules| {
                    rules
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|c| c == rule || c.starts_with(&family))
                });
            if !named {
                return false;
            }
        }
        true
    }
}

fn review(settings: &Settings, args: &ReviewArgs) -> Result<u8> {
    // A time that does not parse is a usage error, like a mistyped flag.
    let filter = match Filter::new(args) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("codex-warden: error: {e:#}");
            return Ok(crate::app::cli::exit::USAGE);
        }
    };
    let files = audit_files::all(&settings.audit_log);
    if files.is_empty() && !args.follow {
        match std::fs::symlink_metadata(&settings.audit_log) {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                bail!("{}", denied(settings))
            }
            _ => bail!("{} does not exist", settings.audit_log.display()),
        }
    }
    let mut printer = Printer::new(args.format, crate::platform::terminal::stdout_width());
    let mut out = crate::app::cli::output::stdout();
    let mut skipped = 0u64;
    let mut live_len = 0;
    for file in &files {
        let bytes = match audit_files::read(file) {
            Ok(b) => b,
            Err(e) if is_denied(&e) => bail!("{}", denied(settings)),
            Err(e) => {
                eprintln!("codex-warden: {e:#}");
                continue;
            }
        };
        if file.path == settings.audit_log {
            live_len = bytes
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i as u64 + 1);
        }
        let (lines, _) = audit_files::lines(&bytes);
        for line in lines {
            match serde_json::from_slice::<Value>(line) {
                Ok(r) if r.is_object() => {
                    if filter.matches(&r) {
                        printer.print(&mut out, &r)?;
                    }
                }
                _ => skipped += 1,
            }
        }
    }
    printer.flush(&mut out)?;
    if skipped > 0 {
        eprintln!("codex-warden: {skipped} lines are not records; run `codex-warden audit verify`");
    }
    if args.follow {
        follow(settings, &filter, &mut printer, &mut out, live_len)?;
    }
    Ok(OK)
}

/// Print records as they are appended, from byte `start` of the live file on; reopen the file
/// when it is rotated (renamed: the old file is drained first; truncated: read from its start).
fn follow(
    settings: &Settings,
    filter: &Filter,
    printer: &mut Printer,
    out: &mut impl Write,
    start: u64,
) -> Result<()> {
    let path = &settings.audit_log;
    let mut opened: Option<(std::fs::File, u64)> = None;
    let mut start = Some(start);
    let mut pending = Vec::new();
    loop {
        if opened.is_none()
            && let Ok(f) = std::fs::File::open(path)
        {
            opened = Some((f, start.take().unwrap_or(0)));
        }
        if let Some((f, pos)) = &mut opened {
            if f.metadata()?.len() < *pos {
                // Truncated in place (copytruncate): the new records start at 0.
                *pos = 0;
                pending.clear();
            }
            let mut buf = Vec::new();
            f.seek(SeekFrom::Start(*pos))?;
            f.read_to_end(&mut buf)?;
            *pos += buf.len() as u64;
            pending.extend_from_slice(&buf);
            while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=nl).collect();
                if let Ok(r) = serde_json::from_slice::<Value>(&line[..line.len() - 1])
                    && r.is_object()
                    && filter.matches(&r)
                {
                    printer.print(out, &r)?;
                }
            }
            out.flush()?;
            let renamed = std::fs::metadata(path)
                .map(|m| m.ino() != f.metadata().map(|m| m.ino()).unwrap_or(0))
                .unwrap_or(true);
            if renamed {
                opened = None;
                pending.clear();
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

// ---- output formats -------------------------------------------------------------------------

const CSV_COLUMNS: &[&str] = &[
    "time",
    "seq",
    "host",
    "event",
    "user",
    "uid",
    "codex_home",
    "rules",
    "action",
    "outcome",
    "vault_id",
    "error",
    "policy_revision",
    "mode",
    "hash",
];

struct Printer {
    format: Format,
    header_done: bool,
    layout: Layout,
}

impl Printer {
    /// A printer for `format`; a table fits `width` columns (a terminal's), or with `None`
    /// shows every value whole.
    fn new(format: Format, width: Option<usize>) -> Printer {
        Printer {
            format,
            header_done: false,
            layout: Layout::for_width(width),
        }
    }

    fn print(&mut self, out: &mut impl Write, r: &Value) -> io::Result<()> {
        match self.format {
            Format::Json => writeln!(out, "{r}"),
            Format::Ocsf => {
                for e in crate::core::ocsf::project(r) {
                    writeln!(out, "{e}")?;
                }
                Ok(())
            }
            Format::Csv => {
                if !self.header_done {
                    writeln!(out, "{}", CSV_COLUMNS.join(","))?;
                    self.header_done = true;
                }
                let row: Vec<String> = CSV_COLUMNS
                    .iter()
                    .map(|c| csv_field(&field_text(r, c)))
                    .collect();
                writeln!(out, "{}", row.join(","))
            }
            Format::Table => {
                if !self.header_done {
                    writeln!(
                        out,
                        "{}",
                        self.layout.row("TIME (UTC)", "EVENT", "USER", "DETAIL")
                    )?;
                    self.header_done = true;
                }
                let time = field_text(r, "time");
                let time = time.get(..19).unwrap_or(&time).replace('T', " ");
                writeln!(
                    out,
                    "{}",
                    self.layout.row(
                        &time,
                        &field_text(r, "event"),
                        &field_text(r, "user"),
                        &detail(r)
                    )
                )
            }
        }
    }

    fn flush(&mut self, out: &mut impl Write) -> io::Result<()> {
        out.flush()
    }
}

/// A record field as text: strings as they are, lists joined with commas, others as JSON.
fn field_text(r: &Value, key: &str) -> String {
    match r.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
            .collect::<Vec<_>>()
            .join(","),
        Some(v) => v.to_string(),
    }
}

/// RFC 4180 quoting, after control characters are escaped as status escapes them (no raw ESC,
/// newline, CR or tab reaches the file, so neither can start a formula either); a leading `=`,
/// `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
fn csv_field(v: &str) -> String {
    let v = crate::core::redact::escape_controls(v);
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// What the table's last column says about a record: what broke (with its evidence), what was
/// done, where; for a policy load, which policy from which files; for a rejection, each problem.
fn detail(r: &Value) -> String {
    let mut parts = Vec::new();
    match field_text(r, "event").as_str() {
        "policy_loaded" => {
            let name = field_text(r, "policy_name");
            let revision = field_text(r, "policy_revision");
            let origin = field_text(r, "origin");
            parts.push(format!("{name} {revision} ({origin})"));
            let files = source_names(r);
            if !files.is_empty() {
                parts.push(format!("from {files}"));
            }
            if r["no_admin_policy"] == true {
                parts.push("no admin policy installed".to_string());
            }
        }
        "policy_rejected" => {
            let mut problems: Vec<String> = r["diagnostics"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    // `FILE:LINE:COL`, or `FILE:` for a problem with the whole file (older
                    // records say line 0 for it), never `FILE:0:0`.
                    let at = match d["line"].as_u64() {
                        Some(line) if line > 0 => format!(
                            "{}:{line}:{}",
                            field_text(d, "file"),
                            field_text(d, "column")
                        ),
                        _ => format!("{}:", field_text(d, "file")),
                    };
                    format!(
                        "{at} {}: {}",
                        field_text(d, "code"),
                        field_text(d, "message")
                    )
                })
                .collect();
            problems.push(format!(
                "kept {} {}",
                field_text(r, "kept"),
                field_text(r, "kept_revision")
            ));
            parts.push(problems.join("; "));
        }
        _ => {}
    }
    let evidence: Vec<String> = r["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{}: {}", field_text(e, "rule"), field_text(e, "evidence")))
        .collect();
    if evidence.is_empty() {
        parts.push(field_text(r, "rules"));
    } else {
        parts.push(evidence.join("; "));
    }
    for key in ["tamper", "rotation", "reason"] {
        parts.push(field_text(r, key));
    }
    let outcome = field_text(r, "outcome");
    let action = field_text(r, "action");
    if !outcome.is_empty() {
        parts.push(format!("-> {outcome}"));
    } else if !action.is_empty() {
        parts.push(format!("({action})"));
    }
    for (key, label) in [
        ("vault_id", "vault "),
        ("error", "error: "),
        ("codex_home", ""),
    ] {
        let v = field_text(r, key);
        if !v.is_empty() {
            parts.push(format!("{label}{v}"));
        }
    }
    parts.retain(|p| !p.is_empty());
    parts.join(" ")
}

/// The file names of a record's policy `sources`, comma-separated.
fn source_names(r: &Value) -> String {
    r["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| field_text(s, "name"))
        .map(|n| n.rsplit('/').next().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The table's columns. On a terminal, rows fit its width and long values end in `…`; into a
/// pipe or a file (`width: None`), every value is printed whole.
#[derive(Debug, Clone, Copy)]
struct Layout {
    event: usize,
    user: usize,
    /// Characters left for the detail on a terminal; `None`: whole values.
    width: Option<usize>,
}

const TIME_W: usize = 19;
/// The longest event name (`native_requirements_written`).
const EVENT_FULL_W: usize = 27;

impl Layout {
    fn for_width(width: Option<usize>) -> Layout {
        match width {
            None => Layout {
                event: EVENT_FULL_W,
                user: 12,
                width: None,
            },
            // 80 columns: 19 + 1 + 17 + 1 + 10 + 1 + 31.
            Some(w) if w < 120 => Layout {
                event: 17,
                user: 10,
                width: Some(w.max(60)),
            },
            Some(w) => Layout {
                event: EVENT_FULL_W,
                user: 16,
                width: Some(w),
            },
        }
    }

    fn row(&self, time: &str, event: &str, user: &str, detail: &str) -> String {
        let cut = self.width.is_some();
        let line = format!(
            "{} {} {} ",
            fit(time, TIME_W, cut),
            fit(event, self.event, cut),
            fit(user, self.user, cut)
        );
        let detail = match self.width {
            Some(w) => fit(detail, w.saturating_sub(line.chars().count()).max(1), true),
            None => escape(detail),
        };
        format!("{line}{detail}").trim_end().to_string()
    }
}

/// Escape control characters, then pad to `width` characters; with `cut`, longer text is cut to
/// `width` (ending in `…`).
fn fit(v: &str, width: usize, cut: bool) -> String {
    let v = escape(v);
    let n = v.chars().count();
    if n > width && cut {
        let mut s: String = v.chars().take(width - 1).collect();
        s.push('…');
        s
    } else {
        format!("{v}{}", " ".repeat(width.saturating_sub(n)))
    }
}

/// Control characters as escapes, so a name cannot move the cursor or fake a line.
pub fn escape(v: &str) -> String {
    crate::app::cli::term::esc(v)
}

#[cfg(test)]
#[path = "audit_review_tests.rs"]
mod tests;
