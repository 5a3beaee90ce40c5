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
#[path = "toml_key_tests.rs"]
mod tests;
