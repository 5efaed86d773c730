//! An error and its causes on one line. Each error's message names only its own layer's
//! context and leaves its cause to `source()`, so the chain says everything once:
//! `org prod: System Log poll failed: gave up after 5 attempts: GET /api/v1/logs: HTTP 503: …`.

use std::error::Error;
use std::fmt;

/// Shows `error`, then each of its sources, separated by `": "` (what anyhow's `{:#}` shows).
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// [`ErrorChain`] as a string.
pub fn error_chain(error: &dyn Error) -> String {
    ErrorChain(error).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer context")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn each_cause_is_shown_once() {
        let e = Outer(std::io::Error::other("the cause"));
        assert_eq!(error_chain(&e), "outer context: the cause");
    }
}
