//! config.toml text → `parse_config` (and the same text as `NAME.config.toml`): every judged
//! setting as `toml` reads it, URLs redacted, nothing else of the file in the output.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The inventory hands the parser text; bytes that are not UTF-8 never reach it.
    if let Ok(text) = std::str::from_utf8(data) {
        codex_warden_fuzz::config::check(text);
    }
});
