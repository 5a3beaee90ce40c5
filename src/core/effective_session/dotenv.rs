//! `$CODEX_HOME/.env` read exactly as Codex reads it.
//!
//! Codex 0.169 and 0.171 (both link dotenvy 0.15.7) load the file at start with
//! `dotenvy::from_path_iter`, skip the entries that do not parse (`.flatten()`), and `set_var`
//! every other entry whose name does not start with `CODEX_` in any case: a `.env` value
//! **overrides** the process environment (checked on 0.171: `MYKEY=sk-env` in the environment and
//! `MYKEY=sk-file` in `.env`, the provider's `env_key = "MYKEY"`, sent `Bearer sk-file`), and a
//! later line overrides an earlier one. A `$VAR` / `${VAR}` in a value expands to the process
//! environment at that moment (the session's, with the file's earlier entries set), else to an
//! earlier entry of the file, else to nothing.
//!
//! This is a port of dotenvy 0.15.7's grammar (`src/iter.rs` `QuotedLines`, `src/parse.rs`,
//! MIT), not the crate: the crate expands `$VAR` from the process that parses, which would be the
//! agent's environment, not the session's. Adjacent quoted pieces concatenate (`KEY=""sk-…` is
//! `sk-…`), a quoted value may span lines, `\` escapes `\ ' " $ space n` outside single quotes,
//! a space ends an unquoted value (only a `# comment` may follow it), `export ` is optional, and
//! a UTF-8 byte-order mark is not removed (the first name does not parse then).

use std::collections::HashMap;

/// What loading a `.env` does to the environment: the entries Codex sets, in order (a later one
/// of the same name wins), and whether any line could not be read (such a line is skipped by
/// Codex as well; nothing of it is set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub set: Vec<(String, String)>,
    /// A name Codex sets with a NUL in its value: `set_var` panics, Codex does not start. Judged
    /// as unreadable (fail closed) rather than guessed.
    pub nul_value: bool,
}

/// The prefix of names Codex refuses to take from `.env` (compared in upper case).
const ILLEGAL_PREFIX: &str = "CODEX_";

/// Load `text` over `environ` (the session's, first entry of a name wins, as `getenv(3)`).
pub fn load(text: &str, environ: &[(String, String)]) -> Loaded {
    let mut overlay: HashMap<String, String> = HashMap::new();
    let mut substitution: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Loaded::default();
    for line in quoted_lines(text) {
        let Some(line) = line else { continue };
        let lookup = |name: &str| -> Option<String> {
            // std::env::var: no name with `=` or NUL is ever found; an empty name neither.
            if name.is_empty() || name.contains(['=', '\0']) {
                return None;
            }
            overlay.get(name).cloned().or_else(|| {
                environ
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            })
        };
        let Ok(Some((key, value))) = parse_line(&line, &mut substitution, &lookup) else {
            continue;
        };
        if key.to_ascii_uppercase().starts_with(ILLEGAL_PREFIX) {
            continue;
        }
        if value.contains('\0') {
            out.nul_value = true;
        }
        overlay.insert(key.clone(), value.clone());
        out.set.push((key, value));
    }
    out
}

#[derive(Clone, Copy)]
enum State {
    Complete,
    Escape,
    StrongOpen,
    StrongOpenEscape,
    WeakOpen,
    WeakOpenEscape,
    Comment,
    WhiteSpace,
}

fn eval_end_state(prev: State, buf: &str) -> (usize, State) {
    let mut state = prev;
    let mut at = 0;
    for (pos, c) in buf.char_indices() {
        at = pos;
        state = match state {
            State::WhiteSpace => match c {
                '#' => return (at, State::Comment),
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::Escape => State::Complete,
            State::Complete => match c {
                c if c.is_whitespace() && c != '\n' && c != '\r' => State::WhiteSpace,
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::WeakOpen => match c {
                '\\' => State::WeakOpenEscape,
                '"' => State::Complete,
                _ => State::WeakOpen,
            },
            State::WeakOpenEscape => State::WeakOpen,
            State::StrongOpen => match c {
                '\\' => State::StrongOpenEscape,
                '\'' => State::Complete,
                _ => State::StrongOpen,
            },
            State::StrongOpenEscape => State::StrongOpen,
            State::Comment => return (at, State::Comment),
        };
    }
    (at, state)
}

/// dotenvy's `QuotedLines`: logical lines (a quoted value may span physical ones); `None` for
/// one that does not end (an unclosed quote at the end of the file), which Codex skips.
fn quoted_lines(text: &str) -> Vec<Option<String>> {
    let mut physical = text.split_inclusive('\n');
    let mut out = Vec::new();
    'logical: loop {
        let mut buf = String::new();
        let mut state = State::Complete;
        loop {
            let Some(piece) = physical.next() else {
                if !matches!(state, State::Complete) {
                    out.push(None);
                }
                break 'logical;
            };
            let start = buf.len();
            buf.push_str(piece);
            if buf.trim_start().starts_with('#') {
                out.push(Some(String::new()));
                continue 'logical;
            }
            let (at, end) = eval_end_state(state, &buf[start..]);
            state = end;
            match state {
                State::Complete => {
                    if buf.ends_with('\n') {
                        buf.pop();
                        if buf.ends_with('\r') {
                            buf.pop();
                        }
                    }
                    out.push(Some(buf));
                    continue 'logical;
                }
                State::Comment => {
                    buf.truncate(start + at);
                    out.push(Some(buf));
                    continue 'logical;
                }
                _ => {}
            }
        }
    }
    out
}

type Parsed = Result<Option<(String, String)>, ()>;

fn parse_line(
    line: &str,
    substitution: &mut HashMap<String, Option<String>>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Parsed {
    let mut rest = line.trim_end();
    rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let mut key = parse_key(&mut rest)?;
    rest = rest.trim_start();
    if key == "export" {
        if let Some(r) = rest.strip_prefix('=') {
            rest = r;
        } else {
            key = parse_key(&mut rest)?;
            rest = rest.trim_start();
            rest = rest.strip_prefix('=').ok_or(())?;
        }
    } else {
        rest = rest.strip_prefix('=').ok_or(())?;
    }
    rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        substitution.insert(key.clone(), None);
        return Ok(Some((key, String::new())));
    }
    let value = parse_value(rest, substitution, lookup)?;
    substitution.insert(key.clone(), Some(value.clone()));
    Ok(Some((key, value)))
}

fn parse_key(rest: &mut &str) -> Result<String, ()> {
    if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return Err(());
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let key = rest[..end].to_string();
    *rest = &rest[end..];
    Ok(key)
}

#[derive(PartialEq, Eq)]
enum Substitution {
    None,
    Block,
    EscapedBlock,
}

fn parse_value(
    input: &str,
    substitution: &HashMap<String, Option<String>>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ()> {
    let mut strong_quote = false;
    let mut weak_quote = false;
    let mut escaped = false;
    let mut expecting_end = false;
    let mut output = String::new();
    let mut mode = Substitution::None;
    let mut name = String::new();
    let apply = |name: &mut String, output: &mut String| {
        let n = std::mem::take(name);
        match lookup(&n) {
            Some(v) => output.push_str(&v),
            None => output.push_str(
                substitution
                    .get(&n)
                    .cloned()
                    .flatten()
                    .unwrap_or_default()
                    .as_str(),
            ),
        }
    };
    for c in input.chars() {
        if expecting_end {
            if c == ' ' || c == '\t' {
                continue;
            } else if c == '#' {
                break;
            } else {
                return Err(());
            }
        } else if escaped {
            match c {
                '\\' | '\'' | '"' | '$' | ' ' => output.push(c),
                'n' => output.push('\n'),
                _ => return Err(()),
            }
            escaped = false;
        } else if strong_quote {
            if c == '\'' {
                strong_quote = false;
            } else {
                output.push(c);
            }
        } else if mode != Substitution::None {
            if c.is_alphanumeric() {
                name.push(c);
            } else {
                match mode {
                    Substitution::None => {}
                    Substitution::Block => {
                        if c == '{' && name.is_empty() {
                            mode = Substitution::EscapedBlock;
                        } else {
                            apply(&mut name, &mut output);
                            if c == '$' {
                                mode = Substitution::Block;
                            } else {
                                mode = Substitution::None;
                                output.push(c);
                            }
                        }
                    }
                    Substitution::EscapedBlock => {
                        if c == '}' {
                            mode = Substitution::None;
                            apply(&mut name, &mut output);
                        } else {
                            name.push(c);
                        }
                    }
                }
            }
        } else if c == '$' {
            mode = Substitution::Block;
        } else if weak_quote {
            if c == '"' {
                weak_quote = false;
            } else if c == '\\' {
                escaped = true;
            } else {
                output.push(c);
            }
        } else if c == '\'' {
            strong_quote = true;
        } else if c == '"' {
            weak_quote = true;
        } else if c == '\\' {
            escaped = true;
        } else if c == ' ' || c == '\t' {
            expecting_end = true;
        } else {
            output.push(c);
        }
    }
    if mode == Substitution::EscapedBlock || strong_quote || weak_quote {
        return Err(());
    }
    apply(&mut name, &mut output);
    Ok(output)
}

#[cfg(test)]
#[path = "dotenv_tests.rs"]
mod tests;
