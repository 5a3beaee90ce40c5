use super::*;

/// journald's reading of a datagram (`server_process_native_message`): each field either
/// `NAME=value\n` or `NAME\n` + 64-bit LE length + bytes + `\n`.
fn parse(mut data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let nl = data.iter().position(|b| *b == b'\n').expect("a field ends");
        let line = &data[..nl];
        if let Some(eq) = line.iter().position(|b| *b == b'=') {
            out.push((
                String::from_utf8(line[..eq].to_vec()).unwrap(),
                line[eq + 1..].to_vec(),
            ));
            data = &data[nl + 1..];
        } else {
            let name = String::from_utf8(line.to_vec()).unwrap();
            let len = u64::from_le_bytes(data[nl + 1..nl + 9].try_into().unwrap()) as usize;
            let value = data[nl + 9..nl + 9 + len].to_vec();
            assert_eq!(data[nl + 9 + len], b'\n');
            out.push((name, value));
            data = &data[nl + 10 + len..];
        }
    }
    out
}

#[test]
#[cfg(target_os = "linux")]
fn an_entry_too_large_for_a_datagram_goes_in_a_sealed_memfd() {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    use std::io::{Read, Seek};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("socket");
    let journal = UnixDatagram::bind(&path).unwrap();
    let record = serde_json::json!({"event": "violation", "evidence": "x".repeat(4 << 20)});
    let entry = datagram(&record, 4, 4);
    send(&path, &entry).unwrap();
    let mut space = [std::mem::MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut buf = [0u8; 16];
    let got = rustix::net::recvmsg(
        &journal,
        &mut [std::io::IoSliceMut::new(&mut buf)],
        &mut control,
        RecvFlags::empty(),
    )
    .unwrap();
    assert_eq!(
        got.bytes, 0,
        "the entry travels in the fd, not the datagram"
    );
    let mut fds = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(rights) = message {
            fds.extend(rights);
        }
    }
    assert_eq!(fds.len(), 1);
    let seals = rustix::fs::fcntl_get_seals(&fds[0]).unwrap();
    assert!(seals.contains(rustix::fs::SealFlags::WRITE | rustix::fs::SealFlags::SEAL));
    // journald maps the file from its start (the offset is shared with the sender's).
    let mut file = std::fs::File::from(fds.remove(0));
    file.seek(std::io::SeekFrom::Start(0)).unwrap();
    let mut sent = Vec::new();
    file.read_to_end(&mut sent).unwrap();
    assert_eq!(sent.len(), entry.len());
    assert!(sent == entry, "the memfd holds another entry");
}

#[test]
fn a_record_becomes_native_fields_and_a_newline_is_length_prefixed() {
    let record = serde_json::json!({
        "seq": 3, "event": "terminated", "user": "alice", "codex_home": "/home/a/.codex",
        "rules": ["config.sandbox-mode", "config.approval-policy"], "pid": 42,
        "message": "line one\nline two", "credential": {"method": "api-key"},
    });
    let fields = parse(&datagram(&record, 5, 4));
    let get = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
            .unwrap_or_else(|| panic!("{n} missing: {fields:?}"))
    };
    assert_eq!(get("PRIORITY"), "5");
    assert_eq!(get("SYSLOG_IDENTIFIER"), "codex-warden");
    assert_eq!(get("CODEX_WARDEN_EVENT"), "terminated");
    assert_eq!(get("CODEX_WARDEN_USER"), "alice");
    assert_eq!(get("CODEX_WARDEN_SEQ"), "3");
    assert_eq!(get("CODEX_WARDEN_PID"), "42");
    assert_eq!(
        get("CODEX_WARDEN_RULES"),
        "config.sandbox-mode,config.approval-policy"
    );
    assert_eq!(get("CODEX_WARDEN_MESSAGE"), "line one\nline two");
    assert_eq!(get("CODEX_WARDEN_CREDENTIAL"), r#"{"method":"api-key"}"#);
    assert_eq!(
        get("MESSAGE"),
        "terminated: user alice, home /home/a/.codex, rules \
             config.sandbox-mode,config.approval-policy"
    );
    let whole: Value = serde_json::from_str(&get("CODEX_WARDEN_RECORD")).unwrap();
    assert_eq!(whole, record);
    assert!(fields.iter().all(|(k, _)| !k.starts_with('_')));
}
