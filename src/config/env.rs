//! The environment variables configuration is read from, behind a lookup: the process
//! environment in the binary, a map in tests (which never change the process's environment
//! while other threads read it).

use std::collections::BTreeMap;
use std::fmt;

/// Looks environment variables up by name.
pub trait Env: Send + Sync {
    /// The value of `name`; `None` when it is not set (or not valid UTF-8).
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables. Its `Debug` output shows the names only: values may be secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MapEnv(BTreeMap<String, String>);

impl MapEnv {
    /// No variable set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same variables and `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for MapEnv {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for MapEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("MapEnv").field(&self.0.keys()).finish()
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A closure is a lookup too (`&|name| ...`).
impl<F: Fn(&str) -> Option<String> + Send + Sync> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_answers_its_own_variables_and_hides_their_values() {
        let env = MapEnv::new().with("ACME_TOKEN", "s3cr3t");
        assert_eq!(env.var("ACME_TOKEN").as_deref(), Some("s3cr3t"));
        assert_eq!(env.var("OTHER"), None);
        let shown = format!("{env:?}");
        assert!(
            shown.contains("ACME_TOKEN") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }

    #[test]
    fn a_closure_is_a_lookup() {
        let env: &dyn Env = &|name: &str| (name == "A").then(|| "1".to_owned());
        assert_eq!(env.var("A").as_deref(), Some("1"));
        assert_eq!(env.var("B"), None);
    }
}
