//! The pure cost of judging one new session with the effective-session model: resolve (argv
//! parser, five config layers, env file, environment, version row) and plan
//! (`core::session_plan::plan_session`) on a realistic session, no I/O. The platform's share
//! (reading the layers as the user in a thread) is measured by `cargo bench --bench fleet`.
//!
//! Run: `cargo bench --bench session_judge` (ROUNDS=… to change the count).

use std::time::Instant;

use codex_warden::core::codex_version::CodexVersion;
use codex_warden::core::effective_session::{ConfigInput, FileContent, SessionInputs, resolve};
use codex_warden::core::policy::{LoginMethod, Mode, Policy};
use codex_warden::core::session_plan::{HomeFacts, SessionFacts, plan_session};

fn file(path: &str, text: &str) -> Option<ConfigInput> {
    Some(ConfigInput {
        path: path.into(),
        content: FileContent::Text(text.into()),
    })
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut policy = Policy::baseline();
    policy.mode = Mode::Enforce;
    policy.login.allowed_methods = Some(vec![LoginMethod::Chatgpt]);
    policy.config.allowed_model_providers = Some(vec!["openai".into()]);
    policy.config.allowed_base_urls = Some(vec!["https://api.openai.com/v1".into()]);
    let user_config = "model = \"gpt-5\"\nsandbox_mode = \"workspace-write\"\n\
        approval_policy = \"on-request\"\n[features]\nweb = true\n\
        [mcp_servers.docs]\ncommand = \"npx\"\nargs = [\"-y\", \"docs-mcp\"]\n\
        [model_providers.x]\nname = \"X\"\nbase_url = \"https://router.example/v1\"\nenv_key = \"RK\"\n\
        [projects.\"/home/a/src/app\"]\ntrust_level = \"trusted\"\n";
    let inputs = SessionInputs {
        argv: [
            "codex",
            "exec",
            "-c",
            "model_provider=x",
            "-c",
            "model_providers.x.base_url=http://127.0.0.1:9/v1",
            "-p",
            "work",
            "-s",
            "danger-full-access",
            "--search",
            "fix the build",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        environ: (0..60)
            .map(|i| (format!("VAR{i}"), "x".repeat(40)))
            .chain([
                ("CODEX_HOME".to_string(), "/home/a/.codex".to_string()),
                (
                    "CODEX_API_KEY".to_string(),
                    "sk-proj-BENCHKEY0123456789".to_string(),
                ),
            ])
            .collect(),
        version: Some(CodexVersion::new(0, 169, 0)),
        system: file(
            "/etc/codex/config.toml",
            "model_reasoning_effort = \"medium\"\n",
        ),
        user: file("/home/a/.codex/config.toml", user_config),
        profile_file: file("/home/a/.codex/work.config.toml", "model = \"o3\"\n"),
        projects: vec![file("/home/a/src/app/.codex/config.toml", "model = \"p\"\n").unwrap()],
        managed: None,
        requirements: None,
        env_file: file("/home/a/.codex/.env", "RK=rk-0123456789\nOTHER=1\n"),
        cwd: Some("/home/a/src/app".into()),
    };
    let home = std::path::Path::new("/home/a/.codex");
    let now = jiff::Timestamp::now();
    let mut stops = 0;
    let start = Instant::now();
    for _ in 0..rounds {
        let s = resolve(&inputs);
        let facts = SessionFacts {
            user: "a",
            uid: 1000,
            session: Some(&s),
            home: HomeFacts::Judged {
                violations: Vec::new(),
                record: false,
                unmovable: None,
            },
            codex_home: home,
            unjudged: &[],
            connections: None,
        };
        let plan = plan_session(&policy, &facts, now);
        stops +=
            usize::from(plan.decision == codex_warden::core::session_plan::SessionAction::Stop);
    }
    let per = start.elapsed() / rounds as u32;
    assert_eq!(stops, rounds);
    println!("resolve + plan of one session: {per:?} ({rounds} rounds)");
}
