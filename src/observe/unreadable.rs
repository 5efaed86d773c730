//! An org that could not be read at all: its app list failed (every rule starts from it), so
//! there is nothing to plan from. `plan`, `apply` and the daemon report it as an error with what
//! failed and what to check, never as an empty plan.

use super::part::{FailureKind, ReadFailure};

/// The org could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not read the org {org}: {failure}")]
pub struct OrgUnreadable {
    /// The org URL.
    pub org: String,
    /// The read that failed (the app list).
    pub failure: ReadFailure,
    /// API requests made.
    pub requests: u64,
}

/// The credentials a client uses, to say what to check: where they come from (an
/// environment variable, a configuration key), never their value.
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    /// An SSWS API token, read from `source`.
    ApiToken { source: &'a str },
    /// An OAuth 2.0 service app with a private key, read from `source`.
    ServiceApp { client_id: &'a str, source: &'a str },
}

impl OrgUnreadable {
    /// The failure's kind.
    pub fn kind(&self) -> FailureKind {
        self.failure.kind
    }

    /// One line for a person: what failed and what to check.
    pub fn advice(&self, credentials: Credentials<'_>) -> String {
        let ReadFailure {
            request, reason, ..
        } = &self.failure;
        let org = &self.org;
        match (self.failure.kind, credentials) {
            (FailureKind::Authentication, Credentials::ApiToken { source }) => format!(
                "Okta rejected the API token ({reason}) for {request}: check {source} for {org}"
            ),
            (FailureKind::Authentication, Credentials::ServiceApp { client_id, source }) => {
                format!(
                    "Okta rejected the service app's credentials ({reason}) for {request}: check \
                     the client id {client_id} and its private key ({source}) for {org}"
                )
            }
            (FailureKind::Authorization, Credentials::ServiceApp { client_id, .. }) => {
                match self.failure.scope_needed() {
                    Some(scope) => format!(
                        "Okta refused {request} ({reason}): missing scope {scope}: grant it to \
                         the service app {client_id} and request it"
                    ),
                    None => format!(
                        "Okta refused {request} ({reason}): the service app {client_id} may not \
                         make this call: grant it the scope and an admin role that allow it"
                    ),
                }
            }
            (FailureKind::Authorization, Credentials::ApiToken { .. }) => format!(
                "Okta refused {request} ({reason}): the API token's admin may not make this \
                 call: give that admin a role that can read applications"
            ),
            (FailureKind::Unreachable, _) => format!(
                "cannot reach {org} for {request} ({reason}): check the org URL and the network"
            ),
            (FailureKind::RateLimited, _) => format!(
                "Okta's rate limit stopped {request} ({reason}): try again once the limit resets"
            ),
            (FailureKind::ServerError, _) => {
                format!("Okta failed {request} ({reason}): try again later")
            }
            (FailureKind::Malformed | FailureKind::TooLarge, _) => format!(
                "{request} did not answer with Okta's JSON ({reason}): check that {org} is the \
                 Okta org's URL"
            ),
            _ => format!("{request} failed for {org} ({reason})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreadable(kind: FailureKind, reason: &str) -> OrgUnreadable {
        OrgUnreadable {
            org: "https://example.okta.com".into(),
            failure: ReadFailure::new("GET /api/v1/apps", kind, reason),
            requests: 1,
        }
    }

    #[test]
    fn the_advice_says_what_failed_and_what_to_check() {
        let token = Credentials::ApiToken {
            source: "OKTA_CLIENT_TOKEN",
        };
        let app = Credentials::ServiceApp {
            client_id: "0oasvc",
            source: "OKTA_CLIENT_PRIVATEKEY",
        };
        let auth = unreadable(
            FailureKind::Authentication,
            "HTTP 401 E0000011 Invalid token provided",
        );
        assert_eq!(
            auth.advice(token),
            "Okta rejected the API token (HTTP 401 E0000011 Invalid token provided) for GET \
             /api/v1/apps: check OKTA_CLIENT_TOKEN for https://example.okta.com"
        );
        let scope = unreadable(
            FailureKind::Authorization,
            "HTTP 403 E0000006 no permission",
        );
        assert!(
            scope.advice(app).ends_with(
                "missing scope okta.apps.read: grant it to the service app 0oasvc and request it"
            ),
            "{}",
            scope.advice(app)
        );
        let closed = unreadable(
            FailureKind::Unreachable,
            "no connection: Connection refused",
        );
        assert!(closed.advice(token).starts_with(
            "cannot reach https://example.okta.com for GET /api/v1/apps (no connection: \
             Connection refused)"
        ));
    }
}
