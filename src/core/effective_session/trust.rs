//! Which project directories a user trusts: their `.codex/config.toml` is a layer.

use toml::Value;

use crate::core::config_model::ResolvedConfig;

/// A project directory is trusted when config's `projects."DIR".trust_level` (for it or an
/// ancestor) is `"trusted"`; the nearest entry wins.
pub fn trusted(config: &ResolvedConfig, project_file: &std::path::Path) -> bool {
    project_file
        .parent()
        .and_then(|codex| codex.parent())
        .is_some_and(|dir| trusted_dir(config, dir))
}

/// Whether `dir` is trusted (itself or its nearest ancestor with an entry).
pub fn trusted_dir(config: &ResolvedConfig, dir: &std::path::Path) -> bool {
    let Some(projects) = config.get("projects").and_then(|r| r.value.as_table()) else {
        return false;
    };
    for d in dir.ancestors() {
        let level = d
            .to_str()
            .and_then(|k| projects.get(k))
            .and_then(|p| p.get("trust_level"))
            .and_then(Value::as_str);
        if let Some(level) = level {
            return level == "trusted";
        }
    }
    false
}
