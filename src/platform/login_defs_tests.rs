use super::*;

#[test]
fn uid_min_is_read_like_shadow_utils() {
    assert_eq!(parse_uid_min("UID_MIN 1000\n"), Some(1000));
    assert_eq!(
        parse_uid_min("# UID_MIN 7\nUID_MAX 60000\nUID_MIN\t\t 500 # people\n"),
        Some(500)
    );
    assert_eq!(parse_uid_min("UID_MIN 1000\nUID_MIN 2000\n"), Some(2000));
    assert_eq!(parse_uid_min("SYS_UID_MIN 100\n"), None);
    assert_eq!(parse_uid_min("UID_MIN lots\n"), None);
    assert_eq!(parse_uid_min(""), None);
}

#[test]
fn the_platform_fills_in_only_an_absent_min_uid() {
    use crate::core::policy::merge::load_sources;
    use crate::core::policy::source::Source;
    let load = |text: &str| {
        apply_platform_defaults(load_sources(vec![Source {
            name: "t.toml".into(),
            text: format!("[policy]\nname = \"n\"\nrevision = \"r\"\nmode = \"monitor\"\n{text}"),
        }]))
        .policy
        .unwrap()
        .scope
        .min_uid
    };
    assert_eq!(load(""), first_regular_uid());
    assert_eq!(load("[scope]\nmin_uid = 4242\n"), Uid(4242));
}
