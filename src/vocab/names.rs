//! Names that are data: every kind enum (action kinds, finding kinds, skip reasons, journal
//! entry kinds, outcomes, ...) gets its spelling from one place, its `strum` derive, and
//! everything else (JSON, the journal, metrics labels, the command line's value lists and help,
//! parse errors) reads it from there through [`Named`].

use std::fmt;

use strum::IntoEnumIterator;

/// A kind whose variants each have one name.
pub trait Named: Copy + Eq + IntoEnumIterator + Into<&'static str> + 'static {
    /// What the kind is called in messages (`action kind`).
    const WHAT: &'static str;

    /// The variant's name.
    fn name(self) -> &'static str {
        self.into()
    }

    /// Every variant's name, in declaration order.
    fn names() -> Vec<&'static str> {
        Self::iter().map(Named::name).collect()
    }

    /// The variant named `text`.
    fn from_name(text: &str) -> Result<Self, UnknownName> {
        Self::iter()
            .find(|v| v.name() == text)
            .ok_or_else(|| UnknownName {
                what: Self::WHAT,
                text: text.to_owned(),
                expected: Self::names(),
            })
    }
}

/// A name that is no variant of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct UnknownName {
    pub what: &'static str,
    pub text: String,
    pub expected: Vec<&'static str>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}: expected one of {}",
            self.what,
            self.text,
            self.expected.join(", ")
        )
    }
}

/// Implements [`Named`] for a kind deriving `strum::EnumIter` and `strum::IntoStaticStr`,
/// and with it `as_str`, `Display`, `FromStr` and serde (as the bare name): no other spelling
/// of the kind exists.
macro_rules! named {
    ($ty:ty, $what:literal) => {
        impl $crate::vocab::Named for $ty {
            const WHAT: &'static str = $what;
        }

        impl $ty {
            /// The name of this variant (see [`Named`](crate::vocab::Named)).
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::vocab::UnknownName;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                <$ty as $crate::vocab::Named>::from_name(text)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use named;
