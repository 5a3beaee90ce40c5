use super::*;

#[test]
fn a_record_becomes_an_rfc3164_message_for_a_plain_local_socket() {
    let record =
        serde_json::json!({"seq": 1, "time": "2026-11-26T10:00:00Z", "event": "quarantined"});
    let m = format_rfc3164(&record);
    let (head, rest) = m.split_once(": ").unwrap();
    assert!(head.starts_with("<37>Nov 26 "), "{m}");
    assert!(
        head.ends_with(&format!(" codex-warden[{}]", std::process::id())),
        "{m}"
    );
    assert_eq!(serde_json::from_str::<Value>(rest).unwrap(), record);
}

#[test]
fn journalds_sockets_are_told_from_other_local_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run/systemd/journal");
    std::fs::create_dir_all(&journal).unwrap();
    for name in ["socket", "dev-log"] {
        std::fs::write(journal.join(name), "").unwrap();
    }
    let dev_log = dir.path().join("log");
    std::os::unix::fs::symlink(journal.join("dev-log"), &dev_log).unwrap();
    let journal = std::fs::canonicalize(&journal).unwrap();
    assert_eq!(local(&dev_log), Local::Journal(journal.join("socket")));
    assert_eq!(
        local(&journal.join("socket")),
        Local::Journal(journal.join("socket"))
    );
    let plain = dir.path().join("devlog");
    assert_eq!(local(&plain), Local::Syslog(plain.clone()));
    assert_eq!(
        Destination::parse("journald").unwrap(),
        Some(Destination::Unix("/run/systemd/journal/socket".into()))
    );
}

#[test]
fn a_record_becomes_an_rfc5424_message_with_structured_data() {
    let record = serde_json::json!({
        "seq": 7, "time": "2026-11-26T10:00:00.000000Z", "event": "violation",
        "user": "al\"ice", "codex_home": "/home/a]b/.codex", "rules": ["login.method", "login.plan"],
        "hash": "ab", "policy_revision": "r1", "mode": "enforce"
    });
    let m = format_message(&record, "host-1");
    assert!(
        m.starts_with("<36>1 2026-11-26T10:00:00.000000Z host-1 codex-warden "),
        "{m}"
    );
    assert!(m.contains(" violation [codex-warden@32473 seq=\"7\" event=\"violation\" user=\"al\\\"ice\" home=\"/home/a\\]b/.codex\" rules=\"login.method,login.plan\""), "{m}");
    assert!(m.ends_with(&record.to_string()));
}

#[test]
fn targets_parse() {
    assert_eq!(
        Destination::parse("/dev/log").unwrap(),
        Some(Destination::Unix("/dev/log".into()))
    );
    assert_eq!(
        Destination::parse("udp://127.0.0.1:514").unwrap(),
        Some(Destination::Udp("127.0.0.1:514".into()))
    );
    assert_eq!(Destination::parse("").unwrap(), None);
    assert!(Destination::parse("ftp://x").is_err());
    assert!(Destination::parse("udp://loghost").is_err());
    assert_eq!(
        Destination::parse("tcp://logs.example.com:6514").unwrap(),
        Some(Destination::Tcp("logs.example.com:6514".into()))
    );
}
