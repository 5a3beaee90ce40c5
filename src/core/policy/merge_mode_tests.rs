use super::*;

fn source(name: &str, text: &str) -> Source {
    Source {
        name: name.into(),
        text: text.into(),
    }
}

const ENFORCE: &str = "[policy]\nname = \"n\"\nrevision = \"r\"\nmode = \"enforce\"\n";

#[test]
fn a_later_file_lowering_mode_is_warned_about_at_its_line() {
    let outcome = load_sources(vec![
        source("10.toml", ENFORCE),
        source("90.toml", "# rollback\n[policy]\nmode = \"monitor\"\n"),
    ]);
    let policy = outcome.policy.as_ref().expect("a warning, not an error");
    assert_eq!(policy.mode, Mode::Monitor);
    let downgrades: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::ModeDowngrade)
        .collect();
    assert_eq!(downgrades.len(), 1, "{:?}", outcome.diagnostics);
    assert_eq!(
        (downgrades[0].file.as_str(), downgrades[0].line),
        ("90.toml", 3)
    );
}

#[test]
fn raising_or_repeating_mode_is_not_a_downgrade() {
    for later in [
        "[policy]\nmode = \"enforce\"\n",
        "[login]\nallowed_methods = [\"chatgpt\"]\n",
    ] {
        let outcome = load_sources(vec![source("10.toml", ENFORCE), source("90.toml", later)]);
        assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);
    }
    let up = load_sources(vec![
        source("10.toml", &ENFORCE.replace("enforce", "monitor")),
        source("90.toml", "[policy]\nmode = \"enforce\"\n"),
    ]);
    assert!(up.diagnostics.is_empty(), "{:?}", up.diagnostics);
}
