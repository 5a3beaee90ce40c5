//! Credential sources Codex 0.171 added (checked in its binary and by running it): each is a
//! login the policy's `allowed_methods` may not name, so each is a credential of the session
//! that the `[login]` rules judge. A kind the policy does not know (`auth_mode` below) never
//! matches a methods list: fail closed, never a pass.
//!
//! - the `amazon-bedrock` provider with `AWS_BEARER_TOKEN_BEDROCK` (0.171 sent its requests to
//!   `bedrock-mantle.REGION.api.aws`): a Bedrock API key; without it, the AWS credential chain
//!   (`aws`);
//! - a provider's `auth` table (`command`, `args`, …: the command's output is the bearer token;
//!   `provider-auth-command`), `gateway_oauth` (`gateway-oauth`), `aws` and `gcp` tables, and the
//!   built-in `gcp` provider (`gcp`);
//! - workload identity from the environment (`OPENAI_IDENTITY_TOKEN_SOURCE`,
//!   `OPENAI_IDENTITY_TOKEN_FILE`, `SPIFFE_ENDPOINT_SOCKET`; 0.171 reads them at start:
//!   "workload identity requires OPENAI_FEDERATION_RULE_ID") (`workload-identity`).

use crate::core::observe::auth::parse_auth;
use crate::core::observe::{Credential, CredentialKind};

use crate::core::config_model::{Layer, ResolvedConfig};

/// Variables that make Codex take a workload identity from the environment.
pub const WORKLOAD_IDENTITY_VARS: [&str; 3] = [
    "OPENAI_IDENTITY_TOKEN_SOURCE",
    "OPENAI_IDENTITY_TOKEN_FILE",
    "SPIFFE_ENDPOINT_SOCKET",
];

fn unknown(kind: &str) -> Credential {
    Credential {
        auth_mode: Some(kind.to_string()),
        kind: CredentialKind::Unknown {
            auth_mode: kind.to_string(),
        },
        exchanged_key: None,
    }
}

/// The credentials these sources give the session with `provider` selected: (key, layer,
/// credential). `env` answers a variable's value and layer as the session sees it.
pub fn credentials(
    config: &ResolvedConfig,
    env: &dyn Fn(&str) -> Option<(String, Layer)>,
    provider: &str,
) -> Vec<(String, Layer, Credential)> {
    let mut out = Vec::new();
    if provider == "amazon-bedrock" {
        match env("AWS_BEARER_TOKEN_BEDROCK") {
            Some((token, layer)) => {
                let doc = serde_json::json!({
                    "auth_mode": "bedrockApiKey",
                    "bedrock_api_key": { "api_key": token.trim() },
                });
                if let Ok(c) = parse_auth(doc.to_string().as_bytes()) {
                    out.push(("AWS_BEARER_TOKEN_BEDROCK".to_string(), layer, c));
                }
            }
            None => out.push((
                "model_provider = amazon-bedrock (the AWS credential chain)".to_string(),
                Layer::Default,
                unknown("aws"),
            )),
        }
    }
    if provider == "gcp" {
        out.push((
            "model_provider = gcp (Google Cloud credentials)".to_string(),
            Layer::Default,
            unknown("gcp"),
        ));
    }
    for (table, kind) in [
        ("auth", "provider-auth-command"),
        ("gateway_oauth", "gateway-oauth"),
        ("aws", "aws"),
        ("gcp", "gcp"),
    ] {
        if let Some(r) = config.get_path(&["model_providers", provider, table]) {
            out.push((
                format!("model_providers.{provider}.{table}"),
                r.layer.clone(),
                unknown(kind),
            ));
        }
    }
    for var in WORKLOAD_IDENTITY_VARS {
        if let Some((_, layer)) = env(var) {
            out.push((var.to_string(), layer, unknown("workload-identity")));
        }
    }
    out
}
