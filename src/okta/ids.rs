//! Typed Okta object ids, so an app id cannot be passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! okta_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as Okta returned it.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

okta_id!(
    /// An application instance id (`0oa...`).
    AppId
);
okta_id!(
    /// A user id (`00u...`).
    UserId
);
okta_id!(
    /// A group id (`00g...`).
    GroupId
);
okta_id!(
    /// A group push mapping id (`gPm...`).
    MappingId
);
okta_id!(
    /// An agent pool id.
    AgentPoolId
);
