//! `policy mdm`: the policy of a drop-in directory as an MDM takes it (a configuration profile
//! or a preferences plist with native keys), or the Jamf Pro schema of those keys. The rendering
//! is pure ([`crate::core::policy::mdm`]); this reads and checks the policy first, so a profile is
//! never made from a policy the agent would reject.

use std::io::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::app::cli::MdmFormat;
use crate::app::cli::exit::{FINDINGS, OK};
use crate::app::cli::settings::Settings;
use crate::core::policy::mdm;
use crate::core::policy::plist_keys::native_keys;
use crate::platform::policy_sources;

pub fn print(
    settings: &Settings,
    format: MdmFormat,
    from: Option<&Path>,
    org: Option<&str>,
) -> Result<u8> {
    let out = match format {
        MdmFormat::JamfSchema => {
            format!("{}\n", serde_json::to_string_pretty(&mdm::jamf_schema())?)
        }
        MdmFormat::Mobileconfig | MdmFormat::Plist => {
            // Only the drop-ins: the managed preferences are what this output replaces.
            let outcome = policy_sources::load_dir(from.unwrap_or(&settings.policy_dir), None);
            if outcome.policy.is_none() {
                eprint!("{}", outcome.render_diagnostics());
                eprintln!("no profile made: the policy is not valid");
                return Ok(FINDINGS);
            }
            let keys = native_keys(&outcome.sources);
            match format {
                MdmFormat::Mobileconfig => mdm::to_xml(&mdm::mobileconfig(&keys, org)),
                _ => mdm::to_xml(&plist::Value::Dictionary(keys)),
            }
        }
    };
    crate::app::cli::output::stdout().write_all(out.as_bytes())?;
    Ok(OK)
}
