//! Sessions judged on what Codex really uses (issue 14): one test per attack row, each with the
//! real Codex CLI as an unprivileged user and a loopback listener standing in for a third-party
//! router.
//!
//! Every row runs twice on the same scratch machine. First without the agent: the session,
//! `codex exec -` with its prompt on stdin, is let go and must reach the router (the attack is
//! real on this CLI version). Then with the agent running first: the same session waits on its
//! stdin (Codex sends nothing before it has a prompt), the agent must stop it, the router must
//! have received nothing, and the audit record must name the rule and the layer, never the
//! secret.

mod support;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use support::*;

/// Only ChatGPT login, provider `openai`, base URL `https://api.openai.com/v1`.
fn policy(extra: &str) -> String {
    format!(
        "{CHATGPT_ONLY}\n[config]\nallowed_model_providers = [\"openai\"]\n\
         allowed_base_urls = [\"https://api.openai.com/v1\"]\n{extra}\n\
         [enforce]\nterminate_grace = \"2s\"\n"
    )
}

fn machine(user: &str) -> Machine {
    use_uids_from(43_000);
    Machine::new(&[user])
}

fn wait_exit(child: &mut Child, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// One attack row.
struct Row<'a> {
    user: &'a str,
    /// Codex home (default: the user's `~/.codex`).
    home: Option<PathBuf>,
    /// `{URL}` and `{PORT}` are replaced by the router's.
    args: Vec<&'a str>,
    env: Vec<(&'a str, &'a str)>,
    /// Text that must reach the router without the agent (the key), and never show with it.
    secret: &'a str,
    rule: &'a str,
    /// What the evidence must name (key and layer).
    evidence: &'a str,
    version: &'a str,
    /// Skip the run without the agent (the attack needs what this machine lacks, e.g. a keyring).
    no_control: bool,
}

impl<'a> Row<'a> {
    fn new(user: &'a str, rule: &'a str, evidence: &'a str) -> Row<'a> {
        Row {
            user,
            home: None,
            args: Vec::new(),
            env: Vec::new(),
            secret: "",
            rule,
            evidence,
            version: CODEX_VERSION,
            no_control: false,
        }
    }
}

/// Give a waiting `codex exec -` its prompt: it starts talking to its route.
fn prompt(child: &mut Child) {
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"say hi\n").unwrap();
}

fn fill(text: &str, router: &Router) -> String {
    text.replace("{URL}", &router.url())
        .replace("{PORT}", &router.port.to_string())
}

fn start(m: &Machine, row: &Row, router: &Router) -> Child {
    let home = row.home.clone().unwrap_or_else(|| m.codex_home(row.user));
    let args: Vec<String> = row.args.iter().map(|a| fill(a, router)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(String, String)> = row
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), fill(v, router)))
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let bin = codex_bin_version(row.version);
    m.codex_exec_waiting(&bin, row.user, &home, &args, &env, None)
}

/// Run `row`: the attack reaches the router without the agent, and is stopped before it sends
/// anything with it. Returns the session's violation record.
fn attack(m: &Machine, row: Row) -> serde_json::Value {
    m.policy("10-corp.toml", &policy(""));
    if !row.no_control {
        let router = Router::start();
        let mut free = start(m, &row, &router);
        prompt(&mut free);
        wait_for("the attack to reach the router without the agent", || {
            router.count() > 0
        });
        let _ = free.kill();
        let _ = free.wait();
        assert!(
            row.secret.is_empty() || router.saw(row.secret),
            "the router did not receive the key"
        );
    }
    let router = Router::start();
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut session = start(m, &row, &router);
    assert!(
        wait_exit(&mut session, PATIENCE),
        "the session was not stopped"
    );
    let v = m.wait_event("violation", |r| r["pid"].is_u64());
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    assert_eq!(router.count(), 0, "the router was reached");
    let rules: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(rules.contains(&row.rule), "{v}");
    let evidence = v["evidence"].to_string();
    assert!(evidence.contains(row.evidence), "{evidence}");
    if !row.secret.is_empty() {
        let status = m.run(&["status", "--json"]);
        for text in [
            std::fs::read_to_string(m.audit_log()).unwrap(),
            agent.stderr_text(),
            stdout(&status),
            std::fs::read_to_string(m.state_dir().join("status.json")).unwrap_or_default(),
        ] {
            assert!(!text.contains(row.secret), "secret leaked: {text}");
        }
    }
    drop(agent);
    v
}

const ROUTER_PROVIDER: &str = "model_provider = \"x\"\n[model_providers.x]\nname = \"X\"\n\
                               base_url = \"{URL}\"\n";

#[test]
fn argv_provider_base_url_and_env_key_are_judged() {
    let m = machine("ava");
    let mut row = Row::new(
        "ava",
        "config.base-url",
        "model_providers.x.base_url (argv)",
    );
    row.args = vec![
        "-c",
        "model_provider=x",
        "-c",
        "model_providers.x.name=X",
        "-c",
        "model_providers.x.base_url={URL}",
        "-c",
        "model_providers.x.env_key=MYKEY",
    ];
    row.env = vec![("MYKEY", "sk-proj-ARGVENVKEY1")];
    row.secret = "sk-proj-ARGVENVKEY1";
    let v = attack(&m, row);
    let e = v["evidence"].to_string();
    assert!(e.contains("model_provider (argv)"), "{e}");
    assert!(e.contains("MYKEY (env)"), "{e}");
}

#[test]
fn argv_experimental_bearer_token_is_judged() {
    let m = machine("ben");
    let mut row = Row::new(
        "ben",
        "login.method",
        "model_providers.x.experimental_bearer_token (argv)",
    );
    row.args = vec![
        "-c",
        "model_provider=x",
        "-c",
        "model_providers.x.name=X",
        "-c",
        "model_providers.x.base_url={URL}",
        "-c",
        "model_providers.x.experimental_bearer_token=sk-proj-ARGVBEARER2",
    ];
    row.secret = "sk-proj-ARGVBEARER2";
    attack(&m, row);
}

#[test]
fn argv_openai_base_url_is_judged() {
    let m = machine("cleo");
    let mut row = Row::new("cleo", "config.base-url", "openai_base_url (argv)");
    row.args = vec!["-c", "openai_base_url={URL}"];
    row.env = vec![("CODEX_API_KEY", "sk-proj-OPENAIURL3")];
    row.secret = "sk-proj-OPENAIURL3";
    attack(&m, row);
}

#[test]
fn oss_with_a_local_provider_is_judged() {
    let m = machine("dan");
    let mut row = Row::new("dan", "config.model-provider", "model_provider (argv)");
    row.args = vec!["--oss", "--local-provider", "ollama", "-m", "m1"];
    row.env = vec![("CODEX_OSS_PORT", "{PORT}")];
    let v = attack(&m, row);
    assert!(v["evidence"].to_string().contains("CODEX_OSS_PORT (env)"));
}

#[test]
fn argv_keyring_store_is_judged() {
    let m = machine("eve");
    let mut row = Row::new(
        "eve",
        "config.credential-store",
        "cli_auth_credentials_store (argv)",
    );
    row.args = vec!["-c", "cli_auth_credentials_store=\"keyring\""];
    // No keyring service here: the attack cannot be shown working without the agent.
    row.no_control = true;
    m.policy(
        "10-corp.toml",
        &policy("allowed_credential_stores = [\"file\"]"),
    );
    // `attack` writes the common policy: this row needs the store rule too.
    let router = Router::start();
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut session = start(&m, &row, &router);
    assert!(wait_exit(&mut session, PATIENCE), "not stopped");
    let v = m.wait_event("violation", |r| r["pid"].is_u64());
    assert_eq!(v["rules"], serde_json::json!(["config.credential-store"]));
    assert!(v["evidence"].to_string().contains(row.evidence), "{v}");
    assert_eq!(router.count(), 0);
    drop(agent);
}

#[test]
fn a_symlinked_config_is_read_as_its_user_would() {
    let m = machine("fay");
    let real = m.path("home/fay/dotfiles/codex.toml");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    chown(real.parent().unwrap(), m.uid("fay"));
    let mut row = Row::new("fay", "config.base-url", ".codex/config.toml)");
    row.env = vec![("MYKEY", "sk-proj-SYMLINKED4")];
    row.secret = "sk-proj-SYMLINKED4";
    // The route is written per run: the router's port changes.
    let link = m.codex_home("fay").join("config.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    rustix::fs::chownat(
        rustix::fs::CWD,
        &link,
        Some(rustix::process::Uid::from_raw(m.uid("fay"))),
        Some(rustix::process::Gid::from_raw(m.uid("fay"))),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
    routed_config_row(&m, row, &real, "env_key = \"MYKEY\"\n", "");
}

#[test]
fn a_config_over_one_mebibyte_is_judged() {
    let m = machine("gus");
    let mut row = Row::new("gus", "config.base-url", ".codex/config.toml)");
    row.env = vec![("MYKEY", "sk-proj-PADDED5")];
    row.secret = "sk-proj-PADDED5";
    let path = m.codex_home("gus").join("config.toml");
    let padding = format!("# {}\n", "x".repeat(1536 * 1024));
    routed_config_row(&m, row, &path, "env_key = \"MYKEY\"\n", &padding);
}

#[test]
fn a_bearer_token_in_config_is_judged() {
    let m = machine("hal");
    let mut row = Row::new(
        "hal",
        "login.method",
        "model_providers.x.experimental_bearer_token (config:",
    );
    row.secret = "sk-proj-CFGBEARER6";
    let path = m.codex_home("hal").join("config.toml");
    routed_config_row(
        &m,
        row,
        &path,
        "experimental_bearer_token = \"sk-proj-CFGBEARER6\"\n",
        "",
    );
}

#[test]
fn an_authorization_header_in_config_is_judged() {
    let m = machine("ida");
    let mut row = Row::new(
        "ida",
        "login.method",
        "model_providers.x.http_headers.Authorization (config:",
    );
    row.secret = "sk-proj-CFGHEADER7";
    let path = m.codex_home("ida").join("config.toml");
    routed_config_row(
        &m,
        row,
        &path,
        "http_headers = { Authorization = \"Bearer sk-proj-CFGHEADER7\" }\n",
        "",
    );
}

#[test]
fn an_authorization_header_from_the_environment_is_judged() {
    let m = machine("jon");
    let mut row = Row::new(
        "jon",
        "env.credential",
        "model_providers.x.env_http_headers.Authorization → HV (env)",
    );
    row.env = vec![("HV", "Bearer sk-proj-ENVHEADER8")];
    row.secret = "sk-proj-ENVHEADER8";
    let path = m.codex_home("jon").join("config.toml");
    routed_config_row(
        &m,
        row,
        &path,
        "env_http_headers = { Authorization = \"HV\" }\n",
        "",
    );
}

#[test]
fn an_env_key_from_the_codex_home_env_file_is_judged() {
    let m = machine("kim");
    let mut row = Row::new("kim", "env.credential", "MYKEY (env-file:");
    row.secret = "sk-proj-DOTENV9";
    let env_file = m.codex_home("kim").join(".env");
    std::fs::write(&env_file, "MYKEY=sk-proj-DOTENV9\n").unwrap();
    chown(&env_file, m.uid("kim"));
    let path = m.codex_home("kim").join("config.toml");
    routed_config_row(&m, row, &path, "env_key = \"MYKEY\"\n", "");
}

/// Issue 25: `KEY=""sk-…` in `.env` is the key to Codex (dotenvy concatenates adjacent quoted
/// pieces); the agent's old reader took the empty first piece and saw no key.
#[test]
fn an_env_key_after_empty_quotes_in_the_env_file_is_judged() {
    let m = machine("kit");
    let mut row = Row::new("kit", "env.credential", "MYKEY (env-file:");
    row.secret = "sk-proj-DOTENVQUOTES9";
    let env_file = m.codex_home("kit").join(".env");
    std::fs::write(&env_file, "MYKEY=\"\"sk-proj-DOTENVQUOTES9\n").unwrap();
    chown(&env_file, m.uid("kit"));
    let path = m.codex_home("kit").join("config.toml");
    routed_config_row(&m, row, &path, "env_key = \"MYKEY\"\n", "");
}

/// Issue 25: `http://HOST\@api.openai.com/v1` connects to HOST (WHATWG: a `\` ends the
/// authority); the agent's old redaction-based reading said api.openai.com, which the policy
/// allows. The URL's own finding (`config.base-url`) names it.
#[test]
fn a_base_url_with_a_backslash_before_the_at_is_judged_where_codex_connects() {
    let m = machine("lou");
    let mut row = Row::new("lou", "config.base-url", "openai_base_url (argv)");
    row.args = vec![
        "-c",
        "openai_base_url=\"http://127.0.0.1:{PORT}\\\\@api.openai.com/v1\"",
    ];
    row.env = vec![("CODEX_API_KEY", "sk-proj-BACKSLASHAT7")];
    row.secret = "sk-proj-BACKSLASHAT7";
    let v = attack(&m, row);
    let evidence = v["evidence"].to_string();
    assert!(evidence.contains("127.0.0.1"), "{evidence}");
}

/// A row whose route is in a config file at `path`: `model_provider = "x"` with the router's URL
/// and `provider_extra` in its table, after `padding`.
fn routed_config_row(m: &Machine, row: Row, path: &Path, provider_extra: &str, padding: &str) {
    // The router of each run is new: the file is rewritten before each.
    struct Rewrite<'a> {
        path: &'a Path,
        uid: u32,
        extra: &'a str,
        padding: &'a str,
    }
    impl Rewrite<'_> {
        fn to(&self, router: &Router) {
            let text = format!(
                "{}{}{}",
                self.padding,
                fill(ROUTER_PROVIDER, router),
                self.extra
            );
            std::fs::write(self.path, text).unwrap();
            chown(self.path, self.uid);
        }
    }
    let rw = Rewrite {
        path,
        uid: m.uid(row.user),
        extra: provider_extra,
        padding,
    };
    m.policy("10-corp.toml", &policy(""));
    // Without the agent: the route and the key reach the router.
    let router = Router::start();
    rw.to(&router);
    let mut free = start(m, &row, &router);
    prompt(&mut free);
    wait_for("the attack to reach the router without the agent", || {
        router.count() > 0
    });
    let _ = free.kill();
    let _ = free.wait();
    assert!(router.saw(row.secret), "the router did not receive the key");
    // With the agent: stopped before it sends anything.
    let router = Router::start();
    rw.to(&router);
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut session = start(m, &row, &router);
    assert!(
        wait_exit(&mut session, PATIENCE),
        "the session was not stopped"
    );
    let v = m.wait_event("violation", |r| r["pid"].is_u64());
    assert_eq!(router.count(), 0, "the router was reached");
    let rules = v["rules"].to_string();
    assert!(rules.contains(row.rule), "{v}");
    let evidence = v["evidence"].to_string();
    assert!(evidence.contains(row.evidence), "{evidence}");
    let status = m.run(&["status", "--json"]);
    for text in [
        std::fs::read_to_string(m.audit_log()).unwrap(),
        agent.stderr_text(),
        stdout(&status),
    ] {
        assert!(!text.contains(row.secret), "secret leaked: {text}");
    }
    drop(agent);
}

#[test]
fn a_codex_home_in_a_root_owned_sticky_dir_still_has_its_environment_judged() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: needs root (a root-owned directory)");
        return;
    }
    let m = machine("lea");
    let shared = m.path("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(
        &shared,
        std::os::unix::fs::PermissionsExt::from_mode(0o1777),
    )
    .unwrap();
    let mut row = Row::new("lea", "env.credential", "CODEX_API_KEY (env)");
    row.home = Some(shared);
    row.args = vec!["-c", "openai_base_url={URL}"];
    row.env = vec![("CODEX_API_KEY", "sk-proj-STICKY10")];
    row.secret = "sk-proj-STICKY10";
    let v = attack(&m, row);
    assert!(
        v["unjudged"].to_string().contains("belongs to uid 0"),
        "{v}"
    );
}

/// The version table, on the releases around the pinned one: 0.100.0 honours `OPENAI_BASE_URL`,
/// 0.171.0 does not (but honours `openai_base_url`).
#[test]
fn openai_base_url_in_the_environment_counts_on_0_100_only() {
    let m = machine("max");
    let mut row = Row::new("max", "config.base-url", "OPENAI_BASE_URL (env)");
    row.version = "0.100.0";
    row.env = vec![
        ("CODEX_API_KEY", "sk-proj-OLDVERSION11"),
        ("OPENAI_BASE_URL", "{URL}"),
    ];
    row.secret = "sk-proj-OLDVERSION11";
    let v = attack(&m, row);
    assert_eq!(v["codex_version"], "0.100.0", "{v}");
}

#[test]
fn on_0_171_openai_base_url_counts_from_argv_not_from_the_environment() {
    let m = machine("ned");
    let mut row = Row::new("ned", "config.base-url", "openai_base_url (argv)");
    row.version = "0.171.0";
    row.args = vec!["-c", "openai_base_url={URL}"];
    row.env = vec![("CODEX_API_KEY", "sk-proj-NEWVERSION12")];
    row.secret = "sk-proj-NEWVERSION12";
    let v = attack(&m, row);
    assert_eq!(v["codex_version"], "0.171.0", "{v}");
    // OPENAI_BASE_URL alone: 0.171 ignores it, and so does the agent (the key is still judged).
    let router = Router::start();
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let bin = codex_bin_version("0.171.0");
    let url = router.url();
    let mut s = m.codex_exec_waiting(
        &bin,
        "ned",
        &m.codex_home("ned"),
        &[],
        &[
            ("CODEX_API_KEY", "sk-proj-NEWVERSION12"),
            ("OPENAI_BASE_URL", &url),
        ],
        None,
    );
    assert!(wait_exit(&mut s, PATIENCE), "not stopped");
    let last = m.events("violation").pop().unwrap();
    assert_eq!(
        last["rules"],
        serde_json::json!(["env.credential"]),
        "{last}"
    );
    assert!(!last["evidence"].to_string().contains("OPENAI_BASE_URL"));
    drop(agent);
}

/// `check` and the agent's home scan read what Codex reads: a config.toml that is a symlink to
/// the user's own file, or one past the 1 MiB the agent reads as root, is read as its user and
/// judged on what it says, never passed unread; one past the 4 MiB cap is unjudged.
#[test]
fn check_judges_a_linked_or_large_config_as_its_user_reads_it() {
    linked_or_large_config_is_judged("ola", false);
}

/// The same under the packaged unit's seccomp filter, which refuses `openat2(2)`: the agent
/// walks the path itself with the same guarantees (issue 22: before, every such read failed).
#[test]
fn check_judges_a_linked_config_as_its_user_reads_it_without_openat2() {
    linked_or_large_config_is_judged("olb", true);
}

fn linked_or_large_config_is_judged(user: &'static str, refuse_openat2: bool) {
    let m = machine(user);
    if refuse_openat2 {
        m.refuse_openat2();
    }
    m.policy("10-corp.toml", &policy(""));
    let route = "model_provider = \"corp\"\n[model_providers.corp]\n\
                 base_url = \"http://198.51.100.4:8/v1\"\n";
    let dotfiles = m.path(&format!("home/{user}/dotfiles"));
    std::fs::create_dir_all(&dotfiles).unwrap();
    let real = dotfiles.join("codex.toml");
    std::fs::write(&real, route).unwrap();
    chown(&dotfiles, m.uid(user));
    chown(&real, m.uid(user));
    let link = m.codex_home(user).join("config.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    chown(&link, m.uid(user));
    let judged = |what: &str| {
        let out = m.run(&["check", "--json"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{what}: {text}");
        assert!(text.contains("config.base-url"), "{what}: {text}");
        assert!(text.contains("config.model-provider"), "{what}: {text}");
        assert!(!text.contains("could not be judged"), "{what}: {text}");
        assert!(text.contains("corp"), "{what}: {text}");
    };
    judged("a symlink to the user's own file");

    std::fs::remove_file(&link).unwrap();
    let padding = format!("# {}\n", "x".repeat(1536 * 1024));
    std::fs::write(&link, format!("{padding}{route}")).unwrap();
    chown(&link, m.uid(user));
    judged("a config.toml past 1 MiB");

    // The same file, compliant: the home passes, so it was really read.
    std::fs::write(&link, format!("{padding}model = \"o3\"\n")).unwrap();
    let out = m.run(&["check", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Past the 4 MiB cap (issue 25: a 60 MiB config rewritten in a loop drove the agent to
    // gigabytes): the same compliant content is not read at all, and is unjudged, never passed.
    let huge = format!("# {}\n", "x".repeat(5 << 20));
    std::fs::write(&link, format!("{huge}model = \"o3\"\n")).unwrap();
    let out = m.run(&["check", "--json"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("could not be judged"), "{text}");
    assert!(text.contains("over the 4 MiB cap"), "{text}");
}

/// A config.toml that is a symlink into a directory only root can read: Codex, as its user,
/// cannot read it either and refuses to start. The agent (root) never reads it in the user's
/// place: no byte of the file reaches `check`, status or the audit trail, and the home is not
/// compliant (its `[config]` rules are unjudged, never passed).
#[test]
fn a_symlink_into_a_place_only_root_can_read_is_never_read_as_root() {
    link_into_root_only_place_is_never_read("pat", false);
}

/// The same with `openat2(2)` refused, as under the packaged unit: the walk that replaces it
/// checks each step with the user's credentials, so the root-only file stays unread.
#[test]
fn a_symlink_into_a_place_only_root_can_read_is_never_read_as_root_without_openat2() {
    link_into_root_only_place_is_never_read("pau", true);
}

fn link_into_root_only_place_is_never_read(user: &'static str, refuse_openat2: bool) {
    use std::os::unix::fs::PermissionsExt;
    let m = machine(user);
    if refuse_openat2 {
        m.refuse_openat2();
    }
    m.policy("10-corp.toml", &policy(""));
    let vault = m.path("rootonly");
    std::fs::create_dir_all(&vault).unwrap();
    std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o700)).unwrap();
    let target = vault.join("config.toml");
    std::fs::write(
        &target,
        "model_provider = \"hidden\"\n[model_providers.hidden]\n\
         base_url = \"http://203.0.113.9:7/v1\"\nexperimental_bearer_token = \"sk-proj-ROOTONLY7\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = m.codex_home(user).join("config.toml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    rustix::fs::chownat(
        rustix::fs::CWD,
        &link,
        Some(rustix::process::Uid::from_raw(m.uid(user))),
        Some(rustix::process::Gid::from_raw(m.uid(user))),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
    let hidden = ["ROOTONLY7", "203.0.113.9", "hidden"];

    if rustix::process::geteuid().is_root() {
        let codex = m.codex_as(user, &["exec", "--skip-git-repo-check", "hi"], None);
        let said = format!("{}{}", stdout(&codex), stderr(&codex));
        assert!(!codex.status.success(), "{said}");
        assert!(said.contains("Permission denied"), "{said}");
    }

    let check = m.run(&["check", "--json"]);
    let text = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{text}");
    assert!(text.contains("could not be judged"), "{text}");

    let agent = m.start_agent();
    m.wait_event("violation", |r| {
        r["codex_home"]
            .as_str()
            .is_some_and(|h| h.contains(&format!("home/{user}")))
    });
    let status = stdout(&m.run(&["status", "--json"]));
    let audit = std::fs::read_to_string(m.audit_log()).unwrap();
    drop(agent);
    for shown in [&text, &status, &audit] {
        for word in hidden {
            assert!(!shown.contains(word), "{word} shown: {shown}");
        }
    }
    assert!(target.exists(), "the root-only file was touched");
}

/// A home only root owns, shared and world-writable (mode 1777, found by a `[scope] homes`
/// glob): a user plants `config.toml` there as a link to a file only root can read. The agent
/// never reads it, neither as root (the home's owner) nor as the user (not their home): the home
/// is unjudged, and no byte of the file is shown.
#[test]
fn a_link_planted_in_a_shared_root_owned_home_is_never_read() {
    use std::os::unix::fs::PermissionsExt;
    let m = machine("quin");
    let shared = m.path("srv/shared/.codex");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let scope = format!(
        "[scope]\nmin_uid = 0\nhomes = [\"{}/*/.codex\"]\n",
        m.path("srv").display()
    );
    m.policy(
        "10-corp.toml",
        &policy("").replace("[scope]\nmin_uid = 0\n", &scope),
    );
    let hidden_dir = m.path("rootonly");
    std::fs::create_dir_all(&hidden_dir).unwrap();
    std::fs::set_permissions(&hidden_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let target = hidden_dir.join("shadow");
    std::fs::write(&target, "model_provider = \"SHADOWLINE\"\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = shared.join("config.toml");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    chown(&link, m.uid("quin"));

    let check = m.run(&["check", "--json"]);
    let text = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{text}");
    assert!(text.contains("srv/shared/.codex"), "{text}");
    assert!(text.contains("could not be judged"), "{text}");
    assert!(!text.contains("SHADOWLINE"), "{text}");
}

/// Under the packaged unit's seccomp filter (`openat2(2)` refused, as `RestrictSUIDSGID=yes`
/// does), with a policy of `[login]` and `[config]` keys: a compliant ChatGPT session, whose
/// config layers the agent must read as its user, lives on with no record; its twin, whose
/// config.toml links to a route of the user's, is stopped. Before issue 22 both were stopped.
#[test]
fn without_openat2_a_compliant_session_lives_and_its_routed_twin_is_stopped() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("SKIP: needs root to run the sessions as unprivileged test users");
        return;
    }
    use_uids_from(43_500);
    let m = Machine::new(&["ivy", "ian"]);
    m.refuse_openat2();
    m.policy("10-corp.toml", &policy(""));
    for user in ["ivy", "ian"] {
        m.auth(user, &chatgpt_auth("ws-corp", "plus", "dev@example.com"));
    }
    let ivy_config = m.codex_home("ivy").join("config.toml");
    std::fs::write(&ivy_config, "model_provider = \"openai\"\nmodel = \"o3\"\n").unwrap();
    chown(&ivy_config, m.uid("ivy"));
    let real = m.path("home/ian/dotfiles/codex.toml");
    std::fs::create_dir_all(real.parent().unwrap()).unwrap();
    chown(real.parent().unwrap(), m.uid("ian"));
    std::fs::write(
        &real,
        "model_provider = \"corp\"\n[model_providers.corp]\nbase_url = \"http://198.51.100.4:8/v1\"\n",
    )
    .unwrap();
    chown(&real, m.uid("ian"));
    let link = m.codex_home("ian").join("config.toml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    rustix::fs::chownat(
        rustix::fs::CWD,
        &link,
        Some(rustix::process::Uid::from_raw(m.uid("ian"))),
        Some(rustix::process::Gid::from_raw(m.uid("ian"))),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();

    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut good = m.codex_session("ivy", &m.codex_home("ivy"));
    let good_pid = native_child(good.id());
    // The routed twin may be stopped before its native process could even be looked up: it is
    // known by its user in the records.
    let mut bad = m.codex_session("ian", &m.codex_home("ian"));
    let v = m.wait_event("violation", |r| r["user"] == "ian" && r["pid"].is_u64());
    assert!(
        v["rules"].to_string().contains("config.model-provider"),
        "{v}"
    );
    assert!(!v.to_string().contains("could not be judged"), "{v}");
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    // The twin, judged over the same seconds, lives on, and nothing names it.
    std::thread::sleep(Duration::from_secs(3));
    assert!(running(good_pid), "the compliant session was stopped");
    let about_good: Vec<_> = m
        .records()
        .into_iter()
        .filter(|r| r["pid"] == good_pid)
        .collect();
    assert!(about_good.is_empty(), "{about_good:?}");
    let _ = good.kill();
    let _ = good.wait();
    let _ = bad.kill();
    let _ = bad.wait();
    drop(agent);
}

/// A TCP listener on every address that counts connections and holds each open without a word,
/// so a WebSocket client waits on its handshake.
struct Holder {
    port: u16,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Holder {
    fn start(addr: &str) -> Holder {
        let listener = std::net::TcpListener::bind(addr).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = seen.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming().flatten() {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(conn);
            }
        });
        Holder { port, seen }
    }

    fn count(&self) -> usize {
        self.seen.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// This machine's own address on its default route (not loopback): where a "remote" app-server
/// on the network would be, as the session sees it.
fn own_address() -> std::net::IpAddr {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    // A UDP connect sends nothing: it only picks the route's source address.
    probe
        .connect("192.0.2.1:9")
        .or_else(|_| probe.connect("1.1.1.1:53"))
        .expect("this test needs a route off the machine to name a non-loopback address");
    probe.local_addr().unwrap().ip()
}

/// `codex exec --remote ws://HOST:PORT` (0.171) hands the session's work to an app-server at
/// HOST, which holds the credential and the route: the agent cannot see them, so off this
/// machine the session is unjudged and stopped. The same session driving an app-server on this
/// machine's loopback (a process the agent judges itself) is not.
#[test]
fn a_session_driving_an_app_server_off_this_machine_is_stopped_and_a_loopback_one_is_not() {
    let m = machine("rem");
    m.policy("10-corp.toml", &policy(""));
    let bin = codex_bin_version("0.171.0");
    let home = m.codex_home("rem");
    let ip = own_address();
    let far_args = |h: &Holder| vec!["--remote".to_string(), format!("ws://{ip}:{}", h.port)];
    // Started with its prompt given (stdin closed): only then does it connect.
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = m.codex_exec_waiting(&bin, "rem", &home, &args, &[], None);
        prompt(&mut child);
        child
    };

    // Without the agent: the session connects to the app-server off the machine.
    let far = Holder::start("0.0.0.0:0");
    let mut free = run(&far_args(&far));
    wait_for("the session to reach the remote app-server", || {
        far.count() > 0
    });
    // The npm launcher and the native process it runs.
    let _ = std::process::Command::new("pkill")
        .args(["-KILL", "-P", &free.id().to_string()])
        .status();
    let _ = free.kill();
    let _ = free.wait();

    // With the agent: the loopback twin first, then the remote one.
    let near = Holder::start("127.0.0.1:0");
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let mut twin = run(&[
        "--remote".to_string(),
        format!("ws://127.0.0.1:{}", near.port),
    ]);
    wait_for("the loopback twin to reach its app-server", || {
        near.count() > 0
    });
    let far = Holder::start("0.0.0.0:0");
    let mut session = run(&far_args(&far));
    assert!(
        wait_exit(&mut session, PATIENCE),
        "the session driving a remote app-server was not stopped"
    );
    // A layer that cannot be judged breaks the route rules, with why as the evidence.
    let v = m.wait_event("violation", |r| {
        r["evidence"].to_string().contains("--remote")
    });
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    assert!(
        v["evidence"].to_string().contains(&ip.to_string()),
        "the record names where the app-server is: {v}"
    );
    // Codex opens the WebSocket first thing at start, within the few milliseconds the agent
    // takes to judge the exec: the connection may be made before the stop (docs/threat-model.md).
    std::thread::sleep(Duration::from_secs(1));
    let twin_pid = twin.id();
    let log = std::fs::read_to_string(m.audit_log()).unwrap();
    assert!(
        !log.lines().any(
            |l| (l.contains("\"violation\"") || l.contains("\"terminated\""))
                && l.contains(&format!("\"pid\":{twin_pid}"))
        ),
        "the loopback twin was recorded: {log}"
    );
    // The loopback twin, under the same agent, is neither recorded nor stopped (its npm
    // launcher's pid is in the `terminated` record of a stopped session). (It may have
    // ended on its own: Codex gives up on a handshake after 10 s; then it exits, unsignalled.)
    if let Some(status) = twin.try_wait().unwrap() {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(
            status.signal(),
            None,
            "the loopback twin was stopped: {status}"
        );
    }

    let _ = std::process::Command::new("pkill")
        .args(["-KILL", "-P", &twin_pid.to_string()])
        .status();
    let _ = twin.kill();
    let _ = twin.wait();
    drop(agent);
}
