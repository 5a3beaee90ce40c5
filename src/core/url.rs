//! Base URLs compared as URLs, not strings, and read as Codex reads them.
//!
//! `https://API.OpenAI.com/v1`, `https://api.openai.com:443/v1` and `https://api.openai.com/v1/`
//! all reach the same endpoint; an allow-list that says `https://api.openai.com/v1` must accept
//! them all, or a user is told their harmless config breaks policy. Parsing follows the WHATWG URL
//! standard (the `url` crate, the same 2.5.8 that Codex 0.169 and 0.171 link, under reqwest), which
//! lowercases the scheme and host, drops the scheme's default port and resolves `.`/`..` path
//! segments; a trailing `/` of the path is then dropped too.
//!
//! A URL from a user's file is judged by [`judged`]: the endpoint Codex's HTTP stack connects to,
//! never the text the agent would show. `https://HOST\@api.openai.com/v1` is `https://host/@api.openai.com/v1`
//! there (a `\` ends the authority of an http URL), whatever a redaction of the text says;
//! [`crate::core::redact::url`] is for display only.

/// The comparable form of a base URL: `scheme://host[:port]/path` (no trailing `/`), plus any
/// query. `None` when it is not an absolute URL with a host.
pub fn normalize(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let host = url.host_str()?;
    let mut out = format!("{}://{host}", url.scheme());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path().trim_end_matches('/'));
    if let Some(query) = url.query() {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

/// What a base URL from a user's file is judged as: the endpoint the WHATWG parser (Codex's)
/// reads in it, as [`normalize`] writes it (`scheme://host[:port]/path`), with key-shaped path
/// segments replaced by `[redacted]`. What Codex would read but no allowed base URL can be (a
/// URL that does not parse, one with `user:password@` in it, a `?query`, which may hold a key of
/// any shape, or a `#fragment`, which swallows the `/responses` Codex appends) is the redacted text followed by
/// ` (not judged: WHY)`: it contains whitespace, so it never equals an allowed URL (a policy's
/// cannot contain whitespace) and the session fails closed. Never holds a secret.
pub fn judged(raw: &str) -> String {
    let shown = crate::core::redact::url(raw);
    let unjudged = |why: &str| format!("{shown} (not judged: {why})");
    let Ok(url) = url::Url::parse(raw) else {
        return unjudged("not a URL");
    };
    if !url.username().is_empty() || url.password().is_some() {
        return unjudged("it carries a user name or password");
    }
    if url.fragment().is_some() {
        return unjudged("it has a fragment");
    }
    // A query may hold a key of any shape, and it is never part of an allowed base URL.
    if url.query().is_some() {
        return unjudged("it has a query");
    }
    let Some(host) = url.host_str() else {
        return unjudged("no host");
    };
    let mut out = format!("{}://{host}", url.scheme());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    let path: Vec<String> = url
        .path()
        .split('/')
        .map(crate::core::redact::value)
        .collect();
    out.push_str(path.join("/").trim_end_matches('/'));
    out
}

/// A base URL as [`judged`], read the way Codex uses it: Codex appends `/responses` (and its
/// other paths) to the text as it is, untrimmed, and parses the result, so a blank before the
/// end is part of the path (`"http://h/v1 "` requests `/v1%20/responses`), and a `?` or `#`
/// swallows what is appended. The endpoint judged is that request's, less the `/responses`.
pub fn judged_base(raw: &str) -> String {
    const APPENDED: &str = "/responses";
    let joined = judged(&format!("{raw}{APPENDED}"));
    match joined.strip_suffix(APPENDED) {
        Some(base) if !joined.contains(" (not judged: ") => base.trim_end_matches('/').to_string(),
        _ => {
            let alone = judged(raw);
            if alone.contains(" (not judged: ") {
                alone
            } else {
                format!("{alone} (not judged: what Codex appends does not land in the path)")
            }
        }
    }
}

/// Whether two base URLs name the same endpoint. Text that does not parse as a URL only equals
/// itself (ignoring a trailing `/`), so nothing unparseable is ever widened.
pub fn same(a: &str, b: &str) -> bool {
    match (normalize(a), normalize(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.trim_end_matches('/') == b.trim_end_matches('/'),
    }
}

/// Why `raw` cannot be an allowed base URL in a policy, or `None` when it can. Never quotes a
/// URL with credentials in it.
pub fn policy_problem(raw: &str) -> Option<String> {
    // What is quoted back is the URL with anything secret taken out (user:password@, query,
    // fragment, key-shaped segments), and the credentials check comes first: an admin who pasted
    // a URL with a key in it must not find the key in logs.
    let shown = crate::core::redact::url(raw);
    let authority = raw
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default());
    if authority.is_some_and(|a| a.contains('@')) || crate::core::redact::key_shaped(raw) {
        return Some("a base URL must not carry credentials (user@host, or a key)".to_string());
    }
    if raw.chars().any(char::is_whitespace) {
        return Some(format!("`{shown}` contains whitespace"));
    }
    // The URL standard forgives `https:///v1` (host `v1`); a policy should say what it means.
    if authority.is_some_and(|a| a.is_empty() || a.starts_with(':')) {
        return Some(format!("`{shown}` has no host"));
    }
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(url::ParseError::EmptyHost) => return Some(format!("`{shown}` has no host")),
        Err(e) => return Some(format!("`{shown}` is not a URL ({e})")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Some("a base URL must not carry credentials (user@host, or a key)".to_string());
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!("`{shown}` is not an http:// or https:// URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some(format!("`{shown}` has no host"));
    }
    None
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
