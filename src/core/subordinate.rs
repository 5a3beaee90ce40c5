//! Whose a process is when its uid is no account's: a subordinate uid (`/etc/subuid`) of a user,
//! reached through a user namespace (`unshare --map-users`, `newuidmap`, rootless containers).
//! Pure: the platform layer reads `/proc/PID/uid_map` and `/etc/subuid` and hands the text here.
//!
//! The kernel shows the agent (in the initial user namespace) a process's uid as it is there, so
//! a session in its own namespace mapped to its user's own uid (`unshare --map-root-user`) already
//! reads as that user. A uid with no account is attributed to the owner of the `/etc/subuid` range
//! that holds it, and only when every uid its namespace maps (`/proc/PID/uid_map`, the namespace's
//! mapping to the initial one) is that same owner's: their own uid or their subordinate ranges,
//! which is all `newuidmap` lets a user map. Anything else (no range, ranges of two owners, a map
//! that cannot be read) cannot be attributed: the session is unjudged, never skipped.

/// One line of `/proc/PID/uid_map`: `count` ids from `inside` in the namespace are `outside` in
/// the reader's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// One line of `/etc/subuid`: `count` uids from `start` belong to `owner` (a name or a uid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubRange {
    pub owner: String,
    pub start: u32,
    pub count: u32,
}

impl SubRange {
    fn holds(&self, uid: u32) -> bool {
        uid >= self.start && u64::from(uid) < u64::from(self.start) + u64::from(self.count)
    }

    /// Whether `[start, start + count)` lies within this range.
    fn covers(&self, start: u32, count: u32) -> bool {
        count > 0
            && start >= self.start
            && u64::from(start) + u64::from(count) <= u64::from(self.start) + u64::from(self.count)
    }
}

/// Whether `uid` is in any subordinate range.
pub fn in_a_range(uid: u32, ranges: &[SubRange]) -> bool {
    ranges.iter().any(|r| r.holds(uid))
}

/// Parse `/proc/PID/uid_map`; `None` when a line is not three numbers.
pub fn parse_uid_map(text: &str) -> Option<Vec<IdMap>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let n: Vec<u32> = l
                .split_whitespace()
                .map(|f| f.parse().ok())
                .collect::<Option<_>>()?;
            match n[..] {
                [inside, outside, count] => Some(IdMap {
                    inside,
                    outside,
                    count,
                }),
                _ => None,
            }
        })
        .collect()
}

/// The map of the initial user namespace: every id is itself.
pub fn is_initial(map: &[IdMap]) -> bool {
    map == [IdMap {
        inside: 0,
        outside: 0,
        count: u32::MAX,
    }]
}

/// Parse `/etc/subuid` (`owner:start:count`; blank lines, `#` comments and malformed lines are
/// skipped, as shadow-utils skips them).
pub fn parse_subuid(text: &str) -> Vec<SubRange> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (owner, start, count) = (f.next()?, f.next()?, f.next()?);
            if owner.is_empty() || f.next().is_some() {
                return None;
            }
            Some(SubRange {
                owner: owner.to_string(),
                start: start.parse().ok()?,
                count: count.parse().ok()?,
            })
        })
        .collect()
}

/// The owner (as `/etc/subuid` names them: a name or a uid) a process of `uid` is attributed to,
/// given its namespace's `map` (`None`: unreadable) and the machine's subordinate ranges; `owns`
/// tells whether an owner token names the account of a uid (its name or its number). `Err`: why
/// it cannot be attributed.
pub fn owner_of(
    uid: u32,
    map: Option<&[IdMap]>,
    ranges: &[SubRange],
    owns: &dyn Fn(&str, u32) -> bool,
) -> Result<String, String> {
    let Some(range) = ranges.iter().find(|r| r.holds(uid)) else {
        return Err(format!(
            "it runs as uid {uid}, which is no account's and in no subordinate uid range \
             (/etc/subuid)"
        ));
    };
    let Some(map) = map else {
        return Err(format!(
            "it runs as uid {uid}, a subordinate uid of {}, but its user namespace's uid map \
             cannot be read",
            range.owner
        ));
    };
    if is_initial(map) {
        return Ok(range.owner.clone());
    }
    for m in map {
        let theirs = ranges
            .iter()
            .filter(|r| r.owner == range.owner)
            .any(|r| r.covers(m.outside, m.count))
            || (m.count == 1 && owns(&range.owner, m.outside));
        if !theirs {
            return Err(format!(
                "it runs as uid {uid}, a subordinate uid of {}, in a user namespace that also \
                 maps uids {}..{} which are not theirs",
                range.owner,
                m.outside,
                u64::from(m.outside) + u64::from(m.count)
            ));
        }
    }
    Ok(range.owner.clone())
}

#[cfg(test)]
#[path = "subordinate_tests.rs"]
mod tests;
