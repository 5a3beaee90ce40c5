use super::*;

#[test]
fn a_message_cannot_break_out_of_its_string() {
    let hostile = "stopped \"; do shell script \"id\" -- \\ end\u{7}\r";
    let s = applescript_string(hostile);
    assert_eq!(
        s,
        "\"stopped \\\"; do shell script \\\"id\\\" -- \\\\ end\""
    );
    // Every quote inside is escaped: the literal ends only at its last character.
    let inner = &s[1..s.len() - 1];
    let unescaped = inner.replace("\\\\", "").replace("\\\"", "");
    assert!(!unescaped.contains('"'), "{s}");
}

#[test]
fn the_script_shows_the_text_with_a_title() {
    assert_eq!(
        script(
            "Codex session stopped",
            "Use the Example Corp workspace.\nHelp: https://x"
        ),
        "display notification \"Use the Example Corp workspace.\nHelp: https://x\" \
             with title \"Codex session stopped\""
    );
}
