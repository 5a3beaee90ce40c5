use super::*;

fn source(name: &str, text: &str) -> Source {
    Source {
        name: name.to_string(),
        text: text.to_string(),
    }
}

#[test]
fn line_col_counts_chars_from_one() {
    let text = "a = 1\nbé = \"x\"\n";
    assert_eq!(line_col(text, 0), (1, 1));
    assert_eq!(line_col(text, 6), (2, 1));
    // `=` after the two-byte `é`.
    assert_eq!(line_col(text, 10), (2, 4));
    assert_eq!(line_col(text, 1000), (3, 1));
    let index = LineIndex::new(text);
    for offset in 0..=text.len() + 1 {
        assert_eq!(
            index.line_col(offset),
            line_col_slow(text, offset),
            "{offset}"
        );
    }
}

fn line_col_slow(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        text[line_start..offset].chars().count() + 1,
    )
}

#[test]
fn human_rendering_matches_rustc_layout() {
    let text = "[login]\n\n\n\nallowed_method = [\"chatgpt\"]\n";
    let start = text.find("allowed_method").unwrap_or_default();
    let diag = Diagnostic::error(
        Code::UnknownKey,
        "policy.d/10-corp.toml",
        "unknown key `allowed_method` in [login]",
    )
    .at(text, start..start + "allowed_method".len())
    .with_help("did you mean `allowed_methods`?");
    let out = render_human(&[diag], &[source("policy.d/10-corp.toml", text)]);
    assert_eq!(
        out,
        "error[policy.unknown-key]: unknown key `allowed_method` in [login]\n \
             --> policy.d/10-corp.toml:5:1\n  |\n5 | allowed_method = [\"chatgpt\"]\n  | \
             ^^^^^^^^^^^^^^\n  = help: did you mean `allowed_methods`?\n\npolicy rejected: 1 error, 0 warnings\n"
    );
}

#[test]
fn gutter_widens_with_the_line_number() {
    let text = format!("{}x = 1\n", "\n".repeat(11));
    let diag = Diagnostic::warning(Code::EmptyList, "f.toml", "m").at(&text, 11..12);
    let out = render_human(&[diag], &[source("f.toml", &text)]);
    assert!(
        out.contains("  --> f.toml:12:1\n   |\n12 | x = 1\n   | ^\n"),
        "{out}"
    );
    assert!(out.ends_with("policy ok: 0 errors, 1 warning\n"), "{out}");
}

#[test]
fn caret_is_clipped_to_the_line_and_at_least_one() {
    let text = "a = [\n  1,\n]\n";
    let diag = Diagnostic::error(Code::Type, "f.toml", "m").at(text, 4..text.len());
    let out = render_human(&[diag], &[source("f.toml", text)]);
    assert!(out.contains("1 | a = [\n  |     ^\n"), "{out}");
    let empty = Diagnostic::error(Code::Syntax, "f.toml", "m").at(text, 5..5);
    let out = render_human(&[empty], &[source("f.toml", text)]);
    assert!(out.contains("1 | a = [\n  |      ^\n"), "{out}");
}

#[test]
fn whole_file_diagnostics_have_no_snippet() {
    let diag = Diagnostic::error(Code::Io, "/etc/x.toml", "cannot read: denied").with_help("h");
    let out = render_human(&[diag], &[]);
    assert_eq!(
        out,
        "error[policy.io]: cannot read: denied\n --> /etc/x.toml\n  = help: h\n\npolicy rejected: 1 error, 0 warnings\n"
    );
}

#[test]
fn json_counts_and_omits_spans() {
    let text = "x = 1\n";
    let diags = [
        Diagnostic::error(Code::Type, "f.toml", "m").at(text, 4..5),
        Diagnostic::warning(Code::EmptyList, "f.toml", "w"),
    ];
    let json = render_json(&diags);
    assert_eq!(json["errors"], 1);
    assert_eq!(json["warnings"], 1);
    assert_eq!(json["diagnostics"][0]["severity"], "error");
    assert_eq!(json["diagnostics"][0]["line"], 1);
    assert_eq!(json["diagnostics"][0]["column"], 5);
    assert!(json["diagnostics"][0].get("span").is_none());
    assert_eq!(json["diagnostics"][1]["help"], serde_json::Value::Null);
}

#[test]
fn snippets_mask_what_looks_like_a_key() {
    let text = "allowed_api_key_fingerprints = [\"sk-proj-AAAAAAAAAAAAAAAAAAAAAAAA\"]\n";
    let diag =
        Diagnostic::error(Code::InvalidFingerprint, "f.toml", "not a fingerprint").at(text, 32..62);
    let rendered = render_human(
        &[diag],
        &[Source {
            name: "f.toml".into(),
            text: text.into(),
        }],
    );
    assert!(!rendered.contains("AAAAAAAA"), "{rendered}");
    assert!(
        rendered.contains("allowed_api_key_fingerprints = [\"****"),
        "{rendered}"
    );
}

#[test]
fn codes_are_unique_and_kebab_case() {
    let mut seen = std::collections::BTreeSet::new();
    for code in Code::ALL {
        let description = code.description();
        let code = code.as_str();
        assert!(seen.insert(code), "duplicate {code}");
        assert!(code.starts_with("policy."), "{code}");
        assert!(
            code["policy.".len()..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{code}"
        );
        assert!(!description.is_empty());
    }
}
