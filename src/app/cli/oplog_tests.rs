use super::*;

#[test]
fn no_colour_unless_a_terminal_and_json_on_request() {
    assert_eq!(choose(None, None, false), Output::Text { ansi: false });
    assert_eq!(choose(None, None, true), Output::Text { ansi: true });
    assert_eq!(choose(Some("json"), None, true), Output::Json);
    // A JOURNAL_STREAM that is not our stderr (inherited, then redirected) does not count.
    assert_eq!(
        choose(None, Some("1:1"), false),
        Output::Text { ansi: false }
    );
    assert_eq!(choose(Some("journald"), None, false), Output::Journald);
}
