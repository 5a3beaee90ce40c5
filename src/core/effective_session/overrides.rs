//! The typed overrides: `-m`/`--model` and the sandbox flags (`-s`/`--sandbox`,
//! `--dangerously-bypass-approvals-and-sandbox`, `--full-auto`, `--approve-for-me`), which Codex
//! applies after every config layer. Found by the differential harness and checked by hand on
//! 0.169.0 and 0.171.0 (`codex exec` prints the model and the mode it runs with):
//!
//! - a flag beats `-c KEY=…` whatever their order (`-s workspace-write -c
//!   sandbox_mode="read-only"` runs `workspace-write`, `-m A -c model=B` runs `A`);
//! - `-m` beats `/etc/codex/managed_config.toml` too (its `model` counts only without the flag);
//! - a `sandbox_mode = "X"` in managed_config.toml is the value of the config (above `-c`) and a
//!   requirement too: a flag may only choose `read-only` or `X` ("`WorkspaceWrite` is not in the
//!   allowed set [ReadOnly, DangerFullAccess] (set by /etc/codex/managed_config.toml)"), any other
//!   falls back to `read-only` (or, asking for `danger-full-access` with approvals `never`, Codex
//!   refuses to start).

use toml::Value;

use super::argv::ArgvSetting;
use crate::core::config_model::{Layer, ResolvedConfig};

/// The keys set by typed flags rather than `-c`.
const TYPED: [&str; 2] = ["sandbox_mode", "model"];

/// Whether `s` is a typed override (a flag, not `-c`), which [`apply`] applies after every layer.
pub(super) fn is_override(s: &ArgvSetting) -> bool {
    s.flag != "-c" && s.path.len() == 1 && TYPED.contains(&s.path[0].as_str())
}

/// Apply the last typed override of each key of `settings` over `config`, every layer merged.
pub(super) fn apply(config: &mut ResolvedConfig, settings: &[ArgvSetting]) {
    let last = |key: &str| {
        settings
            .iter()
            .rev()
            .find(|s| is_override(s) && s.path[0] == key)
    };
    if let Some(model) = last("model") {
        config.set(&model.path, model.value.clone(), &Layer::Argv);
    }
    let Some(flag) = last("sandbox_mode") else {
        return;
    };
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
            config.set(&flag.path, Value::String("read-only".into()), &layer);
        }
        _ => config.set(&flag.path, flag.value.clone(), &Layer::Argv),
    }
}

/// `codex exec` (and its alias `e`) runs approval `never` whatever `approval_policy` the config
/// files, a profile, `-c` or `-a` (before `exec`; exec itself has no `-a`) say, measured on
/// 0.169.0 and 0.171.0 (the `approval:` line `codex exec` prints; `tests/exec_approval.rs`). Two
/// things change it: an `approval_policy` in `/etc/codex/managed_config.toml`, which it runs as set
/// (even with `--dangerously-bypass-approvals-and-sandbox`), and `--approve-for-me`, with which it
/// runs `on-request` (even with `-c approval_policy="never"`). A `never` the command line sets
/// keeps its flag as the layer. An `allowed_approval_policies` in `/etc/codex/requirements.toml`
/// (`required`) without `never` makes exec's own `never` fall back to the first value listed,
/// `on-failure` running as `on-request` (measured: `["on-failure"]` and
/// `["on-failure", "on-request"]` run `on-request`, `["untrusted", "on-request"]` runs
/// `untrusted`). A `never` the user asked for is left as asked: it is judged as the user's.
pub(super) fn exec_approval(
    config: &mut ResolvedConfig,
    subcommand: Option<&str>,
    settings: &[ArgvSetting],
    required: Option<&[String]>,
) {
    if !matches!(subcommand, Some("exec" | "e")) {
        return;
    }
    let key = ["approval_policy".to_string()];
    let current = config
        .get("approval_policy")
        .map(|r| (r.layer.clone(), r.value.as_str() == Some("never")));
    if matches!(current, Some((Layer::Managed(_), _))) {
        return;
    }
    // `--approve-for-me` wins over `-c approval_policy="never"` (measured).
    if settings.iter().any(|s| s.flag == "--approve-for-me") {
        config.set(&key, Value::String("on-request".into()), &Layer::Argv);
        config.note_flag(&key, "--approve-for-me".into());
        return;
    }
    // A `never` the command line asked for keeps its flag as the layer (a fix names it).
    if current != Some((Layer::Argv, true)) {
        let runs = match required {
            Some(list) if !list.iter().any(|v| v == "never") => match list.first() {
                Some(first) if first == "on-failure" => "on-request",
                Some(first) => first.as_str(),
                None => "never",
            },
            _ => "never",
        };
        config.set(&key, Value::String(runs.into()), &Layer::Exec);
    }
}

/// `allowed_approval_policies` of a readable requirements.toml. An unreadable or unparseable
/// file pins nothing here: `codex exec` is then judged on the `never` it runs without one.
pub(super) fn required_approvals(text: Option<&str>) -> Option<Vec<String>> {
    let table: toml::Table = text?.parse().ok()?;
    let list = table.get("allowed_approval_policies")?.as_array()?;
    list.iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}
