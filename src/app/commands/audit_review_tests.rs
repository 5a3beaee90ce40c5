//! Tests of `audit`'s filters and formats.
use super::*;

/// Records from any reader, rendered in `format`.
fn render(format: Format, input: impl io::BufRead) -> Result<String> {
    render_at(format, Some(80), input)
}

/// [`render`] for a terminal of `width` columns, or into a pipe (`None`).
fn render_at(format: Format, width: Option<usize>, input: impl io::BufRead) -> Result<String> {
    let mut printer = Printer::new(format, width);
    let mut out = Vec::new();
    for line in input.lines() {
        let r: Value = serde_json::from_str(&line?)?;
        printer.print(&mut out, &r)?;
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn ages_and_timestamps_parse() {
    let now: jiff::Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
    assert_eq!(
        parse_time("24h", now).unwrap(),
        "2026-11-25T12:00:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(
        parse_time("7d", now).unwrap(),
        "2026-11-19T12:00:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert!(parse_time("2026-11-01T00:00:00Z", now).is_ok());
    assert!(parse_time("yesterday", now).is_err());
    assert!(parse_time("5y", now).is_err());
}

#[test]
fn table_rows_fit_80_columns_and_escape_control_characters() {
    let r = serde_json::json!({
        "time": "2026-11-26T12:00:00.123456Z", "event": "native_requirements_written",
        "user": "mallory\u{1b}[31m", "codex_home": "/home/mallory/.codex/with/a/very/long/path",
        "rules": ["login.method"],
    });
    let text = render(Format::Table, r.to_string().as_bytes()).unwrap();
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{line}");
        assert!(!line.contains('\u{1b}'), "{line}");
    }
    assert!(text.contains("mallory\\u…"), "{text}");
}

#[test]
fn into_a_pipe_every_value_is_whole_and_a_wide_terminal_is_used() {
    let home = "/tmp/scratch-machine-with-a-long-name/home/alice/.codex";
    let r = serde_json::json!({
        "time": "2026-11-26T12:00:00Z", "event": "quarantined", "user": "alice",
        "rules": ["login.method"], "outcome": "vaulted",
        "vault_id": "20261126T120000Z-0123abcd", "codex_home": home,
    });
    let piped = render_at(Format::Table, None, r.to_string().as_bytes()).unwrap();
    assert!(piped.contains("vault 20261126T120000Z-0123abcd"), "{piped}");
    assert!(piped.contains(home), "{piped}");
    assert!(!piped.contains('…'), "{piped}");
    let wide = render_at(Format::Table, Some(200), r.to_string().as_bytes()).unwrap();
    assert!(wide.contains(home), "{wide}");
    assert!(wide.lines().all(|l| l.chars().count() <= 200), "{wide}");
    let narrow = render(Format::Table, r.to_string().as_bytes()).unwrap();
    assert!(narrow.contains('…'), "{narrow}");
}

#[test]
fn policy_records_say_which_policy_and_what_is_wrong() {
    let loaded = serde_json::json!({
        "time": "2026-11-26T12:00:00Z", "event": "policy_loaded", "policy_name": "corp",
        "policy_revision": "r2", "origin": "admin",
        "sources": [{"name": "/etc/codex-warden/policy.d/10-corp.toml", "sha256": "ab"}],
    });
    let rejected = serde_json::json!({
        "time": "2026-11-26T12:00:00Z", "event": "policy_rejected", "kept": "admin",
        "kept_revision": "r2", "diagnostics": [{"file": "/p/20-x.toml", "line": 2, "column": 1,
        "code": "policy.unknown-key", "message": "unknown key `allowed_method`"}],
    });
    let text = render_at(
        Format::Table,
        None,
        format!("{loaded}\n{rejected}\n").as_bytes(),
    )
    .unwrap();
    assert!(text.contains("corp r2 (admin) from 10-corp.toml"), "{text}");
    assert!(
        text.contains(
            "/p/20-x.toml:2:1 policy.unknown-key: unknown key `allowed_method`; kept admin r2"
        ),
        "{text}"
    );
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("=cmd()"), "'=cmd()");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
}
