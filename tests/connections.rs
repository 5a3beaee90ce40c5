//! Issue 25, "see the effect, not only the prediction": a running session's open connections
//! that no allowed route explains are a violation (`env.unexplained-connection`), whatever
//! channel set the route. The channel here is the one the agent never sees: an IDE switching
//! `codex app-server` to another base URL at run time with `thread/start`'s `config`. The real
//! agent, the real Codex (0.169.0 and 0.171.0), loopback listeners that hold every connection
//! open; the compliant twin talks to the allowed URL under the same agent and survives.

mod support;

use std::process::Command;

use support::app_server::{AppServer, Holder};
use support::*;

fn policy(allowed: &Holder) -> String {
    format!(
        r#"
[policy]
name = "routes"
revision = "r1"
mode = "enforce"

[config]
allowed_base_urls = ["{}"]

[enforce]
terminate_grace = "2s"

[scope]
min_uid = 0
"#,
        allowed.url()
    )
}

/// `codex app-server` as `user` would run it from an IDE.
fn ide_session(m: &Machine, user: &str, version: &str) -> AppServer {
    let mut cmd = Command::new(codex_bin_version(version));
    if rustix::process::geteuid().is_root() {
        use std::os::unix::process::CommandExt;
        cmd.uid(m.uid(user)).gid(m.uid(user));
    }
    let home = m.codex_home(user);
    cmd.arg("app-server")
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env("HOME", m.path(&format!("home/{user}")))
        .env("CODEX_HOME", &home)
        .current_dir(&home);
    AppServer::start(cmd)
}

fn gone(child: &mut std::process::Child) -> bool {
    let mut done = false;
    wait_for("the session to be stopped", || {
        done = child.try_wait().unwrap().is_some();
        done
    });
    done
}

fn runtime_route_is_caught(version: &str, uid_base: u32) {
    use_uids_from(uid_base);
    let m = Machine::new(&["cal", "vic"]);
    let allowed = Holder::start();
    let theirs = Holder::start();
    m.policy("10-routes.toml", &policy(&allowed));
    m.auth("cal", &api_key_auth("sk-proj-CALKEY0000000001"));
    m.auth("vic", &api_key_auth("sk-proj-VICKEY0000000001"));
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);

    // The compliant twin: the IDE routes its thread to the allowed URL.
    let mut twin = ide_session(&m, "cal", version);
    twin.thread_and_turn(serde_json::json!({ "openai_base_url": allowed.url() }));
    wait_for("the twin's request at the allowed URL", || {
        allowed.count() > 0
    });

    // The attack: the same, to a URL the policy does not allow, set over the IDE's channel.
    let mut attack = ide_session(&m, "vic", version);
    attack.thread_and_turn(serde_json::json!({ "openai_base_url": theirs.url() }));
    wait_for("the attack's request at its URL", || theirs.count() > 0);
    assert!(
        gone(&mut attack.child),
        "{version}: the session was not stopped"
    );
    let v = m.wait_event("violation", |r| r["user"] == "vic");
    let rules = v["rules"].to_string();
    assert!(
        rules.contains("env.unexplained-connection"),
        "{version}: {v}"
    );
    let endpoint = format!("127.0.0.1:{}", theirs.port);
    assert!(
        v["evidence"].to_string().contains(&endpoint),
        "{version}: {v}"
    );
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);

    // The twin was judged by the same scans, its connection open all along: untouched.
    assert!(
        twin.child.try_wait().unwrap().is_none(),
        "{version}: the compliant session was stopped"
    );
    assert!(
        m.events("violation").iter().all(|r| r["user"] != "cal"),
        "{version}: {:?}",
        m.events("violation")
    );
    drop(agent);
}

#[test]
fn codex_0_169_app_server_switched_to_another_url_at_run_time_is_stopped() {
    runtime_route_is_caught("0.169.0", 53_900);
}

#[test]
fn codex_0_171_app_server_switched_to_another_url_at_run_time_is_stopped() {
    runtime_route_is_caught("0.171.0", 53_950);
}

/// A proxy of the user's own, with their own CA, in a session's environment: stopped at its
/// start, before the proxy hears from it (`env.proxy`, `env.custom-ca`); the company's proxy
/// (listed in `allowed_proxies`) under the same agent is left alone.
#[test]
fn a_users_own_proxy_and_ca_stop_the_session_and_the_company_proxy_does_not() {
    use_uids_from(54_000);
    let m = Machine::new(&["pam", "pat"]);
    let company = Holder::start();
    let own = Holder::start();
    let company_proxy = format!("http://127.0.0.1:{}", company.port);
    m.policy(
        "10-routes.toml",
        &format!(
            "[policy]\nname = \"routes\"\nrevision = \"r2\"\nmode = \"enforce\"\n\n[config]\n\
             allowed_base_urls = [\"https://api.openai.com/v1\"]\nallowed_proxies = [\"{company_proxy}\"]\n\n\
             [enforce]\nterminate_grace = \"2s\"\n\n[scope]\nmin_uid = 0\n"
        ),
    );
    m.auth("pam", &api_key_auth("sk-proj-PAMKEY0000000001"));
    m.auth("pat", &api_key_auth("sk-proj-PATKEY0000000001"));
    let agent = m.start_agent_with(&[("CODEX_WARDEN_SESSION_SCAN_MS", "100")]);
    let bin = codex_bin_version("0.171.0");
    let mut twin = m.codex_exec_waiting(
        &bin,
        "pam",
        &m.codex_home("pam"),
        &[],
        &[("HTTPS_PROXY", &company_proxy)],
        None,
    );
    let own_proxy = format!("http://me:pw@127.0.0.1:{}", own.port);
    let mut attack = m.codex_exec_waiting(
        &bin,
        "pat",
        &m.codex_home("pat"),
        &[],
        &[
            ("HTTPS_PROXY", &own_proxy),
            ("SSL_CERT_FILE", "/tmp/mitm-ca.pem"),
        ],
        None,
    );
    assert!(gone(&mut attack), "the session was not stopped");
    let v = m.wait_event("violation", |r| r["user"] == "pat");
    let rules = v["rules"].to_string();
    assert!(rules.contains("env.proxy"), "{v}");
    assert!(rules.contains("env.custom-ca"), "{v}");
    assert!(!v.to_string().contains("me:pw"), "{v}");
    assert_eq!(own.count(), 0, "the user's proxy heard from the session");
    m.wait_event("terminated", |r| r["pid"] == v["pid"]);
    assert!(
        twin.try_wait().unwrap().is_none(),
        "the compliant session was stopped"
    );
    assert!(m.events("violation").iter().all(|r| r["user"] != "pam"));
    let _ = twin.kill();
    let _ = twin.wait();
    drop(agent);
}
