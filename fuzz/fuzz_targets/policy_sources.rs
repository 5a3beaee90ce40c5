//! Policy text → `load_sources` with one drop-in: diagnostics inside the file, a policy iff no
//! error, a valid policy that loads the same when written back, fingerprint-list values and URL
//! credentials never quoted.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        codex_warden_fuzz::policy::check(text);
    }
});
