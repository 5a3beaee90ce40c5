//! Issue 25, "let Codex enforce what it can": the requirement keys each Codex version honours,
//! measured against the real CLI (0.169.0 and 0.171.0). The agent renders the policy into
//! `requirements.toml` (scratch: a private mount namespace in which `/etc/codex` is the scratch
//! machine's folder); each version is then run with overrides that break every pin, and with the
//! same overrides and no requirements (the control, which must take them all).

mod support;

use std::process::Command;

use support::app_server::AppServer;
use support::*;

fn said(o: &std::process::Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

/// The pins: one provider, two sandbox modes, two approval policies, no web search, one MCP
/// server, one feature off, ChatGPT login only.
fn pins_policy() -> String {
    r#"
[policy]
name = "pins"
revision = "p1"
mode = "enforce"

[login]
allowed_methods = ["chatgpt"]
allowed_workspaces = ["ws-corp"]

[config]
allowed_model_providers = ["corp"]
allowed_sandbox_modes = ["read-only", "workspace-write"]
allowed_approval_policies = ["on-request", "untrusted"]
allowed_web_search_modes = ["disabled"]
allowed_mcp_servers = [{ name = "docs", url = "https://docs.example.com/mcp" }]

[config.features]
web_search_request = false

[scope]
min_uid = 0
"#
    .to_string()
}

/// Whether this machine can give Codex a private /etc/codex.
fn private_etc_works(m: &Machine) -> bool {
    if !is_root() || Command::new("unshare").arg("--help").output().is_err() {
        eprintln!("SKIP: needs root for a private mount namespace");
        return false;
    }
    let empty = m.path("probe-etc");
    std::fs::create_dir_all(&empty).unwrap();
    let out = with_private_etc_codex(&empty, m.root.path(), "true");
    let text = said(&out);
    if !out.status.success() || text.contains("unshare:") || text.contains("mount:") {
        eprintln!("SKIP: no private mount namespace here: {text}");
        return false;
    }
    true
}

/// The agent renders the pins; an admin's own `[model_providers.corp]` (the pinned definition,
/// which the policy has no key for) sits below its block.
fn rendered(m: &Machine, corp: &Router) -> std::path::PathBuf {
    let req = m.path("etc-codex/requirements.toml");
    std::fs::create_dir_all(req.parent().unwrap()).unwrap();
    std::fs::write(
        &req,
        format!(
            "[model_providers.corp]\nname = \"corp\"\nbase_url = \"{}\"\nenv_key = \"CORP_KEY\"\n",
            corp.url()
        ),
    )
    .unwrap();
    m.policy("10-pins.toml", &pins_policy());
    let agent = m.start_agent();
    let written = requirements_written(
        m,
        &req,
        &[
            "model_provider",
            "allowed_sandbox_modes",
            "allowed_approval_policies",
            "allowed_login_methods",
            "allowed_chatgpt_workspaces",
            "allowed_web_search_modes",
            "mcp_servers",
            "features",
        ],
    );
    // Absent when every version seen enforces every rendered key.
    assert!(
        written["not_honoured"].is_null() || written["not_honoured"] == serde_json::json!([]),
        "{written}"
    );
    drop(agent);
    let text = std::fs::read_to_string(&req).unwrap();
    assert!(text.contains("model_provider = \"corp\"\n"), "{text}");
    assert!(text.contains("[model_providers.corp]"), "{text}");
    req
}

fn pins_hold(version: &str, uid_base: u32) {
    use_uids_from(uid_base);
    let m = Machine::new(&["pia"]);
    if !private_etc_works(&m) {
        return;
    }
    let corp = Router::start();
    let theirs = Router::start();
    let req = rendered(&m, &corp);
    let home = m.codex_home("pia");
    let codex = codex_bin_version(version);
    let env = format!(
        "HOME={} CODEX_HOME={} CORP_KEY=corp-key-1",
        m.path("home/pia").display(),
        home.display()
    );
    // Every pin broken on the command line: another provider, the pinned provider's URL moved,
    // the widest sandbox and no approvals.
    let exec = format!(
        "cd {} && env {env} timeout 12 {} exec --skip-git-repo-check \
         -c model_provider=theirs -c model_providers.theirs.name=theirs \
         -c model_providers.theirs.base_url={url} -c model_providers.corp.name=corp \
         -c model_providers.corp.base_url={url} \
         -c web_search=live --dangerously-bypass-approvals-and-sandbox 'say hi' </dev/null",
        m.path("home/pia").display(),
        codex.display(),
        url = theirs.url(),
    );
    let pinned = said(&with_private_etc_codex(
        req.parent().unwrap(),
        m.root.path(),
        &exec,
    ));
    assert!(pinned.contains("provider: corp"), "{version}: {pinned}");
    assert!(pinned.contains("sandbox: read-only"), "{version}: {pinned}");
    assert!(
        pinned.contains("approval: on-request"),
        "{version}: {pinned}"
    );
    assert!(
        pinned.contains("`web_search_mode`: `Live` is not in the allowed set"),
        "{version}: {pinned}"
    );
    // The pinned definition is taken whole: the requests go to corp's URL with corp's key.
    wait_for("a request at the pinned provider", || corp.count() > 0);
    assert!(corp.saw("Bearer corp-key-1"), "{version}");
    assert_eq!(theirs.count(), 0, "{version}: the override reached its URL");

    // The control: the same command, no requirements, takes every override.
    let empty = m.path("etc-codex-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let control = said(&with_private_etc_codex(&empty, m.root.path(), &exec));
    assert!(control.contains("provider: theirs"), "{version}: {control}");
    assert!(
        control.contains("sandbox: danger-full-access"),
        "{version}: {control}"
    );
    assert!(control.contains("approval: never"), "{version}: {control}");
    assert!(
        !control.contains("is not in the allowed set"),
        "{version}: {control}"
    );
    wait_for("a request at the overriding URL", || theirs.count() > 0);

    // MCP servers: a server the policy does not list is disabled by Codex; the feature pin
    // holds against `--enable`. The control lists the same server enabled, the feature on.
    let mcp = format!(
        "env {env} {} -c mcp_servers.exfil.command=/bin/false mcp list",
        codex.display()
    );
    let features = format!(
        "env {env} {} --enable web_search_request features list",
        codex.display()
    );
    let exfil = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("exfil"))
            .unwrap_or_else(|| panic!("{version}: exfil not listed: {text}"))
            .to_string()
    };
    let feature = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("web_search_request "))
            .unwrap_or_else(|| panic!("{version}: {text}"))
            .trim_end()
            .to_string()
    };
    let etc = req.parent().unwrap();
    let listed = said(&with_private_etc_codex(etc, m.root.path(), &mcp));
    assert!(
        exfil(&listed).contains("disabled: requirements"),
        "{listed}"
    );
    let listed = said(&with_private_etc_codex(&empty, m.root.path(), &mcp));
    assert!(!exfil(&listed).contains("disabled"), "{listed}");
    let pinned = said(&with_private_etc_codex(etc, m.root.path(), &features));
    assert!(feature(&pinned).ends_with("false"), "{version}: {pinned}");
    let control = said(&with_private_etc_codex(&empty, m.root.path(), &features));
    assert!(feature(&control).ends_with("true"), "{version}: {control}");

    // ChatGPT login only: an API-key login is refused by Codex itself; without the
    // requirements it is saved.
    let login = format!(
        "printf sk-proj-PINSKEY | env {env} {} login --with-api-key",
        codex.display()
    );
    let refused = said(&with_private_etc_codex(
        req.parent().unwrap(),
        m.root.path(),
        &login,
    ));
    assert!(
        refused.contains("API key login is disabled"),
        "{version}: {refused}"
    );
    assert!(!home.join("auth.json").exists(), "{version}");
    let saved = said(&with_private_etc_codex(&empty, m.root.path(), &login));
    assert!(home.join("auth.json").exists(), "{version}: {saved}");
}

#[test]
fn codex_0_169_enforces_every_rendered_pin() {
    pins_hold("0.169.0", 53_700);
}

#[test]
fn codex_0_171_enforces_every_rendered_pin() {
    pins_hold("0.171.0", 53_750);
}

/// `codex app-server` as an IDE runs it, in a private mount namespace whose /etc/codex is
/// `etc_codex`.
fn app_server(
    m: &Machine,
    etc_codex: &std::path::Path,
    codex: &std::path::Path,
    env: &str,
) -> AppServer {
    let ov = m.root.path().join("ov-app");
    std::fs::create_dir_all(&ov).unwrap();
    let setup = format!(
        "set -e; mount --make-rprivate /; mount -t tmpfs tmpfs {ov}; mkdir -p {ov}/u {ov}/w; \
         mount -t overlay overlay -o lowerdir=/etc,upperdir={ov}/u,workdir={ov}/w /etc; \
         mkdir -p /etc/codex; mount --bind {ec} /etc/codex; exec env {env} {codex} app-server",
        ov = ov.display(),
        ec = etc_codex.display(),
        codex = codex.display(),
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", &setup])
        .current_dir(m.root.path());
    AppServer::start(cmd)
}

/// An access token as an IDE's host app would hand it over (`chatgptAuthTokens`).
fn external_tokens(workspace: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "chatgptAuthTokens",
        "accessToken": jwt(workspace, "plus", "dev@personal.example"),
        "chatgptAccountId": workspace,
        "chatgptPlanType": "plus",
    })
}

/// The IDE's channel: `thread/start` with a `config` that switches to a router and a personal
/// bearer token, and `chatgptAuthTokens` for a personal workspace, both over the app-server's
/// stdio (the agent never sees them). With the pins rendered, Codex itself refuses both.
fn app_server_pins_hold(version: &str, uid_base: u32) {
    use_uids_from(uid_base);
    let m = Machine::new(&["ida"]);
    if !private_etc_works(&m) {
        return;
    }
    let corp = Router::start();
    let theirs = Router::start();
    let req = rendered(&m, &corp);
    let etc = req.parent().unwrap().to_path_buf();
    let empty = m.path("etc-codex-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let codex = codex_bin_version(version);
    let home = m.codex_home("ida");
    let env = format!(
        "HOME={} CODEX_HOME={} CORP_KEY=corp-key-1",
        m.path("home/ida").display(),
        home.display()
    );
    let switch = serde_json::json!({
        "modelProvider": "theirs",
        "config": {
            "model_provider": "theirs",
            "model_providers": { "theirs": {
                "name": "theirs",
                "base_url": theirs.url(),
                "experimental_bearer_token": "sk-personal-ROUTERTOKEN",
            } },
        },
    });
    for (etc_codex, provider) in [(&etc, "corp"), (&empty, "theirs")] {
        let mut server = app_server(&m, etc_codex, &codex, &env);
        let started = server.call("thread/start", switch.clone());
        assert_eq!(
            started["result"]["modelProvider"], provider,
            "{version}: {started}"
        );
    }
    // The workspace pin holds against tokens handed over in memory; the corp workspace and,
    // without requirements, any workspace are taken.
    for (etc_codex, workspace, taken) in [
        (&etc, "ws-personal", false),
        (&etc, "ws-corp", true),
        (&empty, "ws-personal", true),
    ] {
        let mut server = app_server(&m, etc_codex, &codex, &env);
        let login = server.call("account/login/start", external_tokens(workspace));
        assert_eq!(
            login.get("result").is_some(),
            taken,
            "{version} {workspace}: {login}"
        );
        if !taken {
            assert!(
                login["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("ws-corp"),
                "{login}"
            );
        }
    }
    // API-key login only: tokens over the protocol are refused as a ChatGPT login.
    let api_only = m.path("etc-codex-api");
    std::fs::create_dir_all(&api_only).unwrap();
    std::fs::write(
        api_only.join("requirements.toml"),
        "allowed_login_methods = [\"api\"]\n",
    )
    .unwrap();
    let mut server = app_server(&m, &api_only, &codex, &env);
    let login = server.call("account/login/start", external_tokens("ws-corp"));
    assert!(
        login["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("External ChatGPT auth is disabled"),
        "{version}: {login}"
    );
}

#[test]
fn codex_0_169_app_server_refuses_a_runtime_route_and_foreign_tokens_under_the_pins() {
    app_server_pins_hold("0.169.0", 53_800);
}

#[test]
fn codex_0_171_app_server_refuses_a_runtime_route_and_foreign_tokens_under_the_pins() {
    app_server_pins_hold("0.171.0", 53_850);
}

/// `codex exec` of `version` in a private mount namespace whose /etc/codex is `etc`, with
/// `CODEX_HOME` at `user`'s home and `args` before the prompt: what it said.
fn exec_under(m: &Machine, etc: &std::path::Path, user: &str, version: &str, args: &str) -> String {
    let exec = format!(
        "cd {home} && env HOME={home} CODEX_HOME={codex_home} CORP_KEY=corp-key-1 timeout 12 {bin} \
         exec --skip-git-repo-check {args} 'say hi' </dev/null",
        home = m.path(&format!("home/{user}")).display(),
        codex_home = m.codex_home(user).display(),
        bin = codex_bin_version(version).display(),
    );
    said(&with_private_etc_codex(etc, m.root.path(), &exec))
}

/// An /etc/codex whose requirements.toml is `text`.
fn etc_with(m: &Machine, name: &str, text: &str) -> std::path::PathBuf {
    let etc = m.path(name);
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("requirements.toml"), text).unwrap();
    etc
}

/// What a `model_providers` requirement does, measured, and why the agent renders none of its
/// own: a pinned provider is taken whole (every field, the credential's too) over the user's
/// definition, from the config and from `-c`, silently; a partial definition (all the policy
/// says: the id and one URL) therefore drops the user's `env_key`, so a compliant keyed setup
/// would lose its credential; a built-in id there stops Codex from starting.
fn provider_definition_pin(version: &str, uid_base: u32) {
    use_uids_from(uid_base);
    let m = Machine::new(&["pat"]);
    if !private_etc_works(&m) {
        return;
    }
    let corp = Router::start();
    let theirs = Router::start();
    let home = m.codex_home("pat");
    // The user moves the allowed provider to their own router in config.toml.
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model_provider = \"corp\"\n[model_providers.corp]\nname = \"corp\"\n\
             base_url = \"{}\"\nenv_key = \"CORP_KEY\"\n",
            theirs.url()
        ),
    )
    .unwrap();
    // What an admin writes: the whole definition.
    let whole = etc_with(
        &m,
        "etc-whole",
        &format!(
            "model_providers = {{ corp = {{ name = \"corp\", base_url = \"{}\", \
             env_key = \"CORP_KEY\" }} }}\n",
            corp.url()
        ),
    );
    let empty = m.path("etc-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let pinned = exec_under(&m, &whole, "pat", version, "");
    assert!(pinned.contains("provider: corp"), "{version}: {pinned}");
    assert!(
        !pinned.contains("requirements"),
        "{version}: Codex says nothing: {pinned}"
    );
    wait_for("a request at the pinned URL", || corp.count() > 0);
    assert!(corp.saw("Bearer corp-key-1"), "{version}");
    assert_eq!(theirs.count(), 0, "{version}: the config's URL was used");
    // The same on the command line (the config put back at corp's URL).
    let args = format!("-c model_providers.corp.base_url={}", theirs.url());
    let pinned = exec_under(&m, &whole, "pat", version, &args);
    assert!(pinned.contains("provider: corp"), "{version}: {pinned}");
    assert_eq!(theirs.count(), 0, "{version}: the -c URL was used");
    // The control: no requirements, the user's URL is taken.
    let control = exec_under(&m, &empty, "pat", version, "");
    assert!(control.contains("provider: corp"), "{version}: {control}");
    wait_for("a request at the user's URL", || theirs.count() > 0);
    assert!(theirs.saw("Bearer corp-key-1"), "{version}");

    // The pin does not restrict which provider is selected: that is `model_provider`'s.
    let before = theirs.count();
    let args = format!(
        "-c model_provider=other -c model_providers.other.name=other \
         -c model_providers.other.base_url={}",
        theirs.url()
    );
    let other = exec_under(&m, &whole, "pat", version, &args);
    assert!(other.contains("provider: other"), "{version}: {other}");
    wait_for("a request for the other provider", || {
        theirs.count() > before
    });

    // All the policy could say (the id and its one allowed URL): the compliant setup, the
    // user's definition at that very URL with its env_key, loses its credential. The control
    // (no requirements) sends it.
    let allowed = Router::start();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model_provider = \"corp\"\n[model_providers.corp]\nname = \"corp\"\n\
             base_url = \"{}\"\nenv_key = \"CORP_KEY\"\n",
            allowed.url()
        ),
    )
    .unwrap();
    let partial = etc_with(
        &m,
        "etc-partial",
        &format!(
            "model_providers = {{ corp = {{ name = \"corp\", base_url = \"{}\" }} }}\n",
            allowed.url()
        ),
    );
    let out = exec_under(&m, &partial, "pat", version, "");
    assert!(out.contains("provider: corp"), "{version}: {out}");
    wait_for("a request under the partial pin", || allowed.count() > 0);
    assert!(
        !allowed.saw("Bearer"),
        "{version}: the partial pin kept the user's key"
    );
    exec_under(&m, &empty, "pat", version, "");
    wait_for("the key at the allowed URL", || {
        allowed.saw("Bearer corp-key-1")
    });
    // A built-in id cannot be pinned at all: Codex refuses to start.
    let builtin = etc_with(
        &m,
        "etc-builtin",
        "model_providers = { ollama = { name = \"ollama\", base_url = \"http://127.0.0.1:9/v1\" } }\n",
    );
    let out = exec_under(&m, &builtin, "pat", version, "");
    assert!(
        out.contains("reserved built-in provider IDs"),
        "{version}: {out}"
    );
}

#[test]
fn codex_0_169_takes_a_pinned_provider_definition_whole() {
    provider_definition_pin("0.169.0", 57_400);
}

#[test]
fn codex_0_171_takes_a_pinned_provider_definition_whole() {
    provider_definition_pin("0.171.0", 57_450);
}
