//! Typed Okta object ids, so an app id cannot be passed where a user id is expected; and
//! [`string_id!`], the macro every string id of the crate is declared with.

/// Declares a string id: a newtype over `String`, serialized as the bare string (serde
/// transparent), shown as it is (`Display`), parsed from any text (`FromStr`), read as a `&str`
/// (`as_str`, `Deref`).
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as it was read or issued.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self(text.to_owned()))
            }
        }

        /// An id reads as the string it wraps (never the other way round: a `&str` or another
        /// kind of id is not this id).
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        /// Ids order and hash as their strings do, so a set of ids is searched by `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                Self(s.clone())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}
pub(crate) use string_id;

string_id!(
    /// An application instance id (`0oa...`). A directory (AD, LDAP) is an app instance too.
    AppId
);
string_id!(
    /// A user id (`00u...`).
    UserId
);
string_id!(
    /// A group id (`00g...`).
    GroupId
);
string_id!(
    /// A group push mapping id (`gPm...`).
    MappingId
);
string_id!(
    /// An agent pool id.
    AgentPoolId
);
string_id!(
    /// A directory agent id.
    AgentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_bare_strings_and_parse_from_text() {
        let id: AppId = "0oa1".parse().expect("any text is an id");
        assert_eq!(id, AppId::new("0oa1"));
        assert_eq!(id.as_str(), "0oa1");
        assert_eq!(id.to_string(), "0oa1");
        assert_eq!(serde_json::to_string(&id).expect("serializes"), "\"0oa1\"");
        let back: AppId = serde_json::from_str("\"0oa1\"").expect("deserializes");
        assert_eq!(back, id);
    }
}
