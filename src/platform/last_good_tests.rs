use super::*;

#[test]
fn round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(load(tmp.path()).unwrap().is_none());
    let mut p = Policy::baseline();
    p.revision = "r7".into();
    p.baseline = false;
    let src = [StoredSource {
        name: "a.toml".into(),
        sha256: "00".into(),
    }];
    save(tmp.path(), &p, &src).unwrap();
    let back = load(tmp.path()).unwrap().unwrap();
    assert_eq!(back.policy, p);
    assert_eq!(back.sources, src);
    assert_ne!(digest(&src), digest(&[]));
}

/// A file saved while `saved_at` was a string reads, its time typed.
#[test]
fn a_file_of_the_string_time_format_still_reads() {
    let tmp = tempfile::tempdir().unwrap();
    save(tmp.path(), &Policy::baseline(), &[]).unwrap();
    let path = tmp.path().join(FILE);
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["saved_at"] = "2026-12-01T10:00:00.5Z".into();
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let back = load(tmp.path()).unwrap().unwrap();
    assert_eq!(
        back.saved_at,
        "2026-12-01T10:00:00.5Z".parse::<jiff::Timestamp>().unwrap()
    );
}
