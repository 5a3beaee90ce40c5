//! What a developer is told when the agent acts on their Codex: a session stopped, a credential
//! moved into the vault. Pure: the agent delivers the text (their terminals, a desktop
//! notification) and records it; this module only writes it.
//!
//! A notice has three parts, so that what happened, why and what to do are never mixed up:
//! - the agent's own first line, saying what happened (the admin's text cannot know whether a
//!   session was stopped or a credential moved);
//! - per rule family broken (`login`, `credential`, `config`, `env`), the admin's message for that
//!   family (`[enforce.messages]`), else the policy's `message`, then each broken rule of that
//!   family on its own line with its own fix (`{fix}` in a message puts those lines there
//!   instead). A session stopped for a sandbox flag is told about the flag, never about a login;
//! - a last line naming `codex-warden status`, where the user sees the verdict again.
//!
//! Control characters are removed from everything (the text goes to a terminal); newlines stay.

use std::path::Path;

use crate::core::fix::Fix;
use crate::core::policy::Policy;
use crate::core::rules::Family;

/// The title of the notice of a stopped session.
pub const STOPPED_TITLE: &str = "Codex session stopped";

/// What the agent did that the user is told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occasion<'a> {
    /// A running session breaks the policy and is being stopped.
    SessionStopped,
    /// A running session the agent cannot judge is being stopped.
    SessionUnjudged,
    /// The credential of `auth_json` (a login of `method`) was moved into the vault.
    CredentialVaulted {
        auth_json: &'a Path,
        method: Option<&'a str>,
    },
}

/// A notice: a short title (the desktop notification's summary) and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub title: &'static str,
    pub text: String,
}

/// The notice for `user` on `occasion`, for the broken rules and their fixes `fixes` (in the
/// order the verdict lists them).
pub fn render(policy: &Policy, user: &str, occasion: &Occasion, fixes: &[Fix]) -> Notice {
    let (title, first) = match occasion {
        Occasion::SessionStopped => (
            STOPPED_TITLE,
            "codex-warden: this Codex session breaks the Codex policy of this machine and is being \
             stopped."
                .to_string(),
        ),
        Occasion::SessionUnjudged => (
            STOPPED_TITLE,
            "codex-warden: this Codex session is being stopped: codex-warden cannot tell whether it \
             keeps the Codex policy of this machine."
                .to_string(),
        ),
        Occasion::CredentialVaulted { auth_json, method } => (
            "Codex login moved to the vault",
            format!(
                "codex-warden: your Codex login{} breaks the Codex policy of this machine: it was \
                 moved out of {} into the admin's vault, and Codex now says `Not logged in`.",
                method.map(|m| format!(" ({m})")).unwrap_or_default(),
                auth_json.display()
            ),
        ),
    };
    let workspace = policy
        .login
        .allowed_workspaces
        .as_ref()
        .map(|w| w.join(", "))
        .unwrap_or_default();
    let mut parts = vec![first];
    for group in groups(policy, fixes) {
        let lines: Vec<String> = group.fixes.iter().map(rule_line).collect();
        match group.template {
            Some(template) => {
                let mut rules: Vec<&str> = Vec::new();
                for f in &group.fixes {
                    if !rules.contains(&f.rule.code()) {
                        rules.push(f.rule.code());
                    }
                }
                let text = template
                    .replace("{user}", user)
                    .replace("{rules}", &rules.join(", "))
                    .replace("{workspace}", &workspace);
                if text.contains("{fix}") {
                    let fix = format!("\n{}\n", lines.join("\n"));
                    parts.push(text.replace("{fix}", &fix));
                } else {
                    parts.push(text);
                    parts.extend(lines);
                }
            }
            None => parts.extend(lines),
        }
    }
    if fixes.is_empty()
        && let Some(message) = &policy.enforce.message
    {
        parts.push(
            message
                .replace("{user}", user)
                .replace("{rules}", "")
                .replace("{workspace}", &workspace)
                .replace("{fix}", ""),
        );
    }
    parts.push(
        match occasion {
            Occasion::CredentialVaulted { .. } => {
                "Log in again with an allowed login (`codex login`): it works at once. Run \
             `codex-warden status` to see this again."
            }
            _ => "Run `codex-warden status` to see why and what to change.",
        }
        .to_string(),
    );
    let text = parts
        .join("\n")
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Notice {
        title,
        text: text
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect(),
    }
}

/// The fixes under one message: the rules of the families that share it.
struct Group<'p> {
    /// The family whose own message this is; `None` for the policy's `message` (or none).
    family: Option<Family>,
    template: Option<&'p str>,
    fixes: Vec<Fix>,
}

/// The fixes grouped by the message shown above them, in the order the first rule of each group
/// appears: a family with its own `[enforce.messages]` entry is a group; every other family
/// shares the policy's `message` (or no message).
fn groups<'p>(policy: &'p Policy, fixes: &[Fix]) -> Vec<Group<'p>> {
    let mut out: Vec<Group<'p>> = Vec::new();
    for fix in fixes {
        let family = fix.rule.family();
        let (family, template) = match policy.enforce.messages.get(family.as_str()) {
            Some(own) => (Some(family), Some(own.as_str())),
            None => (None, policy.enforce.message.as_deref()),
        };
        match out.iter_mut().find(|g| g.family == family) {
            Some(g) => g.fixes.push(fix.clone()),
            None => out.push(Group {
                family,
                template,
                fixes: vec![fix.clone()],
            }),
        }
    }
    out
}

/// `  - login.method: Log in with …`, one sentence ending in a full stop.
fn rule_line(f: &Fix) -> String {
    let mut fix = f.fix.trim().to_string();
    if let Some(first) = fix.get(..1) {
        fix = first.to_uppercase() + &fix[1..];
    }
    if !fix.ends_with('.') {
        fix.push('.');
    }
    format!("  - {}: {fix}", f.rule.code())
}

#[cfg(test)]
#[path = "notice_tests.rs"]
mod tests;
