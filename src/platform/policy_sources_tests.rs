//! Tests of reading policies from disk: drop-in files and their disk checks (ownership,
//! permissions, symlinks, the directories on the way), and managed preferences. What the checker
//! makes of a policy's text is tested beside it, in core/policy/merge_tests.rs.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;

use super::*;
use crate::core::policy::plist_keys::MANAGED_PREFS_KEY;
use crate::core::policy::*;

/// A valid `[policy]` section.
const HEAD: &str = "[policy]\nname = \"corp\"\nrevision = \"1\"\nmode = \"enforce\"\n";

fn codes(outcome: &LoadOutcome) -> Vec<(Code, usize, usize)> {
    outcome
        .diagnostics
        .iter()
        .map(|d| (d.code, d.line, d.column))
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}

#[test]
fn dir_reads_toml_files_in_byte_order_and_skips_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "20-late.toml",
        "[login]\nallowed_methods = [\"api-key\"]\n",
    );
    write(
        dir.path(),
        "10-early.toml",
        &format!("{HEAD}[login]\nallowed_methods = [\"chatgpt\"]\n"),
    );
    write(
        dir.path(),
        "B-upper.toml",
        "[policy]\nrevision = \"upper\"\n",
    );
    write(dir.path(), ".hidden.toml", "garbage =");
    write(dir.path(), "30-x.toml~", "garbage =");
    write(dir.path(), "30-x.toml.bak", "garbage =");
    write(dir.path(), "README", "garbage =");
    let outcome = load_dir(dir.path(), None);
    assert_eq!(codes(&outcome), vec![]);
    let names: Vec<_> = outcome
        .sources
        .iter()
        .map(|s| Path::new(&s.name).file_name().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["10-early.toml", "20-late.toml", "B-upper.toml"]);
    let policy = outcome.policy.expect("valid");
    assert_eq!(
        policy.login.allowed_methods,
        Some(vec![LoginMethod::ApiKey])
    );
    assert_eq!(policy.revision, "upper");
}

#[test]
fn missing_or_empty_dir_is_a_warning_and_no_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outcome = load_dir(&dir.path().join("nope"), None);
    assert!(outcome.policy.is_none());
    assert_eq!(codes(&outcome), vec![(Code::NoFiles, 0, 0)]);
    assert!(outcome.diagnostics[0].message.contains("does not exist"));

    let outcome = load_dir(dir.path(), None);
    assert!(outcome.policy.is_none());
    assert_eq!(codes(&outcome), vec![(Code::NoFiles, 0, 0)]);
}

#[test]
fn non_regular_files_are_rejected_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "00-ok.toml", HEAD);
    fs::create_dir(dir.path().join("10-dir.toml")).expect("mkdir");
    crate::platform::safefs::make_fifo(&dir.path().join("20-fifo.toml"), 0o644).expect("mkfifo");
    let outcome = load_dir(dir.path(), None);
    let found: Vec<_> = outcome
        .diagnostics
        .iter()
        .map(|d| (d.code, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                Code::NotRegularFile,
                "not a regular file (it is a directory)"
            ),
            (Code::NotRegularFile, "not a regular file (it is a FIFO)"),
        ]
    );
    assert!(outcome.policy.is_none());
}

#[test]
fn too_large_and_not_utf8_files_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let big = write(
        dir.path(),
        "big.toml",
        &"#".repeat(MAX_POLICY_BYTES as usize + 1),
    );
    let bad = dir.path().join("bad.toml");
    fs::write(&bad, b"[policy]\nname = \"caf\xe9\"\n").expect("write");
    let outcome = load_files(&[big, bad]);
    assert_eq!(
        codes(&outcome),
        vec![(Code::TooLarge, 0, 0), (Code::NotUtf8, 2, 12)]
    );
    assert!(outcome.sources.is_empty());
}

#[test]
fn unreadable_files_are_io_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outcome = load_files(&[dir.path().join("missing.toml")]);
    assert_eq!(codes(&outcome), vec![(Code::Io, 0, 0)]);
    assert!(outcome.policy.is_none());
}

#[test]
fn writable_or_foreign_policy_files_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "00.toml", HEAD);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o664)).expect("chmod");
    let outcome = load_dir(dir.path(), None);
    assert_eq!(codes(&outcome), vec![(Code::FilePermissions, 0, 0)]);
    let name = file.display().to_string();
    assert_eq!(
        outcome.diagnostics[0].help,
        Some(format!("chown root:root {name} && chmod 644 {name}"))
    );
    assert!(outcome.policy.is_none());

    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
    let outcome = load_dir(dir.path(), None);
    assert_eq!(codes(&outcome), vec![(Code::FilePermissions, 0, 0)]);
    assert_eq!(
        outcome.diagnostics[0].file,
        dir.path().display().to_string()
    );
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");

    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::chown(&file, Some(4242), None).expect("chown");
        let outcome = load_files(std::slice::from_ref(&file));
        assert_eq!(codes(&outcome), vec![(Code::FilePermissions, 0, 0)]);
        assert!(outcome.diagnostics[0].message.contains("uid 4242"));
    }
}

fn plist_with(key: &str, value: plist::Value) -> plist::Value {
    let mut dict = plist::Dictionary::new();
    dict.insert(key.to_string(), value);
    plist::Value::Dictionary(dict)
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn managed_prefs_outrank_drop_ins_in_xml_and_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy_dir = dir.path().join("policy.d");
    fs::create_dir(&policy_dir).expect("mkdir");
    write(
        &policy_dir,
        "10-corp.toml",
        &format!("{HEAD}[enforce]\nterminate = true\n"),
    );
    let mdm = format!("{HEAD}[enforce]\nterminate = false\n");
    // Wrapped at 20 columns with indentation, the way profile editors write it.
    let wrapped: String = base64_of(&mdm)
        .as_bytes()
        .chunks(20)
        .map(|c| format!("\n\t\t{}", String::from_utf8_lossy(c)))
        .collect();
    let value = plist_with(MANAGED_PREFS_KEY, plist::Value::String(wrapped));
    for binary in [false, true] {
        let path = dir
            .path()
            .join(if binary { "bin.plist" } else { "xml.plist" });
        if binary {
            value.to_file_binary(&path).expect("plist");
        } else {
            value.to_file_xml(&path).expect("plist");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        let outcome = load_dir(&policy_dir, Some(&path));
        assert_eq!(codes(&outcome), vec![], "binary={binary}");
        assert!(!outcome.policy.expect("valid").enforce.terminate);
        let name = format!("managed preferences ({})", path.display());
        assert_eq!(outcome.sources.last().map(|s| &s.name), Some(&name));
        assert_eq!(outcome.provenance["enforce.terminate"].len(), 2);
        assert_eq!(outcome.provenance["enforce.terminate"][1].file, name);
    }
}

#[test]
fn managed_prefs_alone_are_enough() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("com.codex-warden.plist");
    plist_with(MANAGED_PREFS_KEY, plist::Value::String(base64_of(HEAD)))
        .to_file_xml(&path)
        .expect("plist");
    let outcome = load_dir(&dir.path().join("no-such-dir"), Some(&path));
    assert_eq!(codes(&outcome), vec![]);
    assert!(outcome.policy.is_some());
}

#[test]
fn a_missing_managed_prefs_file_is_no_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "00.toml", HEAD);
    let outcome = load_dir(dir.path(), Some(&dir.path().join("absent.plist")));
    assert_eq!(codes(&outcome), vec![]);
    assert_eq!(outcome.sources.len(), 1);
}

#[test]
fn broken_managed_prefs_are_errors_on_that_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("garbage.plist", None),
        (
            "no-key.plist",
            Some(plist_with("PayloadUUID", plist::Value::String("0".into()))),
        ),
        (
            "bad-base64.plist",
            Some(plist_with(
                MANAGED_PREFS_KEY,
                plist::Value::String("!!not base64!!".into()),
            )),
        ),
        (
            "not-string.plist",
            Some(plist_with(MANAGED_PREFS_KEY, plist::Value::Boolean(true))),
        ),
    ];
    for (name, value) in cases {
        let path = dir.path().join(name);
        match value {
            Some(value) => value.to_file_xml(&path).expect("plist"),
            None => fs::write(&path, "this is not a plist").expect("write"),
        }
        let outcome = load_dir(&dir.path().join("policy.d"), Some(&path));
        assert_eq!(codes(&outcome), vec![(Code::ManagedPrefs, 0, 0)], "{name}");
        assert_eq!(
            outcome.diagnostics[0].file,
            format!("managed preferences ({})", path.display())
        );
        assert!(outcome.policy.is_none());
    }
}

#[test]
fn managed_prefs_policy_problems_point_into_the_decoded_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("com.codex-warden.plist");
    let text = format!("{HEAD}[login]\nallowed_methods = [\"chatgtp\"]\n");
    plist_with(MANAGED_PREFS_KEY, plist::Value::String(base64_of(&text)))
        .to_file_binary(&path)
        .expect("plist");
    let outcome = load_dir(&dir.path().join("policy.d"), Some(&path));
    assert_eq!(codes(&outcome), vec![(Code::UnknownValue, 6, 20)]);
    assert!(
        outcome
            .render_diagnostics()
            .contains("6 | allowed_methods = [\"chatgtp\"]")
    );
}

/// A fixture of tests/fixtures/mdm copied where the loader trusts it (root-or-us, 0644).
fn mdm_fixture(dir: &Path, name: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mdm")
        .join(name);
    let path = dir.join(name);
    fs::copy(&from, &path).expect("copy fixture");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    path
}

#[test]
fn native_keys_from_disk_give_the_policy_of_the_equivalent_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let toml = mdm_fixture(dir.path(), "native.toml");
    let expected = load_files(std::slice::from_ref(&toml))
        .policy
        .expect("valid");
    for name in ["native.xml.plist", "native.binary.plist"] {
        let path = mdm_fixture(dir.path(), name);
        let outcome = load_dir(&dir.path().join("no-policy.d"), Some(&path));
        assert_eq!(codes(&outcome), vec![], "{name}");
        let shown = format!("managed preferences ({})", path.display());
        assert_eq!(outcome.sources.len(), 1);
        assert_eq!(outcome.sources[0].name, shown);
        assert_eq!(outcome.provenance["login.allowed_methods"][0].file, shown);
        let mut policy = outcome.policy.expect("valid");
        // load_dir fills in platform defaults; the fixture sets every one it needs.
        policy.scope.min_uid = expected.scope.min_uid;
        assert_eq!(policy, expected, "{name}");
    }
}

#[test]
fn native_keys_are_layered_after_the_base64_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("com.codex-warden.plist");
    let base = format!("{HEAD}[enforce]\nterminate = false\nquarantine = false\n");
    let mut dict = plist::Dictionary::new();
    dict.insert(
        MANAGED_PREFS_KEY.into(),
        plist::Value::String(base64_of(&base)),
    );
    let mut enforce = plist::Dictionary::new();
    enforce.insert("terminate".into(), plist::Value::Boolean(true));
    dict.insert("enforce".into(), plist::Value::Dictionary(enforce));
    plist::Value::Dictionary(dict)
        .to_file_binary(&path)
        .expect("plist");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
    let outcome = load_dir(&dir.path().join("policy.d"), Some(&path));
    assert_eq!(codes(&outcome), vec![]);
    let names: Vec<&str> = outcome.sources.iter().map(|s| s.name.as_str()).collect();
    let shown = path.display();
    assert_eq!(
        names,
        [
            format!("managed preferences ({shown}, policy_toml_base64)"),
            format!("managed preferences ({shown}, native keys)"),
        ]
    );
    let policy = outcome.policy.expect("valid");
    assert!(policy.enforce.terminate, "the native key wins");
    assert!(!policy.enforce.quarantine, "the base64 key stays");
    assert_eq!(outcome.provenance["enforce.terminate"].len(), 2);
}

#[test]
fn bad_native_keys_are_diagnostics_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = mdm_fixture(dir.path(), "bad-keys.xml.plist");
    let outcome = load_dir(&dir.path().join("policy.d"), Some(&path));
    assert!(outcome.policy.is_none());
    let shown = format!("managed preferences ({})", path.display());
    assert!(outcome.diagnostics.iter().all(|d| d.file == shown));
    let messages: Vec<&str> = outcome
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    for want in [
        "`login.allowed_method`: unknown key",
        "`enforce.quarantine`: expected a boolean",
        "`scope.min_uid`: expected an integer",
        "`scope.homes[0]` is <data>",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(want)),
            "{want}: {messages:?}"
        );
    }
    let rendered = outcome.render_diagnostics();
    assert!(
        rendered.contains("did you mean `allowed_methods`"),
        "{rendered}"
    );

    // An unknown top-level key is an error too, with the section it might be.
    let path = dir.path().join("other.plist");
    plist_with("logn", plist::Value::Dictionary(plist::Dictionary::new()))
        .to_file_xml(&path)
        .expect("plist");
    let outcome = load_dir(&dir.path().join("policy.d"), Some(&path));
    assert!(
        outcome
            .diagnostics
            .iter()
            .any(|d| d.code == Code::UnknownSection && d.message.contains("logn")),
        "{:?}",
        outcome.diagnostics
    );
}

#[test]
fn a_file_that_is_not_a_policy_is_never_quoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shadow = write(
        dir.path(),
        "shadow.toml",
        "root:$6$SECRETHASH$abcdef:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
    );
    let outcome = load_files(&[shadow]);
    assert!(outcome.policy.is_none());
    let rendered = outcome.render_diagnostics();
    assert!(rendered.contains("not a policy"), "{rendered}");
    assert!(!rendered.contains("SECRETHASH"), "{rendered}");
    assert!(!rendered.contains("daemon"), "{rendered}");
    let json = serde_json::to_string(&outcome.diagnostics).unwrap();
    assert!(!json.contains("SECRETHASH"), "{json}");
}

#[test]
fn a_symlinked_policy_file_is_refused_not_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = write(dir.path(), "elsewhere.txt", HEAD);
    std::fs::create_dir(dir.path().join("policy.d")).expect("mkdir");
    std::os::unix::fs::symlink(&target, dir.path().join("policy.d/10.toml")).expect("symlink");
    let outcome = load_dir(&dir.path().join("policy.d"), None);
    assert_eq!(codes(&outcome), vec![(Code::NotRegularFile, 0, 0)]);
    assert!(outcome.render_diagnostics().contains("symlink"));
}

#[test]
fn a_policy_reached_through_a_directory_others_can_write_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let open = dir.path().join("open");
    fs::create_dir_all(open.join("policy.d")).expect("mkdir");
    write(&open.join("policy.d"), "10.toml", HEAD);
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).expect("chmod");
    let outcome = load_dir(&open.join("policy.d"), None);
    assert!(outcome.policy.is_none());
    let diag = &outcome.diagnostics[0];
    assert_eq!(diag.code, Code::FilePermissions);
    assert!(
        diag.message.contains(&open.display().to_string()),
        "{diag:?}"
    );
    let outcome = load_files(&[open.join("policy.d/10.toml")]);
    assert_eq!(codes(&outcome), vec![(Code::FilePermissions, 0, 0)]);
    // A sticky directory (like /tmp) is fine: others cannot swap what is not theirs.
    fs::set_permissions(&open, fs::Permissions::from_mode(0o1777)).expect("chmod");
    assert!(load_dir(&open.join("policy.d"), None).policy.is_some());
}

/// What macOS does with a configuration profile: the payload of type `com.codex-warden` becomes
/// `/Library/Managed Preferences/com.codex-warden.plist`, a binary plist of the payload's keys
/// (Payload* ones included). Here the payload comes out of the committed example profile, as
/// `policy mdm --format mobileconfig` wrote it, and must give the very policy of its TOML.
#[test]
fn mobileconfig_payload_as_macos_installs_it_is_the_policy_of_its_toml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let profile =
        plist::Value::from_file(root.join("packaging/macos/chatgpt-workspace-only.mobileconfig"))
            .expect("the example profile is a plist");
    let payloads = profile
        .as_dictionary()
        .and_then(|d| d.get("PayloadContent"))
        .and_then(plist::Value::as_array)
        .expect("PayloadContent");
    let ours: Vec<&plist::Value> = payloads
        .iter()
        .filter(|p| {
            p.as_dictionary()
                .and_then(|d| d.get("PayloadType"))
                .and_then(plist::Value::as_string)
                == Some("com.codex-warden")
        })
        .collect();
    assert_eq!(ours.len(), 1, "one com.codex-warden payload");

    let dir = tempfile::tempdir().expect("tempdir");
    let prefs = dir.path().join("com.codex-warden.plist");
    ours[0].to_file_binary(&prefs).expect("write prefs");
    fs::set_permissions(&prefs, fs::Permissions::from_mode(0o644)).expect("chmod");
    let from_mdm = load_dir(&dir.path().join("no-policy.d"), Some(&prefs));
    assert_eq!(codes(&from_mdm), vec![]);

    let drop_in = dir.path().join("policy.d");
    fs::create_dir(&drop_in).expect("mkdir");
    let toml = fs::read_to_string(root.join("policies/chatgpt-workspace-only.toml")).unwrap();
    write(&drop_in, "10-corp.toml", &toml);
    let from_file = load_dir(&drop_in, None);
    assert_eq!(codes(&from_file), vec![]);

    let (mdm, file) = (from_mdm.policy.unwrap(), from_file.policy.unwrap());
    assert!(
        mdm.login.allowed_methods.is_some(),
        "the payload sets [login]"
    );
    assert_eq!(mdm, file);
}
