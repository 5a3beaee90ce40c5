use super::schema::{self, KEYS, MACHINE_DEFAULTS};
use crate::core::rules::Rule;

/// The key reference as a Markdown table, as docs/reference/policy.md carries it (a test keeps
/// the two equal).
fn reference_table() -> String {
    let mut out =
        String::from("| key | type | default | rule | meaning |\n|---|---|---|---|---|\n");
    for key in schema::KEYS {
        let kind = match key.kind.allowed_values() {
            Some(values) if key.kind.is_list() => format!("list of: {}", values.join(", ")),
            Some(values) => format!("one of: {}", values.join(", ")),
            None => key.kind.toml_type().to_string(),
        };
        let machine = schema::MACHINE_DEFAULTS
            .iter()
            .find(|(path, _)| *path == key.path());
        let default = match (key.default, key.section) {
            _ if machine.is_some() => machine.map_or(String::new(), |(_, d)| d.to_string()),
            (Some(d), _) => format!("`{d}`"),
            (None, "policy") => "required".to_string(),
            (None, "login" | "config") => "anything allowed".to_string(),
            (None, _) => "not set".to_string(),
        };
        let rule = crate::core::policy::RuleKey::of_path(&key.path())
            .and_then(Rule::of_key)
            .map_or(String::new(), |r| format!("`{r}`"));
        out.push_str(&format!(
            "| `[{}]` `{}` | {kind} | {default} | {rule} | {} |\n",
            key.section, key.name, key.doc
        ));
    }
    out
}

#[test]
fn the_policy_man_page_has_every_key_and_code() {
    let page = super::man_page("0.1.0");
    for key in KEYS {
        assert!(
            page.contains(&format!("\\fB{}\\fR", super::roff_text(key.name))),
            "{}",
            key.path()
        );
    }
    for code in super::Code::ALL {
        assert!(page.contains(&super::roff_text(code.as_str())), "{code}");
    }
    // No line starts a roff request by accident.
    for line in page.lines().filter(|l| l.starts_with('.')) {
        let request = line.split_whitespace().next().unwrap_or_default();
        assert!(
            [".TH", ".SH", ".TP", ".PP", ".RS", ".RE"].contains(&request),
            "{line}"
        );
    }
}

#[test]
fn a_key_has_one_default() {
    for (path, _) in MACHINE_DEFAULTS {
        let key = KEYS.iter().find(|k| k.path() == *path).expect("a key");
        assert_eq!(
            key.default, None,
            "{path} has a machine default and a fixed one"
        );
        assert!(!key.doc.contains("default"), "{path}: {}", key.doc);
    }
    let table = reference_table();
    let row = table
        .lines()
        .find(|l| l.contains("`min_uid`"))
        .expect("row");
    assert_eq!(row.matches("1000").count(), 1, "{row}");
}

#[test]
fn the_docs_list_every_key_as_the_schema_declares_it() {
    let doc = include_str!("../../docs/reference/policy.md");
    let table = reference_table();
    assert!(
        doc.contains(&table),
        "docs/reference/policy.md must carry the key table generated from the schema:\n{table}"
    );
}
