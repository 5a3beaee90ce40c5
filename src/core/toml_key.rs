//! Dotted TOML keys as evidence, the resolved config and Codex's requirements write them.

/// A key segment as TOML writes it: bare when it can be, else a quoted basic string
/// (`mcp_servers."a.b"`).
pub fn key_segment(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_string()
    } else {
        toml::Value::String(name.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::key_segment;

    #[test]
    fn bare_when_it_can_be_else_quoted_as_toml_quotes() {
        assert_eq!(key_segment("docs-1_x"), "docs-1_x");
        assert_eq!(key_segment("a.b"), "\"a.b\"");
        assert_eq!(key_segment(""), "\"\"");
        let quoted = key_segment("a\"b");
        let back: toml::Table = toml::from_str(&format!("{quoted} = 1")).unwrap();
        assert!(back.contains_key("a\"b"), "{quoted}");
    }
}
