use super::*;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Scan {
    #[serde(with = "empty_if_none")]
    last_full_scan: Option<jiff::Timestamp>,
}

/// `last_full_scan` is `""` until the first scan, as status files always said; a time after.
#[test]
fn a_scan_time_not_known_yet_is_an_empty_string_both_ways() {
    let none: Scan = serde_json::from_str(r#"{"last_full_scan":""}"#).unwrap();
    assert_eq!(none.last_full_scan, None);
    assert_eq!(
        serde_json::to_string(&none).unwrap(),
        r#"{"last_full_scan":""}"#
    );
    let text = r#"{"last_full_scan":"2026-12-07T02:16:36.507409684Z"}"#;
    let some: Scan = serde_json::from_str(text).unwrap();
    assert_eq!(
        some.last_full_scan,
        Some("2026-12-07T02:16:36.507409684Z".parse().unwrap())
    );
    assert_eq!(serde_json::to_string(&some).unwrap(), text);
    assert!(serde_json::from_str::<Scan>(r#"{"last_full_scan":"later"}"#).is_err());
}
