//! The differential harness (issue 25): generated command lines, environments, `.env` files,
//! config layers and base URLs, each given both to the agent's resolver
//! (`core::effective_session::resolve`) and to the real Codex CLI, 0.169.0 and 0.171.0
//! (`codex exec`, native binary, scratch `CODEX_HOME`), and any disagreement about the route,
//! the credential or a setting fails the test.
//!
//! What Codex really does is seen, not asked: every base URL of a case points at one of two
//! loopback listeners (the other is a decoy that a wrong parse would pick), and the first request
//! Codex makes is recorded (its `Host`, path, a SHA-256 of its bearer token, never the token, and
//! the `sandbox_mode` of its `x-codex-turn-metadata`); then Codex is killed. The agent agrees when
//!
//! - **route**: one of the base URLs it judges for the session is that host, port and path (less
//!   what Codex appends: `/responses`, or with `--oss` its probe `/models`, `/api/tags`), or it judged the URL that led there as one it cannot judge
//!   (`(not judged: …)`, which no allowed URL matches: fail closed, counted apart);
//! - **credential**: the bearer Codex sent is one of the credentials it found (same fingerprint);
//! - **setting**: the `sandbox_mode` it resolved (default `read-only`) is the one Codex ran with.
//!
//! A case where Codex sends nothing (it refused the config, or a variable was missing) has nothing
//! to compare and is counted; most cases must send something, or the harness proves nothing.
//! `/etc/codex/config.toml` and `managed_config.toml` are generated too (settings of the case
//! moved there, defaults a higher layer overrides, the project's trust, the sandbox): every
//! session runs in a mount namespace of its own whose `/etc` is an overlay with the case's
//! `/etc/codex` (root only; not root, none are generated), and the agent is given the files as
//! the session saw them, read through `/proc/PID/root`.
//!
//! Seeded (`CODEX_WARDEN_DIFF_SEED`, default fixed so CI is repeatable), `CODEX_WARDEN_DIFF_CASES`
//! cases (default 200, half per version); the case count, the seed and the run time are printed.
// The harness runs Linux builds of Codex, in mount namespaces of their own.
#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_warden::core::codex_version::CodexVersion;
use codex_warden::core::effective_session::{
    ConfigInput, EffectiveSession, FileContent, SessionInputs, resolve,
};
use codex_warden::core::observe::CredentialKind;
use sha2::Digest;

// ---- the generator --------------------------------------------------------------------------

/// xorshift64*: small, seeded, enough to spread cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn key(&mut self) -> String {
        format!("sk-proj-{:016x}{:08x}", self.next(), self.next() as u32)
    }
}

/// One generated session: what Codex is started with.
#[derive(Default)]
struct Case {
    /// How `-c` is spelled in this case: `-c KV`, `--config KV`, `--config=KV`, `-cKV`.
    c_form: usize,
    args: Vec<String>,
    env: Vec<(String, String)>,
    config: Option<String>,
    profile: Option<(String, String)>,
    /// A trusted project's `.codex/config.toml`; the session runs in that project.
    project: Option<String>,
    dotenv: Option<String>,
    /// `/etc/codex/config.toml` (system defaults, the lowest layer) and
    /// `/etc/codex/managed_config.toml` (the admin's, above the command line): top-level lines.
    system: Option<String>,
    managed: Option<String>,
    /// The project's trust is in the system layer, not the user's config.
    trust_in_system: bool,
    /// How it was built, for the failure message (symbolic: no key in it).
    story: Vec<String>,
}

/// Where a generated setting goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Argv,
    User,
    System,
    Managed,
}

impl Case {
    fn arg(&mut self, a: &str) {
        self.args.push(a.to_string());
    }
    fn c(&mut self, kv: String) {
        // `KEY = VALUE` with blanks around the `=`, now and then.
        let kv = match kv.split_once('=') {
            Some((k, v)) if self.c_form == 1 && !v.starts_with(' ') => format!("{k} = {v}"),
            _ => kv,
        };
        match self.c_form {
            0 => self.args.extend(["-c".to_string(), kv]),
            1 => self.args.extend(["--config".to_string(), kv]),
            2 => self.args.push(format!("--config={kv}")),
            _ => self.args.push(format!("-c{kv}")),
        }
    }
    fn config_line(&mut self, line: String) {
        let c = self.config.get_or_insert_with(String::new);
        c.push_str(&line);
        c.push('\n');
    }
    fn system_line(&mut self, line: String) {
        let c = self.system.get_or_insert_with(String::new);
        c.push_str(&line);
        c.push('\n');
    }
    fn managed_line(&mut self, line: String) {
        let c = self.managed.get_or_insert_with(String::new);
        c.push_str(&line);
        c.push('\n');
    }
    /// `key` set to `file_value` (TOML) in a file, or `argv_value` on the command line.
    fn put(&mut self, place: Place, key: &str, file_value: &str, argv_value: &str) {
        match place {
            Place::Argv => self.c(format!("{key}={argv_value}")),
            Place::User => self.config_line(format!("{key} = {file_value}")),
            Place::System => self.system_line(format!("{key} = {file_value}")),
            Place::Managed => self.managed_line(format!("{key} = {file_value}")),
        }
    }
    /// Whether a file of `place` already sets `key` (a key twice is a TOML error).
    fn sets(&self, place: Place, key: &str) -> bool {
        let text = match place {
            Place::System => &self.system,
            Place::Managed => &self.managed,
            Place::User => &self.config,
            Place::Argv => return false,
        };
        let prefix = format!("{key} =");
        text.as_deref()
            .is_some_and(|t| t.lines().any(|l| l.starts_with(&prefix)))
    }
}

/// Now and then a setting moves from its place to a system layer (`layers`: the harness can
/// give Codex its own /etc/codex).
fn moved(rng: &mut Rng, layers: bool, place: Place) -> Place {
    if !layers {
        return place;
    }
    match rng.below(100) {
        0..=14 => Place::System,
        15..=21 => Place::Managed,
        _ => place,
    }
}

/// A value of the system defaults that a higher layer of the case overrides: if Codex (or the
/// agent) took it, the request would reach the decoy `b` at `/sys…`.
fn system_decoy(rng: &mut Rng, case: &mut Case, layers: bool, key: &str, value: String) {
    if layers && rng.chance(25) && !case.sets(Place::System, key) {
        case.story.push(format!("system decoy {key}"));
        case.system_line(format!("{key} = {value}"));
    }
}

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A spelling of a URL to listener `a` (decoy `b`), and what the spelling is.
fn url_to(rng: &mut Rng, a: u16, b: u16) -> (String, &'static str) {
    let forms: [(&str, String); 14] = [
        ("plain", format!("http://127.0.0.1:{a}/v1")),
        (
            "backslash-at",
            format!("http://127.0.0.1:{a}\\@127.0.0.1:{b}/v1"),
        ),
        ("userinfo", format!("http://127.0.0.1:{b}@127.0.0.1:{a}/v1")),
        ("upper-dot-slash", format!("HTTP://127.0.0.1:{a}/./v1/")),
        ("no-slashes", format!("http:127.0.0.1:{a}/v1")),
        ("backslashes", format!("http:\\\\127.0.0.1:{a}\\v1")),
        ("hex-ipv4", format!("http://0x7f.0.0.1:{a}/v1")),
        ("short-ipv4", format!("http://127.1:{a}/v1")),
        ("padded", format!("  http://127.0.0.1:{a}/v1 ")),
        ("tab", format!("http://127.0.0.1:{a}/v\t1")),
        ("query", format!("http://127.0.0.1:{a}/v1?x=1")),
        ("other-path", format!("http://127.0.0.1:{a}/router/v2")),
        ("dot-dot", format!("http://127.0.0.1:{a}/x/../v1")),
        ("localhost", format!("http://localhost:{a}/v1")),
    ];
    let (name, url) = rng.pick(&forms);
    (url.clone(), name)
}

/// A `.env` line that sets `var` to `key` as dotenvy reads it (or, for some, does not), and its
/// name. `other` is a variable of the environment that holds `key` too.
fn dotenv_line(rng: &mut Rng, var: &str, key: &str, case: &mut Case) -> String {
    let (head, tail) = key.split_at(8);
    let forms = [
        "bare",
        "double",
        "single",
        "empty-quotes-first",
        "split-quotes",
        "export",
        "comment",
        "expand-braces",
        "expand-bare",
        "expand-quoted",
        "spaced-equals",
        "bom",
        "twice",
        "unclosed",
        "inner-blank",
    ];
    let form = *rng.pick(&forms);
    case.story.push(format!(".env form {form}"));
    match form {
        "bare" => format!("{var}={key}\n"),
        "double" => format!("{var}=\"{key}\"\n"),
        "single" => format!("{var}='{key}'\n"),
        "empty-quotes-first" => format!("{var}=\"\"{key}\n"),
        "split-quotes" => format!("{var}=\"{head}\"'{tail}'\n"),
        "export" => format!("export {var}={key}\n"),
        "comment" => format!("# {var}=nope\n{var}={key} # set\n"),
        "expand-braces" => {
            case.env.push(("SRCKEY".into(), key.into()));
            format!("{var}=${{SRCKEY}}\n")
        }
        "expand-bare" => {
            case.env.push(("SRCKEY".into(), key.into()));
            format!("{var}=$SRCKEY\n")
        }
        "expand-quoted" => {
            case.env.push(("SRCKEY".into(), key.into()));
            format!("{var}=\"$SRCKEY\"\n")
        }
        "spaced-equals" => format!("{var} = {key}\n"),
        "bom" => format!("\u{feff}{var}=sk-proj-bomline000000000\n{var}={key}\n"),
        "twice" => format!("{var}=sk-proj-firstline0000000\n{var}={key}\n"),
        "unclosed" => format!("{var}=\"{key}\n"),
        _ => format!("{var}={head} {tail}\n"),
    }
}

/// Sources the versions under test ignore or refuse, pointing at the decoy `b`: if Codex took
/// one, the request would reach `b` or carry a key the agent did not count.
fn decoys(rng: &mut Rng, b: u16, case: &mut Case) {
    let decoy_url = format!("http://127.0.0.1:{b}/decoy");
    if rng.chance(20) {
        case.story.push("OPENAI_BASE_URL decoy".into());
        case.env.push(("OPENAI_BASE_URL".into(), decoy_url.clone()));
    }
    if rng.chance(20) {
        case.story.push("OPENAI_API_KEY decoy".into());
        case.env.push(("OPENAI_API_KEY".into(), rng.key()));
    }
    if rng.chance(20) {
        case.story.push(".env decoys".into());
        let line = format!("CODEX_API_KEY={}\nOPENAI_BASE_URL={decoy_url}\n", rng.key());
        case.dotenv.get_or_insert_with(String::new).push_str(&line);
    }
}

fn generate(rng: &mut Rng, a: u16, b: u16, layers: bool) -> Case {
    let mut case = Case {
        c_form: rng.below(4),
        ..Case::default()
    };
    case.story.push(format!("-c form {}", case.c_form));
    case.arg("exec");
    case.arg("--skip-git-repo-check");
    if rng.chance(6) {
        // The user's config.toml is left out (the system layers stay: checked by hand).
        case.story.push("--ignore-user-config".into());
        case.arg("--ignore-user-config");
    }
    let key = rng.key();
    let (url, form) = url_to(rng, a, b);
    case.story.push(format!("url form {form}"));
    // A URL on the command line is sometimes left bare (not TOML: Codex takes the text), or a
    // TOML literal string.
    let spelling = rng.below(4);
    let argv_url = |u: &str| match spelling {
        0 if !u.contains(['"', ' ', '\t', '\\', '#']) => u.to_string(),
        1 if !u.contains(['\'', '\t']) => format!("'{u}'"),
        _ => toml_str(u),
    };
    if rng.chance(25) {
        // A trusted project: 0.169 and 0.171 ignore its route keys, honour the rest.
        let line = match rng.below(3) {
            0 => format!(
                "openai_base_url = {}",
                toml_str(&format!("http://127.0.0.1:{b}/project"))
            ),
            1 => "model_provider = \"lmstudio\"".to_string(),
            _ => "sandbox_mode = \"workspace-write\"".to_string(),
        };
        case.story.push(format!("project: {line}"));
        case.project = Some(format!("{line}\n"));
        if layers && rng.chance(30) {
            case.story.push("trust in the system layer".into());
            case.trust_in_system = true;
        }
    }
    decoys(rng, b, &mut case);
    let route = rng.below(3);
    match route {
        // The built-in provider, routed by `openai_base_url`, key from CODEX_API_KEY.
        0 => {
            case.story.push("openai_base_url".into());
            let place = moved(rng, layers, Place::User);
            match rng.below(3) {
                _ if place != Place::User => {
                    case.story.push(format!("openai_base_url in {place:?}"));
                    case.put(place, "openai_base_url", &toml_str(&url), "");
                }
                0 => case.c(format!("openai_base_url={}", argv_url(&url))),
                1 => case.config_line(format!("openai_base_url = {}", toml_str(&url))),
                _ => {
                    case.profile = Some((
                        "p".into(),
                        format!("openai_base_url = {}\n", toml_str(&url)),
                    ));
                    match rng.below(3) {
                        0 => case.args.extend(["--profile".into(), "p".into()]),
                        1 => case.args.extend(["-p".into(), "p".into()]),
                        _ => case.arg("--profile=p"),
                    }
                }
            }
            let decoy = toml_str(&format!("http://127.0.0.1:{b}/sys"));
            system_decoy(rng, &mut case, layers, "openai_base_url", decoy);
            if rng.chance(15) {
                // No CODEX_API_KEY: only OPENAI_API_KEY, which 0.169 and 0.171 do not use.
                case.story.push("OPENAI_API_KEY only".into());
                case.env.retain(|(k, _)| k != "OPENAI_API_KEY");
                case.env.push(("OPENAI_API_KEY".into(), key.clone()));
            } else {
                if rng.chance(10) {
                    // An empty first entry is what getenv returns: no key from the environment.
                    case.story.push("CODEX_API_KEY empty first".into());
                    case.env.push(("CODEX_API_KEY".into(), String::new()));
                }
                case.env.push(("CODEX_API_KEY".into(), key.clone()));
                if rng.chance(30) {
                    case.story.push("CODEX_API_KEY twice".into());
                    case.env.push(("CODEX_API_KEY".into(), rng.key()));
                }
            }
        }
        // A provider of the user's, its key from env_key (environment, .env, both) or a token.
        1 => {
            case.story.push("custom provider".into());
            let base = if rng.chance(40) {
                Place::Argv
            } else {
                Place::User
            };
            // Each key in the case's place, or now and then in a system layer.
            let set = |rng: &mut Rng, case: &mut Case, k: &str, v: String| {
                let place = moved(rng, layers, base);
                if place != base {
                    case.story.push(format!("{k} in {place:?}"));
                }
                case.put(place, k, &v, &v);
            };
            set(rng, &mut case, "model_provider", toml_str("x"));
            set(rng, &mut case, "model_providers.x.name", toml_str("x"));
            let place = moved(rng, layers, base);
            if place != base {
                case.story.push(format!("base_url in {place:?}"));
            }
            case.put(
                place,
                "model_providers.x.base_url",
                &toml_str(&url),
                &argv_url(&url),
            );
            let decoy = toml_str(&format!("http://127.0.0.1:{b}/sys"));
            system_decoy(rng, &mut case, layers, "model_providers.x.base_url", decoy);
            system_decoy(
                rng,
                &mut case,
                layers,
                "model_provider",
                toml_str("lmstudio"),
            );
            match rng.below(4) {
                0 => {
                    case.story.push("bearer token".into());
                    set(
                        rng,
                        &mut case,
                        "model_providers.x.experimental_bearer_token",
                        toml_str(&key),
                    );
                }
                1 => {
                    case.story.push("env_http_headers".into());
                    set(
                        rng,
                        &mut case,
                        "model_providers.x.env_http_headers",
                        "{ Authorization = \"HV\" }".into(),
                    );
                    case.env.push(("HV".into(), format!("Bearer {key}")));
                }
                _ => {
                    set(
                        rng,
                        &mut case,
                        "model_providers.x.env_key",
                        toml_str("MYKEY"),
                    );
                    let place = rng.below(4);
                    if place != 1 {
                        case.story.push("MYKEY in the environment".into());
                        let env_value = if place == 0 { key.clone() } else { rng.key() };
                        case.env.push(("MYKEY".into(), env_value));
                        if rng.chance(25) {
                            case.story.push("MYKEY twice".into());
                            case.env.push(("MYKEY".into(), rng.key()));
                        }
                    }
                    if place != 0 {
                        case.story.push("MYKEY in .env".into());
                        let line = dotenv_line(rng, "MYKEY", &key, &mut case);
                        case.dotenv.get_or_insert_with(String::new).push_str(&line);
                    }
                }
            }
        }
        // A built-in local provider, its URL from CODEX_OSS_BASE_URL or CODEX_OSS_PORT.
        _ => {
            let id = *rng.pick(&["lmstudio", "ollama"]);
            case.story.push(format!("built-in {id}"));
            match rng.below(3) {
                0 | 1 => {
                    let place = if rng.chance(50) {
                        Place::Argv
                    } else {
                        Place::User
                    };
                    let place = moved(rng, layers, place);
                    case.story.push(format!("model_provider in {place:?}"));
                    case.put(place, "model_provider", &toml_str(id), &toml_str(id));
                }
                _ => {
                    case.story.push("--oss".into());
                    case.args
                        .extend(["--oss".into(), "--local-provider".into(), id.into()]);
                }
            }
            if rng.chance(60) {
                case.story.push("CODEX_OSS_BASE_URL".into());
                case.env.push(("CODEX_OSS_BASE_URL".into(), url.clone()));
            } else {
                case.story.push("CODEX_OSS_PORT".into());
                case.env.push(("CODEX_OSS_PORT".into(), a.to_string()));
            }
            if rng.chance(30) {
                // A CODEX_ name in .env is refused by Codex: it must not count.
                case.dotenv
                    .get_or_insert_with(String::new)
                    .push_str(&format!("CODEX_OSS_PORT={b}\n"));
                case.story.push("CODEX_OSS_PORT in .env".into());
            }
            system_decoy(rng, &mut case, layers, "model_provider", toml_str("openai"));
        }
    }
    // A setting: the sandbox mode, from the command line or the config.
    // `--full-auto` is gone in 0.169 and 0.171 (Codex refuses it): rare, it proves little.
    if rng.chance(3) {
        case.arg("--full-auto");
    }
    match rng.below(5) {
        4 => case.arg("--dangerously-bypass-approvals-and-sandbox"),
        0 => {
            let mode = *rng.pick(&["read-only", "workspace-write", "danger-full-access"]);
            // Now and then a `-c sandbox_mode` too, before or after the flag.
            let other = *rng.pick(&["read-only", "workspace-write", "danger-full-access"]);
            let also = rng.below(5);
            if also == 0 {
                case.story.push("-c sandbox_mode, then -s".into());
                case.c(format!("sandbox_mode={}", toml_str(other)));
            }
            case.arg("-s");
            case.arg(mode);
            if also == 1 {
                case.story.push("-s, then -c sandbox_mode".into());
                case.c(format!("sandbox_mode={}", toml_str(other)));
            }
        }
        1 => {
            let mode = *rng.pick(&["read-only", "workspace-write"]);
            case.config_line(format!("sandbox_mode = {}", toml_str(mode)));
        }
        2 => {
            let mode = *rng.pick(&["workspace-write", "danger-full-access"]);
            case.c(format!("sandbox_mode={}", toml_str(mode)));
        }
        _ => {}
    }
    // The system layers' sandbox: the defaults under everything, the managed value over it all.
    let modes = ["read-only", "workspace-write", "danger-full-access"];
    if layers && rng.chance(15) {
        let mode = *rng.pick(&modes);
        case.story.push(format!("system sandbox_mode {mode}"));
        case.system_line(format!("sandbox_mode = {}", toml_str(mode)));
    }
    if layers && rng.chance(8) {
        let mode = *rng.pick(&modes);
        case.story.push(format!("managed sandbox_mode {mode}"));
        case.managed_line(format!("sandbox_mode = {}", toml_str(mode)));
    }
    case.arg("hi");
    case
}

// ---- what Codex does --------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct Seen {
    host: String,
    path: String,
    bearer_sha: Option<String>,
    /// The `Authorization` was `Basic …` (reqwest makes one of a URL's `user:password@`).
    basic: bool,
    sandbox_mode: Option<String>,
}

/// A loopback listener that records the head of each request and answers 401.
struct Listener {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    fn start() -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (into, stopped) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 1 << 20 {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                into.lock().unwrap().push(parse_head(&buf));
                let _ = conn.write_all(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Listener { port, seen, stop }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn parse_head(buf: &[u8]) -> Seen {
    let text = String::from_utf8_lossy(buf);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or_default()
        .to_string();
    let mut seen = Seen {
        path,
        ..Seen::default()
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "host" => seen.host = value.to_string(),
            "authorization" => {
                seen.basic = value.starts_with("Basic ");
                let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
                seen.bearer_sha = Some(sha256_hex(token));
            }
            "x-codex-turn-metadata" => {
                let meta: serde_json::Value = serde_json::from_str(value).unwrap_or_default();
                seen.sandbox_mode = meta["sandbox_mode"].as_str().map(str::to_string);
            }
            _ => {}
        }
    }
    seen
}

fn sha256_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The native binary of the npm install that `launcher` belongs to.
fn native_of(launcher: &Path) -> PathBuf {
    let root = launcher.ancestors().nth(2).unwrap().join("@openai");
    for pkg in std::fs::read_dir(&root).unwrap().flatten() {
        let vendor = pkg.path().join("vendor");
        let Ok(triples) = std::fs::read_dir(&vendor) else {
            continue;
        };
        for t in triples.flatten() {
            let bin = t.path().join("bin/codex");
            if bin.exists() {
                return bin;
            }
        }
    }
    panic!("no native codex under {}", root.display());
}

/// `python3 -c EXEC_WITH_BLOCK BIN K=V… -- ARGS…`: execve(BIN, [BIN, ARGS…], [K=V…]) with the
/// entries as given (CPython builds envp from the mapping's keys() and values()).
const EXEC_WITH_BLOCK: &str = r#"
import os, sys
class Block(dict):
    def __init__(self, kv): self.kv = kv
    def keys(self): return [k for k, _ in self.kv]
    def values(self): return [v for _, v in self.kv]
    def __len__(self): return len(self.kv)
end = sys.argv.index("--")
kv = [a.split("=", 1) for a in sys.argv[2:end]]
os.execve(sys.argv[1], [sys.argv[1]] + sys.argv[end + 1:], Block(kv))
"#;

/// The session's environment block: the scratch home's variables, then the case's.
fn environ_block(case: &Case, scratch: &Path) -> Vec<(String, String)> {
    let mut block = vec![
        ("PATH".to_string(), "/usr/bin:/bin".to_string()),
        ("HOME".to_string(), scratch.display().to_string()),
        (
            "CODEX_HOME".to_string(),
            scratch.join("codex-home").display().to_string(),
        ),
    ];
    block.extend(case.env.iter().cloned());
    block
}

/// Where the session runs: its project when it has one, else the scratch folder.
fn working_dir(case: &Case, scratch: &Path) -> PathBuf {
    if case.project.is_some() {
        scratch.join("proj")
    } else {
        scratch.to_path_buf()
    }
}

/// The user config as written: the case's, plus the project's trust when it has one.
fn user_config(case: &Case, scratch: &Path) -> Option<String> {
    let mut text = case.config.clone();
    if case.project.is_some() && !case.trust_in_system {
        let cwd = working_dir(case, scratch);
        let t = text.get_or_insert_with(String::new);
        t.push_str(&format!(
            "\n[projects.{}]\ntrust_level = \"trusted\"\n",
            toml_str(&cwd.display().to_string())
        ));
    }
    text
}

/// `/etc/codex/config.toml` as written: the case's lines, plus the project's trust when the
/// case puts it there.
fn system_config(case: &Case, scratch: &Path) -> Option<String> {
    let mut text = case.system.clone();
    if case.project.is_some() && case.trust_in_system {
        let cwd = working_dir(case, scratch);
        let t = text.get_or_insert_with(String::new);
        t.push_str(&format!(
            "\n[projects.{}]\ntrust_level = \"trusted\"\n",
            toml_str(&cwd.display().to_string())
        ));
    }
    text
}

/// Run `case` on `bin`: the first request it makes to `a` or `b`, or `None`.
fn run_codex(
    bin: &Path,
    scratch: &Path,
    case: &Case,
    a: &Listener,
    b: &Listener,
    private_etc: bool,
) -> Option<(Seen, SystemFiles)> {
    // The home is kept from case to case (Codex's first start in a home creates its databases:
    // 1.8 s against 0.4 s); each case's files are written, the others removed.
    let home = scratch.join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let cwd = working_dir(case, scratch);
    let place = |path: PathBuf, text: Option<String>| match text {
        Some(t) => {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        None => {
            let _ = std::fs::remove_file(path);
        }
    };
    place(home.join("config.toml"), user_config(case, scratch));
    place(
        home.join("p.config.toml"),
        case.profile.as_ref().map(|(_, t)| t.clone()),
    );
    place(home.join(".env"), case.dotenv.clone());
    place(
        scratch.join("proj/.codex/config.toml"),
        case.project.clone(),
    );
    // The session's own /etc/codex: an overlay of this folder on /etc in its mount namespace.
    let etc_top = scratch.join("etc-top");
    place(
        etc_top.join("codex/config.toml"),
        system_config(case, scratch),
    );
    place(
        etc_top.join("codex/managed_config.toml"),
        case.managed.clone(),
    );
    std::fs::create_dir_all(etc_top.join("codex")).unwrap();
    // The environment block exactly as generated, duplicates and order kept: std's Command
    // keeps one entry per name, so a block with duplicates is handed to execve by python.
    let block = environ_block(case, scratch);
    let names: std::collections::HashSet<&str> = block.iter().map(|(k, _)| k.as_str()).collect();
    let mut cmd;
    if names.len() < block.len() {
        cmd = Command::new("python3");
        cmd.arg("-c")
            .arg(EXEC_WITH_BLOCK)
            .arg(bin)
            .args(block.iter().map(|(k, v)| format!("{k}={v}")))
            .arg("--")
            .args(&case.args)
            .env_clear();
    } else {
        cmd = Command::new(bin);
        cmd.args(&case.args).env_clear().envs(block.iter().cloned());
    }
    cmd.current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if private_etc {
        private_etc_codex(&mut cmd, &etc_top);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let first = || {
        a.seen
            .lock()
            .unwrap()
            .first()
            .cloned()
            .or_else(|| b.seen.lock().unwrap().first().cloned())
    };
    let seen = loop {
        if let Some(s) = first() {
            break Some(s);
        }
        if child.try_wait().unwrap().is_some() || start.elapsed() > Duration::from_secs(10) {
            // A request may have landed between the look and the exit.
            std::thread::sleep(Duration::from_millis(50));
            break first();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The system files as the session sees them, read through its root (as the agent reads a
    // session in another mount namespace), while it still runs.
    let root = PathBuf::from(format!("/proc/{}/root/etc/codex", child.id()));
    let files = SystemFiles::read(&root);
    let _ = child.kill();
    let _ = child.wait();
    seen.map(|s| (s, files))
}

/// `/etc/codex/config.toml` and `managed_config.toml` as a session saw them: `None` when absent,
/// `Err` when its root could no longer be read (it had exited).
struct SystemFiles {
    system: Result<Option<String>, ()>,
    managed: Result<Option<String>, ()>,
}

impl SystemFiles {
    fn read(etc_codex: &Path) -> SystemFiles {
        let one = |name: &str| match std::fs::read_to_string(etc_codex.join(name)) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Absent, or the process (and with it its root) gone.
                if etc_codex.parent().is_some_and(|p| p.exists()) {
                    Ok(None)
                } else {
                    Err(())
                }
            }
            Err(_) => Err(()),
        };
        SystemFiles {
            system: one("config.toml"),
            managed: one("managed_config.toml"),
        }
    }
}

/// Run `cmd` in a mount namespace of its own whose `/etc` is `top` over the machine's `/etc`
/// (a read-only overlay: `top/codex/…` is the session's `/etc/codex`), so that no other test
/// sees the files. Root only.
fn private_etc_codex(cmd: &mut Command, top: &Path) {
    use std::ffi::CString;
    use std::os::unix::process::CommandExt;
    let opts = CString::new(format!("lowerdir={}:/etc", top.display())).unwrap();
    // SAFETY: between fork and exec only unshare(2) and mount(2) are called, on strings built
    // before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let fail = || Err(std::io::Error::last_os_error());
            if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return fail();
            }
            let none = std::ptr::null();
            if libc::mount(
                c"none".as_ptr(),
                c"/".as_ptr(),
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return fail();
            }
            if libc::mount(
                c"overlay".as_ptr(),
                c"/etc".as_ptr(),
                c"overlay".as_ptr(),
                libc::MS_RDONLY,
                opts.as_ptr().cast(),
            ) != 0
            {
                return fail();
            }
            Ok(())
        });
    }
}

// ---- what the agent says ----------------------------------------------------------------------

fn agent(case: &Case, version: CodexVersion, home: &Path, files: &SystemFiles) -> EffectiveSession {
    let file = |path: PathBuf, text: &str| ConfigInput {
        path,
        content: FileContent::Text(text.to_string()),
    };
    let block = environ_block(case, home.parent().unwrap());
    let inputs = SessionInputs {
        argv: std::iter::once("codex".to_string())
            .chain(case.args.iter().cloned())
            .collect(),
        environ: block,
        version: Some(version),
        user: user_config(case, home.parent().unwrap()).map(|c| file(home.join("config.toml"), &c)),
        projects: case
            .project
            .iter()
            .map(|p| {
                let cwd = working_dir(case, home.parent().unwrap());
                file(cwd.join(".codex/config.toml"), p)
            })
            .collect(),
        profile_file: case
            .profile
            .as_ref()
            .map(|(n, t)| file(home.join(format!("{n}.config.toml")), t)),
        env_file: case.dotenv.as_deref().map(|d| file(home.join(".env"), d)),
        // What the session saw through its root; the files written, when it was gone by then.
        system: files
            .system
            .clone()
            .unwrap_or_else(|()| system_config(case, home.parent().unwrap()))
            .map(|t| file(PathBuf::from("/etc/codex/config.toml"), &t)),
        managed: files
            .managed
            .clone()
            .unwrap_or_else(|()| case.managed.clone())
            .map(|t| file(PathBuf::from("/etc/codex/managed_config.toml"), &t)),
        // Only `codex exec`'s approval reads it, which the harness cannot compare (the
        // approval is not in the request): tests/exec_approval.rs does.
        requirements: None,
        cwd: Some(working_dir(case, home.parent().unwrap())),
    };
    resolve(&inputs)
}

/// Whether a judged base URL is where Codex went: the same host and port, and the path Codex
/// requested is the base's with Codex's own path appended (`/responses`, `/models`, …).
fn same_endpoint(judged: &str, seen: &Seen) -> bool {
    let Ok(u) = url::Url::parse(judged) else {
        return false;
    };
    let host = match u.port() {
        Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
        None => u.host_str().unwrap_or_default().to_string(),
    };
    let squash = |p: &str| {
        let mut out = String::new();
        for c in p.chars() {
            if !(c == '/' && out.ends_with('/')) {
                out.push(c);
            }
        }
        out.trim_end_matches('/').to_string()
    };
    // Codex appends its own paths to the base: `/responses`, and with `--oss` a probe first
    // (`/models`, `/api/tags`).
    let base = squash(u.path());
    let went = squash(seen.path.split('?').next().unwrap());
    host == seen.host
        && went
            .strip_prefix(&base)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
}

#[derive(Default)]
struct Tally {
    cases: usize,
    compared: usize,
    /// Compared cases with an /etc/codex layer.
    layered: usize,
    silent: usize,
    fail_closed: usize,
    disagreements: Vec<String>,
}

fn judge(case: &Case, version: CodexVersion, s: &EffectiveSession, seen: &Seen, t: &mut Tally) {
    t.compared += 1;
    let mut wrong = Vec::new();
    let urls: Vec<&str> = s.route.base_urls.iter().map(|u| u.value.as_str()).collect();
    if urls.iter().any(|u| same_endpoint(u, seen)) {
    } else if urls.iter().any(|u| u.contains("(not judged: ")) {
        t.fail_closed += 1;
    } else {
        wrong.push(format!(
            "route: Codex went to {}{}, the agent judged {urls:?}",
            seen.host, seen.path
        ));
    }
    let userinfo = urls
        .iter()
        .any(|u| u.contains("(not judged: it carries a user name or password)"));
    if let Some(sha) = seen
        .bearer_sha
        .as_ref()
        .filter(|_| !(seen.basic && userinfo))
    {
        let found = s.credentials.iter().any(|c| match &c.value.kind {
            CredentialKind::ApiKey { key: Some(k) } => &k.fingerprint == sha,
            _ => false,
        });
        if !found {
            let keys: Vec<&str> = s.credentials.iter().map(|c| c.key.as_str()).collect();
            wrong.push(format!(
                "credential: Codex sent a bearer (sha256 {}) the agent did not find (it found {keys:?})",
                &sha[..12]
            ));
        }
    }
    let mode = s.config.str("sandbox_mode").unwrap_or("read-only");
    if let Some(seen_mode) = &seen.sandbox_mode
        && seen_mode != mode
    {
        wrong.push(format!(
            "setting: Codex ran sandbox_mode {seen_mode}, the agent resolved {mode}"
        ));
    }
    if !wrong.is_empty() {
        t.disagreements.push(format!(
            "{version} {:?}\n    {}\n    {}",
            case.story,
            redact_args(&case.args),
            wrong.join("\n    ")
        ));
    }
}

/// The command line with the generated keys taken out.
fn redact_args(args: &[String]) -> String {
    args.iter()
        .map(|a| match a.find("sk-proj-") {
            Some(i) => format!("{}sk-proj-…", &a[..i]),
            None => a.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_agent_reads_sessions_as_codex_does() {
    let versions = [
        (
            CodexVersion::new(0, 169, 0),
            native_of(&support::codex_bin_version("0.169.0")),
        ),
        (
            CodexVersion::new(0, 171, 0),
            native_of(&support::codex_bin_version("0.171.0")),
        ),
    ];
    let seed: u64 = std::env::var("CODEX_WARDEN_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2025);
    let cases: usize = std::env::var("CODEX_WARDEN_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let workers = 4;
    let private_etc = private_etc_works();
    let started = Instant::now();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let versions = Arc::new(versions);
    let mut handles = Vec::new();
    for w in 0..workers {
        let (tally, versions) = (tally.clone(), versions.clone());
        handles.push(std::thread::spawn(move || {
            let scratch_root = tempfile_dir(&format!("diff-{seed}-{w}"));
            for i in (w..cases).step_by(workers) {
                let (version, bin) = &versions[i % versions.len()];
                let (a, b) = (Listener::start(), Listener::start());
                // Each case its own stream, so a case is the same whatever the worker count.
                let mut rng = Rng(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                rng.next();
                let case = generate(&mut rng, a.port, b.port, private_etc);
                let scratch = scratch_root.join(version.to_string());
                std::fs::create_dir_all(&scratch).unwrap();
                let seen = run_codex(bin, &scratch, &case, &a, &b, private_etc);
                let mut t = tally.lock().unwrap();
                t.cases += 1;
                match seen {
                    Some((seen, files)) => {
                        let s = agent(&case, *version, &scratch.join("codex-home"), &files);
                        if case.system.is_some() || case.managed.is_some() || case.trust_in_system {
                            t.layered += 1;
                        }
                        judge(&case, *version, &s, &seen, &mut t)
                    }
                    None => {
                        t.silent += 1;
                        if std::env::var_os("CODEX_WARDEN_DIFF_VERBOSE").is_some() {
                            eprintln!(
                                "no request: {version} {:?} {}",
                                case.story,
                                redact_args(&case.args)
                            );
                        }
                    }
                }
                drop(t);
            }
            let _ = std::fs::remove_dir_all(&scratch_root);
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let t = tally.lock().unwrap();
    eprintln!(
        "differential: {} cases (seed {seed}, Codex 0.169.0 and 0.171.0), {} compared ({} with \
         /etc/codex layers{}), {} fail closed, {} with no request, {} disagreements, in {:.1} s",
        t.cases,
        t.compared,
        t.layered,
        if private_etc {
            ""
        } else {
            ": none generated, not root"
        },
        t.fail_closed,
        t.silent,
        t.disagreements.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        t.disagreements.is_empty(),
        "the agent and Codex disagree:\n{}",
        t.disagreements.join("\n")
    );
    assert_eq!(t.cases, cases);
    assert!(
        t.compared * 2 > t.cases,
        "too few cases reached a listener ({} of {}): the harness proves nothing",
        t.compared,
        t.cases
    );
}

/// Whether sessions can be given an /etc/codex of their own (root, mount namespaces, overlayfs).
fn private_etc_works() -> bool {
    if !support::is_root() {
        eprintln!("SKIP the /etc/codex layers: not root");
        return false;
    }
    let top = tempfile_dir("diff-etc-probe");
    std::fs::create_dir_all(top.join("codex")).unwrap();
    std::fs::write(top.join("codex/probe"), "seen").unwrap();
    let mut cmd = Command::new("cat");
    cmd.arg("/etc/codex/probe");
    private_etc_codex(&mut cmd, &top);
    let ok = cmd
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout == b"seen");
    let _ = std::fs::remove_dir_all(&top);
    if !ok {
        eprintln!("SKIP the /etc/codex layers: no private mount namespace here");
    }
    ok
}

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("codex-warden-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
