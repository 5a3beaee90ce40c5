//! What `/proc/PID/status` says of a process, read once by one parser: its real ids (the user
//! it runs as, the groups its files are read with), who traces it, and whether a SIGTERM can reach
//! it at all. Pure: the platform layer (`platform/procfs.rs`) reads the file and hands the text
//! here.
//!
//! A traced process (`TracerPid` non-zero) can have its memory, environment included, rewritten
//! by its tracer after the agent judged it, and its tracer may swallow any signal but SIGKILL:
//! unless root traces it, it is unjudged ([`ProcStatus::untrusted_tracer`]).
//!
//! How a SIGTERM fares ([`ProcStatus::term`]) comes from the signal masks: an ignored or blocked
//! SIGTERM never arrives, nor does one sent from outside to the init of a pid namespace that has
//! no handler for it (the kernel drops it); a traced process's tracer may drop it. A process that
//! cannot get it is killed at once rather than waited for.

/// The fields of `/proc/PID/status` the agent uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStatus {
    /// Real uid, as seen from the reader's user namespace (the initial one, for the agent).
    pub uid: u32,
    /// Real gid, when given.
    pub gid: Option<u32>,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    /// The tracer's pid (0: not traced).
    pub tracer_pid: u32,
    /// `SigIgn`, `SigBlk` and `SigCgt`: one bit per signal (bit `n - 1` for signal `n`).
    pub ignored: u64,
    pub blocked: u64,
    pub caught: u64,
    /// The process is the init (pid 1) of a pid namespace below the reader's (`NSpid`).
    pub ns_init: bool,
}

/// What a SIGTERM sent to a stopped (frozen) process does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermFate {
    /// Default action: the kernel ends the process, frozen or not.
    Ends,
    /// A handler catches it: the process must run to handle it (Codex saves its state and exits).
    Handled,
    /// It never arrives (or its tracer may drop it): why.
    Never(String),
}

const SIGTERM: u32 = 15;

fn mask(text: &str, name: &str) -> Option<u64> {
    let v = field(text, name)?;
    u64::from_str_radix(v.trim(), 16).ok()
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
}

fn numbers(v: &str) -> Vec<u32> {
    v.split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Parse `/proc/PID/status`. `None` when the real uid is missing (not such a file); the signal
/// masks read as nothing set when absent, `TracerPid` as a tracer of unknown pid (fail closed).
pub fn parse_status(text: &str) -> Option<ProcStatus> {
    let uid = *numbers(field(text, "Uid")?).first()?;
    let gid = field(text, "Gid").and_then(|g| numbers(g).first().copied());
    let ns_pids = field(text, "NSpid").map(numbers).unwrap_or_default();
    Some(ProcStatus {
        uid,
        gid,
        groups: field(text, "Groups").map(numbers).unwrap_or_default(),
        tracer_pid: match field(text, "TracerPid") {
            Some(v) => v.trim().parse().unwrap_or(u32::MAX),
            None => u32::MAX,
        },
        ignored: mask(text, "SigIgn").unwrap_or(0),
        blocked: mask(text, "SigBlk").unwrap_or(0),
        caught: mask(text, "SigCgt").unwrap_or(0),
        ns_init: ns_pids.len() > 1 && ns_pids.last() == Some(&1),
    })
}

impl ProcStatus {
    fn has(mask: u64, sig: u32) -> bool {
        mask & (1 << (sig - 1)) != 0
    }

    /// What a SIGTERM from the agent does to this process (see the module docs).
    pub fn term(&self) -> TermFate {
        if self.tracer_pid != 0 {
            return TermFate::Never(format!(
                "it is traced (by pid {}), whose tracer may drop SIGTERM",
                self.tracer_pid
            ));
        }
        if Self::has(self.ignored, SIGTERM) {
            return TermFate::Never("it ignores SIGTERM".into());
        }
        if Self::has(self.blocked, SIGTERM) {
            return TermFate::Never("it blocks SIGTERM".into());
        }
        if Self::has(self.caught, SIGTERM) {
            return TermFate::Handled;
        }
        if self.ns_init {
            return TermFate::Never(
                "it is the init of its own pid namespace, which gets no SIGTERM from outside \
                 without a handler"
                    .into(),
            );
        }
        TermFate::Ends
    }

    /// Why the process cannot be trusted to hold what it was judged on: traced by a process of
    /// another uid than root's (`tracer_uid`: the tracer's real uid, `None` when it cannot be
    /// read). `None`: not traced, or traced by root.
    pub fn untrusted_tracer(&self, tracer_uid: Option<u32>) -> Option<String> {
        if self.tracer_pid == 0 || tracer_uid == Some(0) {
            return None;
        }
        Some(match tracer_uid {
            Some(uid) => format!(
                "it is traced by pid {} (uid {uid}), which can rewrite its memory and \
                 environment after it is judged",
                self.tracer_pid
            ),
            None => format!(
                "it is traced by pid {}, whose owner cannot be read; a tracer can rewrite its \
                 memory and environment after it is judged",
                self.tracer_pid
            ),
        })
    }
}

#[cfg(test)]
#[path = "proc_status_tests.rs"]
mod tests;
