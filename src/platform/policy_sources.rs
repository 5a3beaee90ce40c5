//! Reading policy sources from disk: the drop-in directory, files named on the command line, and
//! the macOS managed-preferences plist.
//!
//! Every read goes through [`safefs`](crate::platform::safefs): the path is walked one component
//! at a time (a symlink is followed only where only root could have planted it), the file is
//! opened without following a symlink and without blocking (a FIFO never hangs the agent), and
//! its type, ownership and size are checked on the open file before a byte is read. The bytes
//! then go to the pure loader in [`crate::core::policy`].

use std::path::{Path, PathBuf};

use crate::core::policy::diag::{self, Code, Diagnostic};
use crate::core::policy::merge::{Entry, LoadOutcome, assemble};
use crate::core::policy::plist_keys::Problem;
use crate::core::policy::source::{MAX_POLICY_BYTES, Source};
use crate::core::policy::{managed_prefs, plist_keys};
use crate::platform::safefs::{self, Dir, FileRead, Stat};

/// Read `*.toml` in `dir` in lexical order (by file name bytes), then the managed-preferences
/// plist if it exists: it comes last so it outranks the drop-ins.
///
/// Hidden files and anything not ending in `.toml` (editor backups, `.rpmnew`, …) are skipped.
pub fn load_dir(dir: &Path, managed_prefs: Option<&Path>) -> LoadOutcome {
    load_installed_with(dir, managed_prefs, &[])
}

/// `policy validate --with-installed FILE…`: the drop-ins of `dir` as they would be with
/// `candidates` installed beside them. A candidate replaces the installed file of the same name;
/// the others take their place by file name, as in the directory; the managed preferences still
/// come last. So a drop-in that only adds an `[[exception]]` is judged with the rest of the
/// policy it joins, before it is installed.
pub fn load_installed_with(
    dir: &Path,
    managed_prefs: Option<&Path>,
    candidates: &[(PathBuf, String)],
) -> LoadOutcome {
    let dir = absolute(dir);
    let dir_name = dir.display().to_string();
    let mut head = Vec::new();
    // (file name, entry), sorted by file name before they are merged.
    let mut entries: Vec<(String, Entry)> = Vec::new();
    let mut nothing_found = format!("no *.toml policy files in {dir_name}");
    let replaced: Vec<&str> = candidates.iter().map(|(_, name)| name.as_str()).collect();
    match Dir::open(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            nothing_found = format!("policy directory {dir_name} does not exist");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => head.push(Diagnostic::error(
            Code::Io,
            dir_name.clone(),
            "the policy directory is not a directory",
        )),
        Err(e) => head.push(Diagnostic::error(
            Code::Io,
            dir_name.clone(),
            format!("cannot read the policy directory: {e}"),
        )),
        Ok(handle) => {
            head.extend(check_ancestors(&dir, &dir_name));
            match handle.stat() {
                Ok(stat) => head.extend(check_ownership(&stat, &dir_name, true)),
                Err(e) => head.push(Diagnostic::error(
                    Code::Io,
                    dir_name.clone(),
                    format!("cannot inspect the policy directory: {e}"),
                )),
            }
            match handle.list() {
                Ok(names) => {
                    for name in names.into_iter().filter(|n| {
                        !n.starts_with('.')
                            && n.ends_with(".toml")
                            && !replaced.contains(&n.as_str())
                    }) {
                        let shown = dir.join(&name).display().to_string();
                        let entry = read_policy_file(&handle, &name, shown);
                        entries.push((name, entry));
                    }
                }
                Err(e) => head.push(Diagnostic::error(
                    Code::Io,
                    dir_name.clone(),
                    format!("cannot list the policy directory: {e}"),
                )),
            }
        }
    }
    for (path, name) in candidates {
        entries.push((name.clone(), read_named_file(path)));
    }
    // Stable: the directory lists in this order already; candidates take their place.
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut entries: Vec<Entry> = entries.into_iter().map(|(_, e)| e).collect();
    if let Some(path) = managed_prefs {
        entries.extend(read_managed_prefs(path));
    }
    let mut outcome = assemble(head, entries, &nothing_found, jiff::Timestamp::now());
    plist_keys::name_keys(&mut outcome.diagnostics, &outcome.sources);
    crate::platform::login_defs::apply_platform_defaults(outcome)
}

/// One file named on the command line, read safely.
fn read_named_file(path: &Path) -> Entry {
    let name = path.display().to_string();
    match open_parent(path, &name) {
        Ok((dir, file)) => read_policy_file(&dir, &file, name),
        Err(diag) => Entry {
            source: None,
            diagnostics: vec![diag],
        },
    }
}

/// Read the given files in order (`policy validate FILE...`).
pub fn load_files(files: &[PathBuf]) -> LoadOutcome {
    let entries = files.iter().map(|path| read_named_file(path)).collect();
    assemble(
        Vec::new(),
        entries,
        "no policy files were given",
        jiff::Timestamp::now(),
    )
}

/// A relative path (from the command line) made absolute, so it can be walked from `/`.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The directory holding `path`, opened safely, and the file's name in it.
fn open_parent(path: &Path, name: &str) -> Result<(Dir, String), Diagnostic> {
    let path = absolute(path);
    let io = |message: String| Diagnostic::error(Code::Io, name, message);
    let file = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io("not a file name".into()))?
        .to_string();
    let parent = path.parent().unwrap_or(Path::new("/"));
    let dir = Dir::open(parent).map_err(|e| io(format!("cannot open the file: {e}")))?;
    if let Some(diag) = check_ancestors(&path, name).into_iter().next() {
        return Err(diag);
    }
    Ok((dir, file))
}

fn read_policy_file(dir: &Dir, file: &str, name: String) -> Entry {
    let (bytes, mut diagnostics) = read_checked(dir, file, &name);
    let source = bytes.and_then(|bytes| match String::from_utf8(bytes) {
        Ok(text) => Some(Source {
            name: name.clone(),
            text,
        }),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
            let (line, column) = diag::line_col(&prefix, valid);
            let mut diag =
                Diagnostic::error(Code::NotUtf8, name.clone(), "the file is not valid UTF-8")
                    .with_help("save it as UTF-8");
            diag.line = line;
            diag.column = column;
            diagnostics.push(diag);
            None
        }
    });
    Entry {
        source,
        diagnostics,
    }
}

/// Open without following a symlink or blocking, then check type, ownership and size on the
/// open file, then read at most [`MAX_POLICY_BYTES`].
fn read_checked(dir: &Dir, file: &str, name: &str) -> (Option<Vec<u8>>, Vec<Diagnostic>) {
    let too_large = |size: u64| {
        Diagnostic::error(
            Code::TooLarge,
            name,
            format!("the file is {size} bytes; the limit is {MAX_POLICY_BYTES} (1 MiB)"),
        )
    };
    let (bytes, stat) = match dir.read_file(file, MAX_POLICY_BYTES) {
        Ok(FileRead::Regular { bytes, stat }) => (bytes, stat),
        Ok(FileRead::Absent) => {
            let diag = Diagnostic::error(
                Code::Io,
                name,
                "cannot open the file: No such file or directory (os error 2)",
            );
            return (None, vec![diag]);
        }
        Ok(FileRead::NotRegular { kind, .. }) => {
            let diag = Diagnostic::error(
                Code::NotRegularFile,
                name,
                format!("not a regular file (it is {})", with_article(kind)),
            )
            .with_help("policy files must be regular files, not symlinks or special files");
            return (None, vec![diag]);
        }
        Ok(FileRead::TooLarge { size, stat }) => {
            let mut diagnostics: Vec<Diagnostic> =
                check_ownership(&stat, name, false).into_iter().collect();
            diagnostics.push(too_large(size));
            return (None, diagnostics);
        }
        Err(e) => {
            let diag = Diagnostic::error(Code::Io, name, format!("cannot read the file: {e}"));
            return (None, vec![diag]);
        }
    };
    let diagnostics = check_ownership(&stat, name, false).into_iter().collect();
    (Some(bytes), diagnostics)
}

fn with_article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// sshd's StrictModes: owned by root (or by us, so tests and unprivileged runs work) and not
/// writable by group or others. Anyone who can write a policy file can turn enforcement off.
fn check_ownership(stat: &Stat, name: &str, is_dir: bool) -> Option<Diagnostic> {
    let euid = rustix::process::geteuid().as_raw();
    let (uid, mode) = (stat.st_uid, safefs::perm_bits(stat));
    let message = if uid != 0 && uid != euid {
        format!("owned by uid {uid}, not root: its owner could rewrite the policy")
    } else if mode & 0o022 != 0 {
        format!("writable by group or others (mode {mode:04o}): they could rewrite the policy")
    } else {
        return None;
    };
    let help = if is_dir {
        format!("chown root:root {name} && chmod 755 {name}")
    } else {
        format!("chown root:root {name} && chmod 644 {name}")
    };
    Some(Diagnostic::error(Code::FilePermissions, name, message).with_help(help))
}

/// sshd's StrictModes for the whole path: every directory from `/` down to the one holding `path`
/// (`path` itself is checked on its open handle) must be owned by
/// root (or us) and not writable by group or others, or whoever can write one of them can swap
/// the policy beneath it. A sticky directory (`/tmp`) is allowed: others cannot rename or remove
/// what is not theirs in it.
fn check_ancestors(path: &Path, name: &str) -> Vec<Diagnostic> {
    let euid = rustix::process::geteuid().as_raw();
    let mut at = PathBuf::from("/");
    let mut out = Vec::new();
    let parent = path.parent().unwrap_or(Path::new("/"));
    for component in parent.components().skip(1) {
        at.push(component);
        let Ok(stat) = rustix::fs::lstat(&at) else {
            continue;
        };
        let mode = safefs::perm_bits(&stat);
        let sticky = mode & 0o1000 != 0;
        let problem = if stat.st_uid != 0 && stat.st_uid != euid {
            format!("owned by uid {}", stat.st_uid)
        } else if mode & 0o022 != 0 && !sticky {
            format!("writable by group or others (mode {mode:04o})")
        } else {
            continue;
        };
        let shown = at.display();
        out.push(
            Diagnostic::error(
                Code::FilePermissions,
                name,
                format!("the path to the policy goes through {shown}, {problem}: whoever can write there can swap the policy"),
            )
            .with_help(format!("chown root:root {shown} && chmod go-w {shown}, or keep policies under /etc")),
        );
    }
    out
}

/// The policy from a managed-preferences plist (XML or binary): nothing if there is no plist,
/// else the base64 TOML and then the native keys (layered after it), each as its own source.
fn read_managed_prefs(path: &Path) -> Vec<Entry> {
    let name = format!("managed preferences ({})", path.display());
    let failed = |diagnostics| {
        vec![Entry {
            source: None,
            diagnostics,
        }]
    };
    let (dir, file) = match open_parent(path, &name) {
        Ok(found) => found,
        // No Managed Preferences folder at all (every Linux machine): no MDM policy.
        Err(_) if !path.parent().is_some_and(Path::exists) => return Vec::new(),
        Err(diag) => return failed(vec![diag]),
    };
    if matches!(dir.entry_stat(&file), Ok(None)) {
        return Vec::new();
    }
    let (bytes, mut diagnostics) = read_checked(&dir, &file, &name);
    let Some(bytes) = bytes else {
        return failed(diagnostics);
    };
    let prefs = match managed_prefs::decode(&bytes) {
        Ok(prefs) => prefs,
        Err(Problem { message, help }) => {
            diagnostics
                .push(Diagnostic::error(Code::ManagedPrefs, name.clone(), message).with_help(help));
            return failed(diagnostics);
        }
    };
    // One source keeps the plain name; with both forms, each says which one it is.
    let both = prefs.base64_toml.is_some() && prefs.native.is_some();
    let named = |form: &str| match both {
        true => format!("managed preferences ({}, {form})", path.display()),
        false => name.clone(),
    };
    let mut out = Vec::new();
    if let Some(text) = prefs.base64_toml {
        out.push(Entry {
            source: Some(Source {
                name: named("policy_toml_base64"),
                text,
            }),
            diagnostics: std::mem::take(&mut diagnostics),
        });
    }
    if let Some((text, problems)) = prefs.native {
        let source_name = named("native keys");
        diagnostics.extend(problems.into_iter().map(|Problem { message, help }| {
            Diagnostic::error(Code::ManagedPrefs, source_name.clone(), message).with_help(help)
        }));
        out.push(Entry {
            source: Some(Source {
                name: source_name,
                text,
            }),
            diagnostics,
        });
    }
    out
}

#[cfg(test)]
#[path = "policy_sources_tests.rs"]
mod tests;
