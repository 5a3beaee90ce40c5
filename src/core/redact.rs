//! What a secret looks like, so that nothing shaped like one leaves the agent: config values and
//! URLs from users' files pass through here before they reach evidence, records or output.

/// Prefixes of OpenAI keys and tokens, and of common third-party keys a router setup uses.
const SECRET_PREFIXES: &[&str] = &[
    "sk-", "sk_", "at-", "rt_", "rt-", "eyJ", "pk-", "key-", "ghp_", "gho_", "xox", "AKIA", "AIza",
    "hf_",
];

/// Whether `s` looks like a key or token: a known prefix on a long enough string, or a long run
/// of letters and digits with many of each (high entropy, not a word or a version).
pub fn key_shaped(s: &str) -> bool {
    let s = s.trim();
    if s.len() >= 12 && SECRET_PREFIXES.iter().any(|p| s.starts_with(p)) {
        return true;
    }
    // A UUID names something (a workspace, a project); it is not a credential.
    let uuid_shape = [8, 4, 4, 4, 12];
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() == 5
        && parts
            .iter()
            .zip(uuid_shape)
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return false;
    }
    let token = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let letters = s.chars().filter(char::is_ascii_alphabetic).count();
    token && s.len() >= 24 && digits >= 6 && letters >= 6
}

/// `s`, or `[redacted]` when it looks like a secret.
pub fn value(s: &str) -> String {
    if key_shaped(s) {
        "[redacted]".to_string()
    } else {
        s.to_string()
    }
}

/// `s` with control characters escaped (`\n`, `\u{1b}`): a name from a user's file cannot move
/// a terminal's cursor or fake a line. Idempotent; everything else is kept as it is.
pub fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A value from a user's file as the agent keeps it to judge (in a parsed config, a session's
/// settings): key-shaped values redacted, control characters escaped, the full length kept so
/// that it still compares equal to the value a policy allows.
pub fn kept(s: &str) -> String {
    escape_controls(&value(s))
}

/// A value from a user's file, made safe for one line of evidence: key-shaped values redacted,
/// control characters escaped, length capped.
pub fn shown(value: &str) -> String {
    const MAX: usize = 120;
    if key_shaped(value) {
        return "[redacted]".to_string();
    }
    let capped: String = value.chars().take(MAX).collect();
    let mut out = escape_controls(&capped);
    if value.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// A URL with what may be secret removed: `user:pass@`, `?query`, `#fragment`, key-shaped path
/// segments (and a "URL" that is itself a key); and a trailing `/`, so that
/// `https://api.openai.com/v1/` and `https://api.openai.com/v1` compare equal. Applied again to
/// its own result until nothing changes: text without a scheme whose remains read as
/// `scheme://user:pass@host` (`a@b://u:p@h`) loses that `user:pass@` too. Each pass shortens the
/// text or keeps it, so this ends.
pub fn url(url: &str) -> String {
    let mut out = url_once(url);
    loop {
        let again = url_once(&out);
        if again == out {
            return out;
        }
        out = again;
    }
}

fn url_once(url: &str) -> String {
    let url = url.trim();
    let url = url.find(['?', '#']).map_or(url, |end| &url[..end]);
    // A scheme is letters, digits, `+`, `-`, `.` after a letter: `user:pass@host/https://…` has
    // none, however many `://` its path holds.
    let (scheme, rest) = match url.find("://") {
        Some(i)
            if url[..i].starts_with(|c: char| c.is_ascii_alphabetic())
                && url[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            url.split_at(i + 3)
        }
        _ => ("", url),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let path: Vec<String> = path.split('/').map(value).collect();
    let mut out = format!("{scheme}{}{}", value(host), path.join("/"));
    while out.ends_with('/') {
        out.pop();
    }
    out
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
