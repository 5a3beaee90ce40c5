use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn set(text: &str, environ: &[(&str, &str)]) -> Vec<(String, String)> {
    load(text, &env(environ)).set
}

fn one(text: &str) -> Vec<(String, String)> {
    set(text, &[])
}

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Issue 25: `KEY=""sk-…` is `sk-…` to dotenvy (adjacent quoted pieces concatenate); the agent's
/// old reader took the first quoted string (empty) and saw no key.
#[test]
fn adjacent_quoted_pieces_concatenate() {
    assert_eq!(one("KEY=\"\"sk-proj-X\n"), [kv("KEY", "sk-proj-X")]);
    assert_eq!(one("KEY='a'\"b\"c\n"), [kv("KEY", "abc")]);
    assert_eq!(one("KEY=\"sk-\"'proj'-X\n"), [kv("KEY", "sk-proj-X")]);
}

#[test]
fn quotes_escapes_comments_and_export_as_dotenvy_reads_them() {
    assert_eq!(one("export KEY=v\n"), [kv("KEY", "v")]);
    assert_eq!(one("export=v\n"), [kv("export", "v")]);
    assert_eq!(one("  KEY = v # note\n"), [kv("KEY", "v")]);
    assert_eq!(one("KEY=v#not-a-comment\n"), [kv("KEY", "v#not-a-comment")]);
    assert_eq!(one("KEY=\"a b\"\n"), [kv("KEY", "a b")]);
    assert_eq!(one("KEY='a $B \\n'\n"), [kv("KEY", "a $B \\n")]);
    assert_eq!(one("KEY=\"a\\nb\\\"c\"\n"), [kv("KEY", "a\nb\"c")]);
    assert_eq!(one("KEY=a\\ b\n"), [kv("KEY", "a b")]);
    assert_eq!(one("KEY=\n"), [kv("KEY", "")]);
    assert_eq!(one("KEY=# c\n"), [kv("KEY", "")]);
    assert_eq!(one("A.B_c=1\r\n"), [kv("A.B_c", "1")]);
    // A quoted value spans lines.
    assert_eq!(
        one("KEY=\"a\nb\"\nX=1\n"),
        [kv("KEY", "a\nb"), kv("X", "1")]
    );
    // Lines that do not parse are skipped, the others kept (Codex flattens the errors away).
    assert_eq!(
        one("KEY=a b\n1BAD=x\nKEY2=\\q\nnoequals\nOK=1\n"),
        [kv("OK", "1")]
    );
    // An unclosed quote swallows the rest of the file.
    assert_eq!(one("A=1\nB=\"open\nC=2\n"), [kv("A", "1")]);
    // The last line with a trailing blank and no newline does not end (dotenvy's QuotedLines).
    assert_eq!(one("A=1\nB=2 "), [kv("A", "1")]);
    // A byte-order mark is not removed by `from_path_iter`: the first name does not parse.
    assert_eq!(one("\u{feff}A=1\nB=2\n"), [kv("B", "2")]);
}

#[test]
fn variables_expand_from_the_session_environment_then_the_file() {
    let environ = [("HOME", "/home/u"), ("K", "first"), ("K", "second")];
    assert_eq!(set("A=$HOME/x\n", &environ), [kv("A", "/home/u/x")]);
    assert_eq!(set("A=${K}\n", &environ), [kv("A", "first")]);
    assert_eq!(set("A=1\nB=${A}2\n", &[]), [kv("A", "1"), kv("B", "12")]);
    // The file's own earlier entry is set before the next line expands: it overrides the
    // environment for what follows, as set_var did.
    assert_eq!(
        set("HOME=/x\nB=$HOME\n", &environ),
        [kv("HOME", "/x"), kv("B", "/x")]
    );
    // A CODEX_ entry is never set, but a later line can still expand it.
    assert_eq!(set("CODEX_X=sk\nB=${CODEX_X}\n", &[]), [kv("B", "sk")]);
    // A bare `$NAME` is letters and digits only: `_` ends it.
    assert_eq!(set("CODEX_X=sk\nB=$CODEX_X\n", &[]), [kv("B", "_X")]);
    assert_eq!(set("A=$NOPE.\n", &[]), [kv("A", ".")]);
    assert_eq!(set("A='$HOME'\n", &environ), [kv("A", "$HOME")]);
    assert_eq!(set("A=\\$HOME\n", &environ), [kv("A", "$HOME")]);
    // dotenvy 0.15.7 ends a name at the closing quote and keeps the quote: unclosed, skipped.
    assert_eq!(set("A=\"$HOME\"\n", &environ), []);
    assert_eq!(set("A=\"${HOME}\"\n", &environ), [kv("A", "/home/u")]);
    assert_eq!(set("A=${HOME\n", &environ), []);
}

#[test]
fn codex_names_are_refused_in_any_case() {
    assert_eq!(
        one("CODEX_API_KEY=sk-a\ncodex_home=/x\nCodex_X=1\nOK=1\n"),
        [kv("OK", "1")]
    );
}

#[test]
fn a_nul_in_a_value_is_noticed() {
    assert!(load("A=a\u{0}b\n", &[]).nul_value);
    assert!(!load("A=ab\n", &[]).nul_value);
}
