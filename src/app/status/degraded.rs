//! Why watching is degraded, as parts that each change on their own: directories that cannot be
//! watched, and users whose processes name more Codex homes than the agent takes on. Each part
//! is recorded (`watch_degraded`) when it changes, not at every scan that still finds it;
//! status shows the parts that hold, joined with `; `.

/// The parts of a degraded watch that hold now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Degraded {
    /// Directories that cannot be watched (the kernel's limit, or other errors).
    unwatched: Option<String>,
    /// Users whose processes name more Codex homes than are watched.
    capped: Option<String>,
}

impl Degraded {
    pub fn is_degraded(&self) -> bool {
        self.unwatched.is_some() || self.capped.is_some()
    }

    /// What status says: each part that holds, joined with `; `.
    pub fn reason(&self) -> Option<String> {
        let parts: Vec<&str> = [&self.unwatched, &self.capped]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// The directories that cannot be watched now (`None`: all can). True when that is news: a
    /// new reason to record.
    pub fn set_unwatched(&mut self, reason: Option<String>) -> bool {
        replace(&mut self.unwatched, reason)
    }

    /// The users whose homes are capped now (`None`: nobody's). True when that is news.
    pub fn set_capped(&mut self, reason: Option<String>) -> bool {
        replace(&mut self.capped, reason)
    }
}

fn replace(part: &mut Option<String>, now: Option<String>) -> bool {
    let news = now.is_some() && *part != now;
    *part = now;
    news
}

#[cfg(test)]
#[path = "degraded_tests.rs"]
mod tests;
