//! A running session's resolved config ([`EffectiveSession`]) as the managed-config rules read it
//! ([`ConfigView`]): each key's effective value and the layer that set it, named so that a
//! fix can say what to change. A key the command line set is named by its flag
//! (`--dangerously-bypass-approvals-and-sandbox`, `--sandbox danger-full-access`,
//! `-c mcp_servers.x.command=…`), so the fix is "Start Codex without …"; a config file by its path
//! (and profile).

use crate::core::effective_session::argv::ArgvSetting;
use crate::core::effective_session::{EffectiveSession, Layer, split_key};
use crate::core::managed::ConfigView;
use crate::core::rules::Placed;

/// An [`EffectiveSession`] seen through [`ConfigView`].
pub struct SessionView<'a>(pub &'a EffectiveSession);

/// The flag of the last command-line setting that set `path` (or a table above or below it).
fn flag_of(settings: &[ArgvSetting], path: &[String]) -> Option<String> {
    let s = settings.iter().rev().find(|s| {
        let n = s.path.len().min(path.len());
        s.path[..n] == path[..n]
    })?;
    let value = s
        .value
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| s.value.to_string());
    Some(match s.flag {
        "-c" | "--config" => format!("-c {}=…", s.path.join(".")),
        "-s" | "--sandbox" | "-a" | "--ask-for-approval" => format!("{} {value}", s.flag),
        "--enable" | "--disable" => {
            format!("{} {}", s.flag, s.path.last().map_or("", String::as_str))
        }
        other => other.to_string(),
    })
}

impl SessionView<'_> {
    /// Where the session's `key` came from, as a fix names it (`layer` set it).
    pub fn placed(&self, key: &str, layer: &Layer) -> Placed {
        Placed {
            key: key.to_string(),
            layer: self.label(layer, &split_key(key)),
        }
    }

    fn label(&self, layer: &Layer, path: &[String]) -> String {
        match layer {
            Layer::Argv => flag_of(&self.0.argv, path).unwrap_or_else(|| "the command line".into()),
            Layer::Env => "the session's environment".into(),
            other => {
                let label = other.label();
                label.strip_prefix("config:").unwrap_or(&label).to_string()
            }
        }
    }
}

impl ConfigView for SessionView<'_> {
    fn value(&self, key: &str) -> Option<(toml::Value, String)> {
        let got = self.0.config.get(key)?;
        (*got.layer != Layer::Default)
            .then(|| (got.value.clone(), self.label(got.layer, &split_key(key))))
    }

    fn entries(&self, key: &str) -> Vec<(String, toml::Value, String)> {
        let mut out = Vec::new();
        for name in self.0.config.names_under(key) {
            let mut path = split_key(key);
            path.push(name.clone());
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            let Some(entry) = self.0.config.get_path(&refs) else {
                continue;
            };
            // An MCP server is named by the layer of its identity (a `-c …command=` override of
            // a server config.toml defines is the command line's doing).
            let mut layer = entry.layer;
            let mut at = path.clone();
            for field in ["command", "url"] {
                let mut f = refs.clone();
                f.push(field);
                if let Some(r) = self.0.config.get_path(&f) {
                    layer = r.layer;
                    at.push(field.to_string());
                    break;
                }
            }
            out.push((name, entry.value.clone(), self.label(layer, &at)));
        }
        out
    }
}

#[cfg(test)]
#[path = "session_config_tests.rs"]
mod tests;
