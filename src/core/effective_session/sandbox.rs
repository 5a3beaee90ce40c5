//! The sandbox flags (`-s`/`--sandbox`, `--dangerously-bypass-approvals-and-sandbox`,
//! `--full-auto`, `--approve-for-me`), which Codex applies after every config layer. Found by the
//! differential harness and checked by hand on 0.169.0 and 0.171.0 (`codex exec` prints the mode
//! it runs with):
//!
//! - a flag beats `-c sandbox_mode=…` whatever their order (`-s workspace-write -c
//!   sandbox_mode="read-only"` runs `workspace-write`);
//! - a `sandbox_mode = "X"` in `/etc/codex/managed_config.toml` is the value of the config (above
//!   `-c`) and a requirement too: a flag may only choose `read-only` or `X` ("`WorkspaceWrite` is
//!   not in the allowed set [ReadOnly, DangerFullAccess] (set by /etc/codex/managed_config.toml)"),
//!   any other falls back to `read-only` (or, asking for `danger-full-access` with approvals
//!   `never`, Codex refuses to start).

use toml::Value;

use super::argv::ArgvSetting;
use crate::core::config_model::{Layer, ResolvedConfig};

/// Whether `s` is a sandbox flag (not `-c`), which [`apply_flag`] applies after every layer.
pub(super) fn is_flag(s: &ArgvSetting) -> bool {
    s.path == ["sandbox_mode"] && s.flag != "-c"
}

/// Apply the last sandbox flag of `settings` over `config`, every layer merged.
pub(super) fn apply_flag(config: &mut ResolvedConfig, settings: &[ArgvSetting]) {
    let Some(flag) = settings.iter().rev().find(|s| is_flag(s)) else {
        return;
    };
    let path = ["sandbox_mode".to_string()];
    let managed = config.get("sandbox_mode").and_then(|r| match r.layer {
        Layer::Managed(_) => Some((r.value.as_str().map(str::to_string), r.layer.clone())),
        _ => None,
    });
    let asked = flag.value.as_str();
    match managed {
        Some((required, layer))
            if asked != Some("read-only")
                && (required.is_none() || asked != required.as_deref()) =>
        {
            config.set(&path, Value::String("read-only".into()), &layer);
        }
        _ => config.set(&path, flag.value.clone(), &Layer::Argv),
    }
}
