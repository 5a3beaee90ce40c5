//! The checker on the `[config]` keys named after Codex's requirements: each problem an admin
//! can make, with its code.

use crate::core::policy::diag::{Code, Severity};
use crate::core::policy::merge::load_sources;
use crate::core::policy::source::Source;

const HEADER: &str = "[policy]\nname = \"n\"\nrevision = \"r\"\nmode = \"enforce\"\n";

fn diags(body: &str) -> Vec<(Code, Severity, String)> {
    let outcome = load_sources(vec![Source {
        name: "t.toml".into(),
        text: format!("{HEADER}{body}"),
    }]);
    outcome
        .diagnostics
        .into_iter()
        .map(|d| {
            (
                d.code,
                d.severity,
                format!("{} {}", d.message, d.help.unwrap_or_default()),
            )
        })
        .collect()
}

fn codes(body: &str) -> Vec<Code> {
    diags(body).into_iter().map(|d| d.0).collect()
}

#[test]
fn good_values_load_without_a_word() {
    let body = "[config]\nallowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n\
                allowed_approval_policies = [\"untrusted\", \"on-failure\", \"on-request\", \"never\"]\n\
                allowed_web_search_modes = [\"disabled\", \"cached\", \"live\"]\n\
                allowed_mcp_servers = [{ name = \"docs\", url = \"https://d.example/mcp\" }]\n\
                [config.features]\nweb_search_request = false\napps = true\n";
    assert_eq!(diags(body), []);
    let tables = "[[config.allowed_mcp_servers]]\nname = \"fs\"\ncommand = \"npx\"\n\
                  [[config.allowed_mcp_servers]]\nname = \"docs\"\nurl = \"https://d.example/mcp\"\n";
    assert_eq!(diags(tables), []);
}

#[test]
fn unknown_values_get_a_suggestion() {
    let d = diags("[config]\nallowed_sandbox_modes = [\"read-only\", \"workspace_write\"]\n");
    assert_eq!(d[0].0, Code::UnknownValue);
    assert!(d[0].2.contains("did you mean `workspace-write`?"), "{d:?}");
    assert_eq!(
        codes("[config]\nallowed_approval_policies = [\"on_request\"]\n"),
        [Code::UnknownValue]
    );
    assert_eq!(
        codes("[config]\nallowed_web_search_modes = [\"on\"]\n"),
        [Code::UnknownValue]
    );
}

#[test]
fn sandbox_modes_without_read_only_are_refused_as_codex_refuses_them() {
    let d = diags("[config]\nallowed_sandbox_modes = [\"workspace-write\"]\n");
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].0, d[0].1), (Code::SandboxReadOnly, Severity::Error));
    assert!(
        d[0].2
            .contains("allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]"),
        "{d:?}"
    );
    // An exception's list adds to the base list, which has read-only already.
    let ok = "[config]\nallowed_sandbox_modes = [\"read-only\"]\n[[exception]]\nusers = [\"a\"]\n\
              allowed_sandbox_modes = [\"danger-full-access\"]\nexpires = 2099-01-01T00:00:00Z\n\
              reason = \"r\"\n";
    assert_eq!(diags(ok), []);
}

#[test]
fn mcp_servers_need_a_name_and_one_identity() {
    assert_eq!(
        codes("[config]\nallowed_mcp_servers = [{ name = \"x\" }]\n"),
        [Code::McpIdentity]
    );
    assert_eq!(
        codes("[config]\nallowed_mcp_servers = [{ name = \"x\", command = \"a\", url = \"b\" }]\n"),
        [Code::McpIdentity]
    );
    assert_eq!(
        codes("[config]\nallowed_mcp_servers = [{ command = \"a\" }]\n"),
        [Code::MissingKey]
    );
    assert_eq!(
        codes("[config]\nallowed_mcp_servers = [{ name = \"x\", command = \"a\", argv = [] }]\n"),
        [Code::UnknownKey]
    );
    assert_eq!(
        codes("[config]\nallowed_mcp_servers = [\"x\"]\n"),
        [Code::Type]
    );
    assert_eq!(
        codes(
            "[config]\nallowed_mcp_servers = [{ name = \"x\", command = \"a\" }, { name = \"x\", url = \"u\" }]\n"
        ),
        [Code::DuplicateValue]
    );
}

#[test]
fn feature_pins_are_booleans() {
    assert_eq!(
        codes("[config.features]\nweb_search_request = \"off\"\n"),
        [Code::Type]
    );
    assert_eq!(codes("[config]\nfeatures = [\"x\"]\n"), [Code::Type]);
}

#[test]
fn mcp_launch_specs_load_and_bad_ones_are_pointed_at() {
    let good = "[config]\nallowed_mcp_servers = [\n\
                { name = \"fs\", command = \"npx\", args = [\"-y\", \"@corp/fs\", \"-y\"], cwd = \"/opt\", \
                env = { NODE_ENV = \"production\", TOKEN = \"*\" }, env_vars = [\"HOME\"] },\n\
                { name = \"docs\", url = \"https://d.example/mcp\", bearer_token_env_var = \"T\", \
                http_headers = { \"X-A\" = \"1\" }, env_http_headers = { \"X-B\" = \"B\" }, any = [\"oauth\"] },\n\
                { name = \"git\", command = \"git-mcp\", any = [\"args\", \"env\"] },\n]\n";
    assert_eq!(diags(good), []);
    let one = |entry: &str| {
        let d = diags(&format!("[config]\nallowed_mcp_servers = [{entry}]\n"));
        assert_eq!(d.len(), 1, "{entry}: {d:?}");
        d.into_iter().next().unwrap()
    };
    // A field of the other transport.
    let d = one("{ name = \"fs\", command = \"npx\", http_headers = { A = \"b\" } }");
    assert_eq!(d.0, Code::McpIdentity);
    assert!(
        d.2.contains("`http_headers` is not one of its fields"),
        "{d:?}"
    );
    let d = one("{ name = \"docs\", url = \"https://d/mcp\", args = [\"x\"] }");
    assert_eq!(d.0, Code::McpIdentity);
    // A loader variable never matches, pinned or forwarded.
    for entry in [
        "{ name = \"fs\", command = \"npx\", env = { LD_PRELOAD = \"/x.so\" } }",
        "{ name = \"fs\", command = \"npx\", env_vars = [\"PATH\"] }",
        "{ name = \"fs\", command = \"npx\", env = { DYLD_INSERT_LIBRARIES = \"/x\" } }",
    ] {
        let d = one(entry);
        assert_eq!(d.0, Code::McpIdentity, "{entry}");
        assert!(d.2.contains("never matches"), "{d:?}");
    }
    // `any`: known fields of its transport, not also pinned.
    let d = one("{ name = \"fs\", command = \"npx\", any = [\"arg\"] }");
    assert_eq!(d.0, Code::UnknownValue);
    assert!(d.2.contains("did you mean `args`?"), "{d:?}");
    let d = one("{ name = \"fs\", command = \"npx\", any = [\"http_headers\"] }");
    assert_eq!(d.0, Code::UnknownValue);
    let d = one("{ name = \"fs\", command = \"npx\", args = [\"a\"], any = [\"args\"] }");
    assert_eq!(d.0, Code::McpIdentity);
    assert!(d.2.contains("pins `args` and lets it be anything"), "{d:?}");
    // Types.
    assert_eq!(
        one("{ name = \"fs\", command = \"npx\", args = \"-y x\" }").0,
        Code::Type
    );
    assert_eq!(
        one("{ name = \"fs\", command = \"npx\", args = [1] }").0,
        Code::Type
    );
    assert_eq!(
        one("{ name = \"fs\", command = \"npx\", env = [\"A\"] }").0,
        Code::Type
    );
    assert_eq!(
        one("{ name = \"fs\", command = \"npx\", env = { A = 1 } }").0,
        Code::Type
    );
    assert_eq!(
        one("{ name = \"fs\", command = \"npx\", cwd = \"\" }").0,
        Code::EmptyValue
    );
    assert_eq!(
        one("{ name = \"fs\", command = \"npx\", env_vars = [\"\"] }").0,
        Code::EmptyValue
    );
}
