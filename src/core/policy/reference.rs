//! docs/reference/policy.md's key table, generated from the key schema and the rules table (a
//! test keeps the two equal).

use crate::core::policy::schema;
use crate::core::rules::Rule;

/// The key reference as a Markdown table, as docs/reference/policy.md carries it (a test keeps
/// the two equal).
pub fn reference_table() -> String {
    let mut out =
        String::from("| key | type | default | rule | meaning |\n|---|---|---|---|---|\n");
    for key in schema::KEYS {
        let kind = match key.kind.allowed_values() {
            Some(values) if key.kind.is_list() => format!("list of: {}", values.join(", ")),
            Some(values) => format!("one of: {}", values.join(", ")),
            None => key.kind.toml_type().to_string(),
        };
        let default = match (key.default, key.section) {
            (Some(d), _) => format!("`{d}`"),
            (None, "policy") => "required".to_string(),
            (None, "login" | "config") => "anything allowed".to_string(),
            (None, _) => "not set".to_string(),
        };
        let rule = Rule::of_key(&key.path()).map_or(String::new(), |r| format!("`{r}`"));
        out.push_str(&format!(
            "| `[{}]` `{}` | {kind} | {default} | {rule} | {} |\n",
            key.section, key.name, key.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_docs_list_every_key_as_the_schema_declares_it() {
        let doc = include_str!("../../../docs/reference/policy.md");
        let table = super::reference_table();
        assert!(
            doc.contains(&table),
            "docs/reference/policy.md must carry the key table generated from the schema:\n{table}"
        );
    }
}
