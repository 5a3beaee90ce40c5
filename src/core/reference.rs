//! docs/reference/policy.md's key table and the codex-warden-policy(5) man page, generated from
//! the key schema, the rules table and the diagnostic codes (a test keeps the doc equal).

use crate::core::policy::diag::Code;
use crate::core::policy::{RuleKey, schema};
use crate::core::rules::Rule;

/// Where the packages install the policy's JSON Schema: the path the example policies'
/// `#:schema` line names (tests/packaging/deb-lifecycle.sh checks both).
pub const INSTALLED_SCHEMA: &str = "/usr/share/codex-warden/policy.schema.json";

/// Text for roff: backslashes and hyphens escaped, other than ASCII as groff's `\[uXXXX]`, a line
/// that would start with a control character (`.`, `'`) made plain text, Markdown code marks
/// dropped.
pub fn roff_text(text: &str) -> String {
    let ascii: String = text
        .chars()
        .map(|c| match c {
            '\\' => "\\e".to_string(),
            '-' => "\\-".to_string(),
            '`' => String::new(),
            c if c.is_ascii() => c.to_string(),
            // groff reads bytes as Latin-1: a UTF-8 `…` would print as garbage.
            c => format!("\\[u{:04X}]", u32::from(c)),
        })
        .collect();
    ascii
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The codex-warden-policy(5) man page (roff): the file format, every key of every section with
/// its type, default and rule, exceptions, and every diagnostic code, from the same schema the
/// checker and `policy schema` use.
pub fn man_page(version: &str) -> String {
    let mut out = format!(
        ".TH codex\\-warden\\-policy 5 \"\" \"codex\\-warden {}\" \"File Formats\"\n",
        roff_text(version)
    );
    out.push_str(".SH NAME\ncodex\\-warden\\-policy \\- the codex\\-warden policy format (TOML drop\\-ins)\n");
    out.push_str(".SH SYNOPSIS\n/etc/codex\\-warden/policy.d/*.toml\n");
    out.push_str(".SH DESCRIPTION\n");
    out.push_str(&roff_text(
        "The policy tells codex-warden which Codex logins and session settings are allowed. It \
         is TOML, in drop-in files of the policy dir, merged in lexical file order: a later file \
         sets a key again, or adds [[exception]] tables. Each file must be a regular file owned \
         by root and not writable by group or others; the dir too. A file with any error \
         rejects the whole policy: the agent keeps the last good one and records \
         policy_rejected.",
    ));
    out.push_str("\n.PP\n");
    out.push_str(&roff_text(
        "Check files with codex-warden policy validate (every problem at once, as \
         file:line:col diagnostics) and see the merged result with codex-warden policy explain. \
         Editors (Taplo, Even Better TOML) complete and check a file that starts with the line:",
    ));
    out.push('\n');
    out.push_str(&format!(
        ".PP\n.RS\n#:schema {}\n.RE\n.PP\n",
        roff_text(INSTALLED_SCHEMA)
    ));
    out.push_str(&roff_text(
        "(the JSON Schema codex-warden policy schema prints, installed with the package).",
    ));
    out.push('\n');
    let mut sections: Vec<&str> = Vec::new();
    for key in schema::KEYS {
        if !sections.contains(&key.section) {
            sections.push(key.section);
        }
    }
    for section in sections {
        out.push_str(&format!(".SH [{}]\n", section.to_uppercase()));
        for key in schema::KEYS.iter().filter(|k| k.section == section) {
            let kind = match key.kind.allowed_values() {
                Some(values) if key.kind.is_list() => format!("list of: {}", values.join(", ")),
                Some(values) => format!("one of: {}", values.join(", ")),
                None => key.kind.toml_type().to_string(),
            };
            let machine = schema::MACHINE_DEFAULTS
                .iter()
                .find(|(path, _)| *path == key.path());
            let default = match (machine, key.default, key.section) {
                (Some((_, d)), _, _) => format!("default: {d}"),
                (None, Some(d), _) => format!("default: {d}"),
                (None, None, "policy") => "required".to_string(),
                (None, None, "login" | "config") => "absent: anything allowed".to_string(),
                (None, None, _) => "absent: not set".to_string(),
            };
            let rule = RuleKey::of_path(&key.path())
                .and_then(Rule::of_key)
                .map_or(String::new(), |r| format!("; rule {r}"));
            out.push_str(&format!(
                ".TP\n\\fB{}\\fR ({}; {}{})\n{}\n",
                roff_text(key.name),
                roff_text(&kind),
                roff_text(&default),
                roff_text(&rule),
                roff_text(key.doc)
            ));
        }
    }
    let loosenable: Vec<String> = schema::KEYS
        .iter()
        .filter(|k| k.loosenable())
        .map(|k| k.path())
        .collect();
    out.push_str(".SH [[EXCEPTION]]\n");
    out.push_str(&roff_text(&format!(
        "An exception widens the rules for some users until it expires. Its own keys: {}. It may \
         set, as a list that is added to the allowed values: {}.",
        schema::EXCEPTION_OWN_KEYS.join(", "),
        loosenable.join(", ")
    )));
    out.push_str("\n.SH DIAGNOSTICS\n");
    out.push_str(&roff_text(
        "Every code policy validate and the policy_rejected audit record can report. Codes are \
         stable. A problem with a place in a file is shown at file:line:col; one with the whole \
         file (its mode, owner, size or encoding) at the file alone.",
    ));
    out.push('\n');
    for code in Code::ALL {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(code.as_str()),
            roff_text(code.description())
        ));
    }
    out.push_str(".SH FILES\n");
    for (path, what) in [
        ("/etc/codex-warden/policy.d/*.toml", "the policy drop-ins"),
        (INSTALLED_SCHEMA, "the JSON Schema of this format"),
        ("/usr/share/doc/codex-warden/examples/", "example policies"),
        (
            "/var/lib/codex-warden/last-good-policy.json",
            "the last policy that loaded, enforced while the drop-ins are rejected",
        ),
    ] {
        out.push_str(&format!(
            ".TP\n\\fI{}\\fR\n{}\n",
            roff_text(path),
            roff_text(what)
        ));
    }
    out.push_str(".SH SEE ALSO\n\\fBcodex\\-warden\\fR(1), \\fBcodex\\-warden\\-policy\\fR(1), /usr/share/doc/codex\\-warden/reference/policy.md\n");
    out
}

#[cfg(test)]
#[path = "reference_tests.rs"]
mod tests;
