use super::*;

const SUBUID: &str = "# comment\nalice:100000:65536\n1001:165536:65536\nbroken:1:x\n\nmallory::5\n";

fn owns(owner: &str, uid: u32) -> bool {
    (owner == "alice" && uid == 1000) || owner == uid.to_string()
}

#[test]
fn subuid_and_uid_map_parse_as_the_kernel_and_shadow_utils_write_them() {
    let ranges = parse_subuid(SUBUID);
    assert_eq!(
        ranges,
        [
            SubRange {
                owner: "alice".into(),
                start: 100_000,
                count: 65_536
            },
            SubRange {
                owner: "1001".into(),
                start: 165_536,
                count: 65_536
            },
        ]
    );
    let init = parse_uid_map("         0          0 4294967295\n").unwrap();
    assert!(is_initial(&init));
    let newuidmap = parse_uid_map("0 1000 1\n1 100000 65536\n").unwrap();
    assert!(!is_initial(&newuidmap));
    assert_eq!(newuidmap.len(), 2);
    assert_eq!(parse_uid_map("0 1000\n"), None);
    assert_eq!(parse_uid_map("0 x 1\n"), None);
}

#[test]
fn a_subordinate_uid_is_its_owners_when_the_whole_namespace_is_theirs() {
    let ranges = parse_subuid(SUBUID);
    let map = parse_uid_map("0 1000 1\n1 100000 65536\n").unwrap();
    assert_eq!(
        owner_of(100_005, Some(&map), &ranges, &owns),
        Ok("alice".into())
    );
    // Owner named by uid in /etc/subuid.
    let bob = parse_uid_map("0 165536 1000\n").unwrap();
    assert_eq!(
        owner_of(165_600, Some(&bob), &ranges, &owns),
        Ok("1001".into())
    );
    // Set up by root in the initial namespace: still in alice's range.
    let init = parse_uid_map("0 0 4294967295\n").unwrap();
    assert_eq!(
        owner_of(100_001, Some(&init), &ranges, &owns),
        Ok("alice".into())
    );
}

#[test]
fn what_cannot_be_attributed_says_why() {
    let ranges = parse_subuid(SUBUID);
    let map = parse_uid_map("0 100000 10\n").unwrap();
    let none = owner_of(500_000, Some(&map), &ranges, &owns).unwrap_err();
    assert!(none.contains("no subordinate uid range"), "{none}");
    let unread = owner_of(100_000, None, &ranges, &owns).unwrap_err();
    assert!(unread.contains("cannot be read"), "{unread}");
    // A namespace that maps alice's range and bob's (only root could set that up).
    let mixed = parse_uid_map("0 100000 10\n10 165536 10\n").unwrap();
    let why = owner_of(100_000, Some(&mixed), &ranges, &owns).unwrap_err();
    assert!(why.contains("not theirs"), "{why}");
    // Past the end of alice's range.
    let over = parse_uid_map("0 165000 1000\n").unwrap();
    assert!(owner_of(165_100, Some(&over), &ranges, &owns).is_err());
    // Another user's own uid mapped in alice's namespace.
    let other = parse_uid_map("0 1002 1\n1 100000 10\n").unwrap();
    assert!(owner_of(100_001, Some(&other), &ranges, &owns).is_err());
}
