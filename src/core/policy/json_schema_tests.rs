use super::*;
use crate::core::policy::schema::KEYS;

#[test]
fn every_key_is_in_the_schema_with_its_doc() {
    let schema = schema();
    for key in KEYS {
        let s = &schema["properties"][key.section]["properties"][key.name];
        assert_eq!(s["description"], key.doc, "{}", key.path());
    }
    assert_eq!(
        schema["properties"]["policy"]["properties"]["mode"]["enum"],
        json!(["enforce", "monitor"])
    );
    assert_eq!(
        schema["properties"]["enforce"]["properties"]["terminate_grace"]["default"],
        json!("5s")
    );
}

#[test]
fn the_published_schema_is_the_generated_one() {
    let published = include_str!("../../../docs/reference/policy.schema.json");
    let generated = serde_json::to_string_pretty(&schema()).unwrap();
    assert_eq!(
        published.trim_end(),
        generated,
        "{SCHEMA_PATH} is stale: run `codex-warden policy schema > {SCHEMA_PATH}`"
    );
}
