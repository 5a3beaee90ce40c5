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
