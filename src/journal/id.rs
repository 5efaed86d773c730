//! Entry ids: time-ordered, strictly increasing, with a stable text form.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::JournalError;

/// Format of the time part of an id's text form, e.g. `20261123T100000.123`.
const ID_TIME_FORMAT: &str = "%Y%m%dT%H%M%S%.3f";

/// Width the sequence part of the text form is zero-padded to (it grows past it if needed).
const SEQ_TEXT_WIDTH: usize = 6;

/// Length in bytes of an id's sled key: 8 bytes of milliseconds then 8 bytes of sequence.
pub(crate) const ID_KEY_LEN: usize = 16;

/// The id of a journal entry.
///
/// Sorts by time (milliseconds since the Unix epoch) then by a journal-wide sequence number
/// that never repeats and never goes back, even across restarts. The text form is
/// `20261123T100000.123Z-000042`; it sorts the same way as the id while the sequence stays within
/// six digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    millis: u64,
    seq: u64,
}

impl EntryId {
    /// The first id issued after `last` for an entry written at `now`.
    ///
    /// The time part never goes backwards, even if the wall clock does; the sequence always
    /// grows by one, so ids are strictly increasing.
    pub(crate) fn next(last: Option<EntryId>, now: DateTime<Utc>) -> EntryId {
        let now_millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        match last {
            None => EntryId {
                millis: now_millis,
                seq: 1,
            },
            Some(last) => EntryId {
                millis: now_millis.max(last.millis),
                seq: last.seq + 1,
            },
        }
    }

    /// The smallest id whose time part is at or after `time`; for range scans.
    pub(crate) fn lower_bound(time: DateTime<Utc>) -> EntryId {
        EntryId {
            millis: u64::try_from(time.timestamp_millis()).unwrap_or(0),
            seq: 0,
        }
    }

    /// The journal-wide sequence number (1 for the first entry, then consecutive).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The id's time, to the millisecond.
    pub fn time(&self) -> DateTime<Utc> {
        let millis = i64::try_from(self.millis).unwrap_or(i64::MAX);
        Utc.timestamp_millis_opt(millis)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The sled key: big-endian, so byte order is id order.
    pub(crate) fn to_key(self) -> [u8; ID_KEY_LEN] {
        let mut key = [0u8; ID_KEY_LEN];
        key[..8].copy_from_slice(&self.millis.to_be_bytes());
        key[8..].copy_from_slice(&self.seq.to_be_bytes());
        key
    }

    /// Decode a sled key; `None` if it is not [`ID_KEY_LEN`] bytes long.
    pub(crate) fn from_key(key: &[u8]) -> Option<EntryId> {
        let key: [u8; ID_KEY_LEN] = key.try_into().ok()?;
        let (millis, seq) = key.split_at(8);
        Some(EntryId {
            millis: u64::from_be_bytes(millis.try_into().ok()?),
            seq: u64::from_be_bytes(seq.try_into().ok()?),
        })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = self.time().format(ID_TIME_FORMAT);
        write!(f, "{time}Z-{:0width$}", self.seq, width = SEQ_TEXT_WIDTH)
    }
}

impl FromStr for EntryId {
    type Err = JournalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || JournalError::BadEntryId {
            text: text.to_owned(),
        };
        let (time, seq) = text.split_once("Z-").ok_or_else(bad)?;
        let time = NaiveDateTime::parse_from_str(time, ID_TIME_FORMAT).map_err(|_| bad())?;
        let millis = u64::try_from(time.and_utc().timestamp_millis()).map_err(|_| bad())?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let seq = seq.parse().map_err(|_| bad())?;
        Ok(EntryId { millis, seq })
    }
}

impl Serialize for EntryId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EntryId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(millis)
            .single()
            .expect("test time is valid")
    }

    #[test]
    fn ids_increase_within_one_millisecond_and_when_the_clock_goes_back() {
        let first = EntryId::next(None, at(1_000));
        let same_ms = EntryId::next(Some(first), at(1_000));
        let clock_back = EntryId::next(Some(same_ms), at(500));
        assert!(first < same_ms && same_ms < clock_back);
        assert_eq!(clock_back.time(), at(1_000));
        assert_eq!(clock_back.seq(), 3);
    }

    #[test]
    fn text_form_round_trips_and_sorts_like_the_id() {
        let a = EntryId {
            millis: 1_795_428_000_123,
            seq: 42,
        };
        let b = EntryId {
            millis: 1_795_428_000_123,
            seq: 43,
        };
        assert_eq!(a.to_string(), "20261123T100000.123Z-000042");
        assert_eq!(
            a.to_string().parse::<EntryId>().expect("own text parses"),
            a
        );
        assert!(a.to_string() < b.to_string());
        assert_eq!(EntryId::from_key(&a.to_key()), Some(a));
    }

    proptest::proptest! {
        #[test]
        fn issued_ids_increase_and_keys_sort_like_ids(steps in proptest::collection::vec(-5_000i64..5_000, 1..64)) {
            let mut now = 1_795_428_000_000i64;
            let mut last: Option<EntryId> = None;
            for step in steps {
                now += step;
                let id = EntryId::next(last, at(now));
                if let Some(prev) = last {
                    proptest::prop_assert!(id > prev);
                    proptest::prop_assert!(id.to_key() > prev.to_key());
                }
                proptest::prop_assert_eq!(id.to_string().parse::<EntryId>().ok(), Some(id));
                last = Some(id);
            }
        }
    }

    #[test]
    fn malformed_text_is_rejected_with_the_text() {
        for text in [
            "",
            "20261123T100000.123Z",
            "20261123T100000.123Z-",
            "x-1",
            "20261123T100000.123Z-1a",
        ] {
            let err = text.parse::<EntryId>().expect_err("malformed id");
            assert!(err.to_string().contains(&format!("`{text}`")));
        }
    }
}
