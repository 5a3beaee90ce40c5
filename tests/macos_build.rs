//! A real Codex build for the Mac (`@openai/codex@0.169.0-darwin-arm64` from npm, a Mach-O
//! executable) is told by its content, as the agent tells it on a Mac: the same
//! `codex_binary::of_path` reads its string sections ([`codex_warden::platform::macos::macho`]),
//! so a copy under any name is still Codex, with its version.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use codex_warden::core::codex_build::Executable;
use codex_warden::platform::codex_binary;

const VERSION: &str = "0.169.0";

/// The arm64 Mac binary, fetched once with `npm pack` into target/codex-darwin (or
/// `CODEX_WARDEN_TEST_DARWIN_CODEX`).
fn darwin_codex() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(fetch).clone()
}

fn fetch() -> PathBuf {
    if let Ok(p) = std::env::var("CODEX_WARDEN_TEST_DARWIN_CODEX") {
        return PathBuf::from(p);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/codex-darwin");
    let bin = dir.join("package/vendor/aarch64-apple-darwin/bin/codex");
    if !bin.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let spec = format!("@openai/codex@{VERSION}-darwin-arm64");
        let packed = Command::new("npm")
            .args(["pack", "--silent", &spec])
            .current_dir(&dir)
            .output()
            .expect("npm is needed to fetch the Mac build of Codex for this test");
        assert!(
            packed.status.success(),
            "npm pack {spec} failed: {}",
            String::from_utf8_lossy(&packed.stderr)
        );
        let tarball = String::from_utf8_lossy(&packed.stdout).trim().to_string();
        let untar = Command::new("tar")
            .args([
                "xzf",
                &tarball,
                "package/vendor/aarch64-apple-darwin/bin/codex",
            ])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(untar.success(), "cannot unpack {tarball}");
        std::fs::remove_file(dir.join(&tarball)).unwrap();
    }
    bin
}

#[test]
fn the_mac_build_is_codex_with_its_version_under_any_name() {
    let bin = darwin_codex();
    let head = std::fs::read(&bin).map(|b| b[..4].to_vec()).unwrap();
    assert_eq!(
        head,
        0xfeed_facfu32.to_le_bytes(),
        "a thin 64-bit Mach-O file"
    );
    let build = codex_binary::of_path(&bin).expect("recognised as Codex or node");
    assert_eq!(build.kind, Executable::Codex);
    assert_eq!(build.version.as_deref(), Some(VERSION));

    // Under another name, as a user would hide it.
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("editor");
    std::fs::copy(&bin, &renamed).unwrap();
    assert_eq!(codex_binary::of_path(&renamed), Some(build));
}

#[test]
fn a_mach_o_file_without_codex_in_it_is_not_codex() {
    // Only its header and a string section: the search finds nothing of Codex or node.
    let bin = darwin_codex();
    let mut file = std::fs::read(&bin).unwrap();
    file.truncate(64 * 1024);
    let tmp = tempfile::tempdir().unwrap();
    let cut = tmp.path().join("cut");
    std::fs::write(&cut, &file).unwrap();
    assert_eq!(codex_binary::of_path(&cut), None);
}
