//! Durations as policies write them: `"500ms"`, `"5s"`, `"2m"`, `"1h"`. A leaf: the policy
//! schema and the `[audit]` settings both read them, and neither names the other.

use std::time::Duration;

/// `"500ms"`, `"5s"`, `"2m"`, `"1h"`: a whole number and a unit.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = s.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    Some(Duration::from_millis(number.checked_mul(millis_per_unit)?))
}

/// The inverse of [`parse_duration`], in the largest unit that is exact.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if !duration.subsec_nanos().is_multiple_of(1_000_000) {
        return format!("{}ns", duration.as_nanos());
    }
    match millis {
        0 => "0s".to_string(),
        m if m.is_multiple_of(3_600_000) => format!("{}h", m / 3_600_000),
        m if m.is_multiple_of(60_000) => format!("{}m", m / 60_000),
        m if m.is_multiple_of(1_000) => format!("{}s", m / 1_000),
        m => format!("{m}ms"),
    }
}
