//! A profile attribute's value as read: a value, a known "no value" (Okta sends `null`, or the
//! attribute is absent from a profile that was read), or unknown (the profile itself was not
//! read, e.g. an app user listed without `_embedded.user`). Unknown is never taken for "no
//! value": an unknown value differs from nothing and matches nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One attribute of a profile, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileValue {
    /// A value (never JSON `null`).
    Known(Value),
    /// No value: Okta sent `null`, or a profile that was read does not hold the attribute.
    Null,
    /// The profile was not read: the value is not known.
    Unknown,
}

impl ProfileValue {
    /// The attribute `name` of `profile`; `None` (a profile not read) makes it unknown.
    pub fn of(profile: Option<&Map<String, Value>>, name: &str) -> ProfileValue {
        let Some(profile) = profile else {
            return ProfileValue::Unknown;
        };
        ProfileValue::from_json(profile.get(name))
    }

    /// A value read from a profile that was read: absent and `null` are both no value.
    pub fn from_json(value: Option<&Value>) -> ProfileValue {
        match value {
            Some(Value::Null) | None => ProfileValue::Null,
            Some(value) => ProfileValue::Known(value.clone()),
        }
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, ProfileValue::Unknown)
    }

    /// The value as a plan records it (`None`: no value), or `None` when it is unknown (the
    /// planner never records an unknown value as a fact).
    pub fn known(&self) -> Option<Option<Value>> {
        match self {
            ProfileValue::Known(value) => Some(Some(value.clone())),
            ProfileValue::Null => Some(None),
            ProfileValue::Unknown => None,
        }
    }

    /// Whether two values are known to be the same (an unknown one is the same as nothing).
    pub fn same_as(&self, other: &ProfileValue) -> bool {
        self.is_known() && other.is_known() && self == other
    }

    /// In words: the JSON value, `no value` or `unknown`.
    pub fn show(&self) -> String {
        match self {
            ProfileValue::Known(value) => value.to_string(),
            ProfileValue::Null => "no value".to_owned(),
            ProfileValue::Unknown => "unknown".to_owned(),
        }
    }
}

impl From<Option<&Value>> for ProfileValue {
    /// A value a plan recorded (`None` or `null`: no value).
    fn from(value: Option<&Value>) -> Self {
        ProfileValue::from_json(value)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn null_and_absent_are_no_value_and_an_unread_profile_is_unknown() {
        let profile = json!({ "title": "IT", "mobilePhone": null });
        let profile = profile.as_object();
        assert_eq!(
            ProfileValue::of(profile, "title"),
            ProfileValue::Known(json!("IT"))
        );
        assert_eq!(ProfileValue::of(profile, "mobilePhone"), ProfileValue::Null);
        assert_eq!(ProfileValue::of(profile, "department"), ProfileValue::Null);
        assert_eq!(ProfileValue::of(None, "title"), ProfileValue::Unknown);
        assert!(ProfileValue::Null.same_as(&ProfileValue::Null));
        assert!(!ProfileValue::Unknown.same_as(&ProfileValue::Unknown));
        assert!(!ProfileValue::Unknown.same_as(&ProfileValue::Null));
        assert_eq!(ProfileValue::Null.known(), Some(None));
        assert_eq!(ProfileValue::Unknown.known(), None);
    }
}
