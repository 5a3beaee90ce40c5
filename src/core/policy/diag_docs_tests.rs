#[test]
fn every_code_is_documented() {
    let doc = include_str!("../../../docs/reference/policy.md");
    for code in super::Code::ALL {
        assert!(
            doc.contains(&format!("`{code}`")),
            "{code} missing from docs"
        );
    }
}
