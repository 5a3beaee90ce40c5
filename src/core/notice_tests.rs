use super::*;
use crate::core::policy::{LoginMethod, Mode};
use crate::core::rules::Rule;

fn policy() -> Policy {
    let mut p = Policy::baseline();
    p.mode = Mode::Enforce;
    p.login.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
    p.login.allowed_workspaces = Some(vec!["ws-corp".into()]);
    p
}

fn fix(rule: Rule, text: &str) -> Fix {
    Fix {
        rule,
        fix: text.into(),
    }
}

#[test]
fn each_rule_gets_its_own_line_under_its_familys_message() {
    let mut p = policy();
    p.enforce.message = Some("Ask #it-help ({rules}).".into());
    p.enforce
        .messages
        .insert("config".into(), "{user}: keep the sandbox on.".into());
    let fixes = [
        fix(Rule::LoginMethod, "log in with ChatGPT"),
        fix(Rule::ConfigSandboxMode, "Start Codex without --yolo"),
        fix(Rule::ConfigApprovalPolicy, "start Codex without -a never"),
    ];
    let n = render(&p, "alice", &Occasion::SessionStopped, &fixes);
    assert_eq!(n.title, "Codex session stopped");
    assert_eq!(
        n.text,
        "codex-warden: this Codex session breaks the Codex policy of this machine and is being \
         stopped.\n\
         Ask #it-help (login.method).\n\
         \x20 - login.method: Log in with ChatGPT.\n\
         alice: keep the sandbox on.\n\
         \x20 - config.sandbox-mode: Start Codex without --yolo.\n\
         \x20 - config.approval-policy: Start Codex without -a never.\n\
         Run `codex-warden status` to see why and what to change."
    );
}

#[test]
fn a_config_rule_is_never_told_the_login_message() {
    let mut p = policy();
    p.enforce
        .messages
        .insert("login".into(), "Use the {workspace} workspace.".into());
    let fixes = [fix(Rule::ConfigSandboxMode, "start Codex without --yolo")];
    let n = render(&p, "bob", &Occasion::SessionStopped, &fixes);
    assert!(!n.text.contains("workspace"), "{}", n.text);
    assert!(
        n.text
            .contains("  - config.sandbox-mode: Start Codex without --yolo.")
    );
}

#[test]
fn fix_in_a_message_puts_the_rule_lines_there_each_on_its_own_line() {
    let mut p = policy();
    p.enforce.message = Some("{user}: fix this:{fix}Thanks, IT \x1b[2J".into());
    let fixes = [
        fix(Rule::LoginMethod, "log in with ChatGPT"),
        fix(Rule::LoginWorkspace, "pick ws-corp"),
    ];
    let n = render(&p, "carol", &Occasion::SessionStopped, &fixes);
    let lines: Vec<&str> = n.text.lines().collect();
    assert_eq!(
        lines[1..5],
        [
            "carol: fix this:",
            "  - login.method: Log in with ChatGPT.",
            "  - login.workspace: Pick ws-corp.",
            "Thanks, IT [2J",
        ]
    );
    assert_eq!(n.text.matches("login.method").count(), 1);
    assert!(!n.text.contains('\x1b'));
}

#[test]
fn a_vaulted_credential_says_where_it_went_and_names_status() {
    let n = render(
        &policy(),
        "dan",
        &Occasion::CredentialVaulted {
            auth_json: Path::new("/home/dan/.codex/auth.json"),
            method: Some("api-key"),
        },
        &[fix(Rule::LoginMethod, "log in with ChatGPT")],
    );
    assert_eq!(n.title, "Codex login moved to the vault");
    let lines: Vec<&str> = n.text.lines().collect();
    assert_eq!(
        lines,
        [
            "codex-warden: your Codex login (api-key) breaks the Codex policy of this machine: it \
             was moved out of /home/dan/.codex/auth.json into the admin's vault, and Codex now \
             says `Not logged in`.",
            "  - login.method: Log in with ChatGPT.",
            "Log in again with an allowed login (`codex login`): it works at once. Run \
             `codex-warden status` to see this again.",
        ]
    );
}

#[test]
fn an_unjudged_session_is_told_so_with_the_policy_message() {
    let mut p = policy();
    p.enforce.message = Some("Help: {user} {rules}{fix}.".into());
    let n = render(&p, "eve", &Occasion::SessionUnjudged, &[]);
    assert!(n.text.contains("cannot tell whether"), "{}", n.text);
    assert!(n.text.contains("\nHelp: eve .\n"), "{}", n.text);
    assert!(
        n.text
            .ends_with("`codex-warden status` to see why and what to change.")
    );
}

#[test]
fn enforce_messages_names_exactly_the_rule_families() {
    let mut families: Vec<&str> = Rule::ALL.iter().map(|r| r.family().as_str()).collect();
    families.sort();
    families.dedup();
    let mut named = crate::core::policy::MESSAGE_FAMILIES.to_vec();
    named.sort();
    assert_eq!(families, named);
}

#[test]
fn enforce_messages_are_checked_like_every_key() {
    use crate::core::policy::diag::Code;
    use crate::core::policy::merge::load_sources;
    use crate::core::policy::source::Source;
    let load = |body: &str| {
        load_sources(vec![Source {
            name: "p.toml".into(),
            text: format!(
                "[policy]\nname = \"n\"\nrevision = \"r\"\nmode = \"enforce\"\n\n[enforce.messages]\n{body}"
            ),
        }])
    };
    let ok = load("login = \"Use {workspace}.\"\nconfig = \"Keep the sandbox.\"\n");
    assert!(ok.diagnostics.is_empty(), "{:?}", ok.diagnostics);
    let messages = &ok.policy.unwrap().enforce.messages;
    assert_eq!(messages["login"], "Use {workspace}.");
    assert_eq!(messages["config"], "Keep the sandbox.");
    let typo = load("logn = \"x\"\n");
    let d = &typo.diagnostics[0];
    assert_eq!(
        (d.code, d.line, d.column),
        (Code::UnknownValue, 7, 1),
        "{d:?}"
    );
    assert!(
        d.help.as_deref().unwrap().contains("did you mean `login`"),
        "{d:?}"
    );
    let empty = load("env = \" \"\n");
    assert_eq!(empty.diagnostics[0].code, Code::EmptyValue);
    let number = load("config = 3\n");
    assert_eq!(number.diagnostics[0].code, Code::Type);
    assert!(number.policy.is_none());
}
