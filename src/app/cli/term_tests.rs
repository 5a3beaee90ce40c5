use super::*;

#[test]
fn control_characters_cannot_forge_lines_or_colours() {
    assert_eq!(
        esc("a\nFAIL /home/x\u{1b}[31m"),
        "a\\nFAIL /home/x\\u{1b}[31m"
    );
    assert_eq!(esc("plain/path é"), "plain/path é");
    // Idempotent: escaping twice changes nothing more.
    assert_eq!(esc(esc("x\ny")), esc("x\ny"));
}
