//! auth.json bytes → `parse_auth`: checked against an independent reading of the same JSON
//! (method, key kind and fingerprint, claims of every JWT, summary) and for secrets in any output.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| codex_warden_fuzz::auth::check(data));
