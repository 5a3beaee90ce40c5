//! Telling a user on their Mac's desktop that a session was stopped: Notification Center, through
//! `osascript` run as the user in their login session (`launchctl asuser` for the session,
//! `sudo -u` for the user's credentials), as `notify-send` is on Linux. Fire and forget.

/// `text` as an AppleScript string literal: quotes and backslashes escaped, control characters
/// but newline and tab dropped (nothing the script could run). Pure.
pub fn applescript_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The script that shows `text` as a notification titled "Codex session stopped".
pub fn script(title: &str, text: &str) -> String {
    format!(
        "display notification {} with title {}",
        applescript_string(text),
        applescript_string(title)
    )
}

/// Show `text` on the desktop of user `uid`, when they are logged in at the console. The helper
/// gets an empty environment (every program is named by its absolute path; sudo sets its own
/// PATH), cwd `/` and `/dev/null` for stdio; a thread reaps it.
#[cfg(target_os = "macos")]
pub fn desktop(uid: u32, _gid: u32, title: &str, text: &str) -> bool {
    if uid == 0 {
        return false;
    }
    crate::platform::users::close_inherited_on_exec();
    let child = std::process::Command::new("/bin/launchctl")
        .env_clear()
        .current_dir("/")
        .arg("asuser")
        .arg(uid.to_string())
        .arg("/usr/bin/sudo")
        .arg("-n")
        .arg("-u")
        .arg(format!("#{uid}"))
        .arg("/usr/bin/osascript")
        .arg("-e")
        .arg(script(title, text))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match child {
        Ok(mut c) => {
            std::thread::spawn(move || c.wait());
            true
        }
        Err(_) => false,
    }
}

#[cfg(test)]
#[path = "notify_tests.rs"]
mod tests;
