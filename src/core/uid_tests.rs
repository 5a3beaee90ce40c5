use super::*;

#[test]
fn a_uid_reads_and_writes_as_its_number() {
    assert_eq!(serde_json::to_string(&Uid(1001)).unwrap(), "1001");
    assert_eq!(serde_json::from_str::<Uid>("501").unwrap(), Uid(501));
    assert!(Uid(999) < Uid(1000));
    assert_eq!(Uid(42).to_string(), "42");
}
