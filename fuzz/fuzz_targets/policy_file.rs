//! Policy file bytes → `load_files`, through the real disk checks: UTF-8 text loads exactly as
//! `load_sources` loads it; any other file yields one `policy.not-utf8` error whose rendering
//! depends on the file's name and the position of the first bad byte only, never its bytes.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use codex_warden_fuzz::{api, policy};
use libfuzzer_sys::fuzz_target;

/// One scratch file per fuzzing process, rewritten for every input.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("codex-warden-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir.join("10-fuzz.toml")
    })
}

fn load(bytes: &[u8]) -> api::Loaded {
    let path = scratch();
    std::fs::write(path, bytes).expect("write the scratch file");
    api::load_paths(std::slice::from_ref(path))
}

fuzz_target!(|data: &[u8]| {
    let loaded = load(data);
    let name = scratch().display().to_string();
    match std::str::from_utf8(data) {
        Ok(text) => {
            policy::check_outcome(&loaded, text, &name);
            let pure = api::load_texts(&[(&name, text)]);
            assert_eq!(loaded.policy, pure.policy);
            assert_eq!(loaded.diagnostics, pure.diagnostics);
            assert_eq!(loaded.human, pure.human);
        }
        Err(e) => {
            let diagnostics = loaded.diagnostics.as_array().expect("a list");
            assert_eq!(diagnostics.len(), 1, "{}", loaded.human);
            assert_eq!(diagnostics[0]["code"], "policy.not-utf8");
            assert!(loaded.policy.is_none());
            // The same rendering as a file that shares only the name and the position of the
            // first bad byte: nothing of the file's own bytes is shown.
            let valid = &data[..e.valid_up_to()];
            let prefix = std::str::from_utf8(valid).expect("valid up to here");
            let (lines, last) = prefix
                .rsplit_once('\n')
                .map_or((0, prefix), |(head, last)| {
                    (head.matches('\n').count() + 1, last)
                });
            let mut stand_in = "\n".repeat(lines).into_bytes();
            stand_in.extend("x".repeat(last.chars().count()).bytes());
            stand_in.push(0xff);
            let other = load(&stand_in);
            assert_eq!(loaded.human, other.human);
            assert_eq!(loaded.diagnostics, other.diagnostics);
        }
    }
});
