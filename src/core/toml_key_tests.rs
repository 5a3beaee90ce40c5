use super::key_segment;

#[test]
fn bare_when_it_can_be_else_quoted_as_toml_quotes() {
    assert_eq!(key_segment("docs-1_x"), "docs-1_x");
    assert_eq!(key_segment("a.b"), "\"a.b\"");
    assert_eq!(key_segment(""), "\"\"");
    let quoted = key_segment("a\"b");
    let back: toml::Table = toml::from_str(&format!("{quoted} = 1")).unwrap();
    assert!(back.contains_key("a\"b"), "{quoted}");
}
