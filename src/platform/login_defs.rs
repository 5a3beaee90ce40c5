//! The platform's first regular uid: the default of `[scope] min_uid`.
//!
//! The schema's default (1000) is Linux's usual value, but macOS numbers its people from 501 and
//! some Linux distributions from 500 (or whatever `/etc/login.defs` says). A policy that leaves
//! `min_uid` out means "the people on this machine", so the loader fills in this machine's value.

use std::path::Path;

use crate::core::policy::merge::LoadOutcome;
use crate::core::uid::Uid;

/// Where Linux keeps `UID_MIN`.
pub const LOGIN_DEFS: &str = "/etc/login.defs";
/// macOS: the first uid the Users & Groups settings give a person.
pub const MACOS_FIRST_UID: u32 = 501;
/// Linux without a readable `UID_MIN`.
pub const FALLBACK_FIRST_UID: u32 = 1000;

/// This machine's first regular uid.
pub fn first_regular_uid() -> Uid {
    if cfg!(target_os = "macos") {
        return Uid(MACOS_FIRST_UID);
    }
    Uid(from_login_defs(Path::new(LOGIN_DEFS)).unwrap_or(FALLBACK_FIRST_UID))
}

fn from_login_defs(path: &Path) -> Option<u32> {
    // A small root-owned system file; a size cap keeps a bad mount from costing anything.
    let text = std::fs::read(path).ok()?;
    if text.len() > 1 << 20 {
        return None;
    }
    parse_uid_min(&String::from_utf8_lossy(&text))
}

/// `UID_MIN  1000` (whitespace-separated, `#` comments), the last one winning as in shadow-utils.
pub fn parse_uid_min(text: &str) -> Option<u32> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default();
            let mut words = line.split_whitespace();
            (words.next() == Some("UID_MIN")).then(|| words.next()?.parse().ok())?
        })
        .next_back()
}

/// Fill in `[scope] min_uid` with this machine's first regular uid when no source set it.
pub fn apply_platform_defaults(mut outcome: LoadOutcome) -> LoadOutcome {
    if !outcome.provenance.contains_key("scope.min_uid")
        && let Some(policy) = outcome.policy.as_mut()
    {
        policy.scope.min_uid = first_regular_uid();
    }
    outcome
}

#[cfg(test)]
#[path = "login_defs_tests.rs"]
mod tests;
