//! The one rule for a path on the org that a configuration file may name (the non-public admin
//! endpoints of `[okta.admin]`): joined to the org URL it must stay on the org, so it starts
//! with one `/` and holds no scheme, no `//host` authority, no `.` or `..` segment, no user
//! info, no query, and nothing a URL parser reads as one of those (`\`, `%` escapes, blanks).
//! The client checks the filled-in request path again before it sends anything
//! (`okta::org_path_problem`).

use std::fmt;

/// Longest accepted path template, in characters.
pub const MAX_ORG_PATH_CHARS: usize = 512;

/// Why a path template is not a path on the org. Its message quotes nothing: the caller shows
/// the path once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrgPathError {
    #[error("it does not start with /")]
    NotAbsolute,
    #[error("it starts with //, which names another host")]
    Authority,
    #[error("it holds a scheme (://)")]
    Scheme,
    #[error("it has a . or .. segment, which leaves the path it names")]
    DotSegment,
    #[error("it holds @, which URL parsers read as user info")]
    UserInfo,
    #[error("it holds \\, which URL parsers read as /")]
    Backslash,
    #[error("it holds a % escape, which can hide a . or .. segment")]
    PercentEscape,
    #[error("it holds a blank or a control character")]
    Blank,
    #[error("it holds #, which would cut the path")]
    Fragment,
    #[error("it holds ?, a query: the client sends a path only")]
    Query,
    #[error("it has an empty segment (//)")]
    EmptySegment,
    #[error("it holds {0:?}, which is not allowed in a path")]
    Character(char),
    #[error("it is longer than {MAX_ORG_PATH_CHARS} characters")]
    TooLong,
}

/// Checks that `path` (a template: its `{placeholders}` are replaced later by ids) names a
/// path on the org, not another host or a path outside the one written.
pub fn check_org_path(path: &str) -> Result<(), OrgPathError> {
    if path.chars().count() > MAX_ORG_PATH_CHARS {
        return Err(OrgPathError::TooLong);
    }
    if path.contains("://") {
        return Err(OrgPathError::Scheme);
    }
    if !path.starts_with('/') {
        return Err(OrgPathError::NotAbsolute);
    }
    if path.starts_with("//") {
        return Err(OrgPathError::Authority);
    }
    for c in path.chars() {
        let refused = match c {
            '\\' => Some(OrgPathError::Backslash),
            '@' => Some(OrgPathError::UserInfo),
            '%' => Some(OrgPathError::PercentEscape),
            '#' => Some(OrgPathError::Fragment),
            '?' => Some(OrgPathError::Query),
            c if c.is_whitespace() || c.is_control() => Some(OrgPathError::Blank),
            // RFC 3986 path characters (pchar and /); `{` and `}` for the placeholders.
            c if c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:/{}".contains(c) => None,
            c => Some(OrgPathError::Character(c)),
        };
        if let Some(error) = refused {
            return Err(error);
        }
    }
    let rest = &path[1..];
    if rest.split('/').any(|s| s == "." || s == "..") {
        return Err(OrgPathError::DotSegment);
    }
    if !rest.is_empty() && rest.split('/').any(str::is_empty) {
        return Err(OrgPathError::EmptySegment);
    }
    Ok(())
}

/// The rule in words, for messages: what a path on the org looks like.
pub struct OrgPathRule;

impl fmt::Display for OrgPathRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a path on the org: starting with one /, only path characters, without a scheme, \
             //host, empty, . or .. segments, @, \\, % escapes, ? or # or blanks",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_the_org_pass() {
        for ok in [
            "/api/v1/internal/apps/{appId}/tasks/retry",
            "/api/v1/internal/directories/{appId}/force-sync",
            "/admin/{appId}/users/{userId}:retry",
            "/a/b.c/..d",
        ] {
            assert_eq!(check_org_path(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn paths_that_leave_the_org_are_refused() {
        let cases = [
            ("//127.0.0.1:27199/{appId}", OrgPathError::Authority),
            ("https://evil/x", OrgPathError::Scheme),
            ("/x/https://evil/", OrgPathError::Scheme),
            ("/api/../../x", OrgPathError::DotSegment),
            ("/api/./x", OrgPathError::DotSegment),
            ("/api/..", OrgPathError::DotSegment),
            ("api/{appId}", OrgPathError::NotAbsolute),
            ("", OrgPathError::NotAbsolute),
            ("/@evil/{appId}", OrgPathError::UserInfo),
            ("/\\evil/{appId}", OrgPathError::Backslash),
            ("/api/%2e%2e/{appId}", OrgPathError::PercentEscape),
            ("/api/{appId} x", OrgPathError::Blank),
            ("/api/{appId}\n", OrgPathError::Blank),
            ("/api/{appId}#x", OrgPathError::Fragment),
            ("/\t/127.0.0.1/{appId}", OrgPathError::Blank),
            ("/api/%2F%2Fevil/{appId}", OrgPathError::PercentEscape),
            ("/api/{appId}?x=1", OrgPathError::Query),
            ("/api//{appId}", OrgPathError::EmptySegment),
            ("/api/{appId}/", OrgPathError::EmptySegment),
            ("/api/<{appId}>", OrgPathError::Character('<')),
            ("/api/é/{appId}", OrgPathError::Character('é')),
        ];
        for (path, expected) in cases {
            assert_eq!(check_org_path(path), Err(expected), "{path:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_ORG_PATH_CHARS));
        assert_eq!(check_org_path(&long), Err(OrgPathError::TooLong));
    }
}
