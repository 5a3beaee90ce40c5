//! One audit record: its chain head, its typed event ([`crate::platform::audit::event`]) and
//! the context stamped into it, and the line it is written as. The
//! writer ([`crate::platform::audit::writer`]) chains and signs records; the verifier
//! ([`crate::platform::audit::verify`]) reads them back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::platform::audit::event::{self, EventKind, Notes};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The context stamped into every record.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub policy_revision: String,
    pub mode: String,
}

/// Short host name, for the `host` field.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// A record's `time`: RFC 3339, UTC, always six digits of fractional seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordTime(pub jiff::Timestamp);

impl RecordTime {
    const FORMAT: &'static str = "%Y-%m-%dT%H:%M:%S%.6fZ";
}

impl std::fmt::Display for RecordTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.strftime(Self::FORMAT))
    }
}

impl Serialize for RecordTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map(RecordTime)
            .map_err(serde::de::Error::custom)
    }
}

/// The chain head of a record: the members every record starts with, in this order on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub time: RecordTime,
    pub host: String,
    pub event: EventKind,
    pub policy_revision: String,
    pub mode: String,
    pub prev_hash: String,
    /// Absent in records written before keying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// Members that belong to the chain, never to an event: an event member by one of these names
/// is not written.
const RESERVED: [&str; 10] = [
    "seq",
    "time",
    "host",
    "event",
    "policy_revision",
    "mode",
    "prev_hash",
    "key_id",
    "hash",
    "sig",
];

/// What follows the head: the event's members and the writer's notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Body {
    #[serde(flatten)]
    pub event: event::Event,
    #[serde(flatten)]
    pub notes: Notes,
}

impl Body {
    pub fn new(event: event::Event) -> Body {
        Body {
            event,
            notes: Notes::default(),
        }
    }

    /// The members after the head, by name (the order they are written in).
    pub fn members(&self) -> Result<Map<String, Value>, serde_json::Error> {
        match serde_json::to_value(self)? {
            Value::Object(mut members) => {
                members.retain(|k, _| !RESERVED.contains(&k.as_str()));
                Ok(members)
            }
            _ => Ok(Map::new()),
        }
    }
}

/// The record that is hashed: head and members, without `hash` and `sig`.
pub fn hashed(
    head: &Head,
    members: &Map<String, Value>,
) -> Result<Map<String, Value>, serde_json::Error> {
    let mut record = match serde_json::to_value(head)? {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    for (k, v) in members {
        record.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Ok(record)
}

/// The line on disk: the head first, then the members, then `hash` and `sig`.
pub fn line(
    head: &Head,
    members: &Map<String, Value>,
    hash: &str,
    sig: Option<&str>,
) -> Result<String, serde_json::Error> {
    let mut line = serde_json::to_string(head)?;
    line.pop();
    for (k, v) in members {
        if !RESERVED.contains(&k.as_str()) {
            line.push(',');
            line.push_str(&serde_json::to_string(k)?);
            line.push(':');
            line.push_str(&serde_json::to_string(v)?);
        }
    }
    line.push_str(&format!(",\"hash\":\"{hash}\""));
    if let Some(sig) = sig {
        line.push_str(&format!(",\"sig\":\"{sig}\""));
    }
    line.push_str("}\n");
    Ok(line)
}

/// One record read back, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub head: Head,
    pub body: Body,
    pub hash: String,
    pub sig: Option<String>,
}

impl Record {
    /// Read one line of the log (without its newline).
    pub fn parse(line: &str) -> Result<Record, serde_json::Error> {
        #[derive(Deserialize)]
        struct Seal {
            hash: String,
            #[serde(default)]
            sig: Option<String>,
        }
        let head: Head = serde_json::from_str(line)?;
        let body: Body = serde_json::from_str(line)?;
        let seal: Seal = serde_json::from_str(line)?;
        Ok(Record {
            head,
            body,
            hash: seal.hash,
            sig: seal.sig,
        })
    }

    /// The line this record is written as (with its newline).
    pub fn line(&self) -> Result<String, serde_json::Error> {
        line(
            &self.head,
            &self.body.members()?,
            &self.hash,
            self.sig.as_deref(),
        )
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
