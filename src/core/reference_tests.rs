use super::schema::{KEYS, MACHINE_DEFAULTS};

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
    let table = super::reference_table();
    let row = table
        .lines()
        .find(|l| l.contains("`min_uid`"))
        .expect("row");
    assert_eq!(row.matches("1000").count(), 1, "{row}");
}

#[test]
fn the_docs_list_every_key_as_the_schema_declares_it() {
    let doc = include_str!("../../docs/reference/policy.md");
    let table = super::reference_table();
    assert!(
        doc.contains(&table),
        "docs/reference/policy.md must carry the key table generated from the schema:\n{table}"
    );
}
