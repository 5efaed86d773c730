//! URLs on the org: the one rule every request path passes (a path on the org, never another
//! host), the encoding of ids into path segments, and the origin check made before any request
//! carries credentials.
//!
//! A URL parser joins `//host/x` or `/\host/x` onto a base as another host, drops tabs and
//! newlines, and folds `.`/`..` segments (also spelled `%2e`); so a path is refused unless it is
//! plainly a path: it starts with one `/`, has no empty, `.` or `..` segment, and only the
//! characters of RFC 3986 path segments, with no escape of `/`, `\` or `.`. The URL built from
//! it is then checked to be on the org's origin with exactly that path.

use url::Url;

use super::error::ApiError;

/// Placeholders a configured path template may hold.
pub const PATH_PLACEHOLDERS: [&str; 2] = ["{appId}", "{userId}"];

/// Bytes left unescaped in an id made a path segment: RFC 3986 unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why `template` is not a path on the org (a configured path template such as
/// `/api/v1/internal/apps/{appId}/tasks/retry`; `{appId}` and `{userId}` allowed), or `None`
/// when it is one. The policy's validation applies the same rule.
pub fn org_path_problem(template: &str) -> Option<String> {
    let mut bare = template.to_owned();
    for placeholder in PATH_PLACEHOLDERS {
        bare = bare.replace(placeholder, "x");
    }
    path_problem(&bare)
}

/// Why a request path (placeholders filled, ids encoded) is not a path on the org.
fn path_problem(path: &str) -> Option<String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Some("it does not start with /".into());
    };
    if rest.starts_with(['/', '\\']) {
        return Some("it starts with two slashes, which name another host".into());
    }
    if let Some(c) = path.chars().find(|c| !allowed(*c)) {
        return Some(format!(
            "it holds {c:?}, which is not allowed in a path (a path only: no scheme, host, query, fragment, space or backslash)"
        ));
    }
    if let Some(problem) = escape_problem(path) {
        return Some(problem);
    }
    for segment in rest.split('/') {
        match segment {
            "" if !rest.is_empty() => {
                return Some("it has an empty segment (//)".into());
            }
            "." | ".." => {
                return Some(format!(
                    "it has a {segment:?} segment, which would leave the path"
                ))
            }
            _ => {}
        }
    }
    None
}

/// RFC 3986 `pchar` and `/`, less nothing: unreserved, sub-delims, `:`, `@`, `%`.
fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%/".contains(c)
}

/// A `%` that is not `%HH`, or that escapes `/`, `\`, `.` or a control character.
fn escape_problem(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'%' {
            continue;
        }
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else {
            return Some("it has a % that is not followed by two hex digits".into());
        };
        if matches!(value, b'/' | b'\\' | b'.') || value.is_ascii_control() {
            return Some(format!(
                "it escapes {:?} as %{:02X}, which a server may read as a separator",
                value as char, value
            ));
        }
    }
    None
}

/// An Okta id as one path segment: percent-encoded; an empty, `.` or `..` id is refused (it
/// would name another path).
pub(crate) fn segment(id: &str) -> Result<String, ApiError> {
    if matches!(id, "" | "." | "..") {
        return Err(ApiError::InvalidUrl {
            path: id.to_owned(),
            message: "an empty, \".\" or \"..\" id cannot be a path segment".into(),
        });
    }
    Ok(percent_encoding::utf8_percent_encode(id, SEGMENT).to_string())
}

/// `org + path` with the query pairs given, after checking that `path` is a path on the org
/// and that the URL built is on the org's origin with exactly that path.
pub(crate) fn org_url(org: &Url, path: &str, query: &[(&str, &str)]) -> Result<Url, ApiError> {
    let invalid = |message: String| ApiError::InvalidUrl {
        path: path.to_owned(),
        message,
    };
    if path.contains(['{', '}']) {
        return Err(invalid("a placeholder was left unfilled".into()));
    }
    if let Some(problem) = path_problem(path) {
        return Err(invalid(format!("not a path on the org: {problem}")));
    }
    let mut url = org.join(path).map_err(|e| invalid(e.to_string()))?;
    if url.origin() != org.origin() || url.path() != path || url.query().is_some() {
        return Err(invalid(format!(
            "it does not stay a path on the org (it makes {})",
            shown(&url)
        )));
    }
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

/// Whether `url` is on the org's origin (scheme, host and port).
pub(crate) fn on_org(url: &Url, org: &Url) -> bool {
    url.origin() == org.origin()
}

/// Origin and path of a URL, for messages (no query, no user info).
pub(crate) fn shown(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Url {
        Url::parse("https://example.okta.com").expect("valid")
    }

    #[test]
    fn documented_admin_paths_are_paths_on_the_org() {
        for ok in [
            "/api/v1/internal/directories/{appId}/force-sync",
            "/api/v1/internal/apps/{appId}/tasks/retry",
            "/api/v1/internal/apps/{appId}/users/{userId}/tasks:retry",
            "/",
        ] {
            assert_eq!(org_path_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn every_way_out_of_the_org_is_refused() {
        for bad in [
            "//127.0.0.1:27199/{appId}",
            "http://127.0.0.1:27199/{appId}",
            "https:/evil.example.com/{appId}",
            "/\\127.0.0.1:27199/{appId}",
            "\\\\evil.example.com/{appId}",
            "/\t/evil.example.com/{appId}",
            "/ /evil.example.com/{appId}",
            "/api/../../{appId}",
            "/api/./{appId}",
            "/api/%2e%2e/{appId}",
            "/api/%2E%2e/{appId}",
            "/api%2f%2fevil/{appId}",
            "/api/%5cevil/{appId}",
            "/api/%0a/{appId}",
            "/api/%zz/{appId}",
            "/api//x/{appId}",
            "/api/{appId}?next=//evil",
            "/api/{appId}#x",
            "api/{appId}",
            "",
            "@evil.example.com/{appId}",
        ] {
            assert!(org_path_problem(bad).is_some(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn built_urls_stay_on_the_org() {
        let url = org_url(&org(), "/api/v1/apps/0oa1", &[("limit", "200")]).expect("valid");
        assert_eq!(
            url.as_str(),
            "https://example.okta.com/api/v1/apps/0oa1?limit=200"
        );
        let err = org_url(&org(), "//evil.example.com/x", &[]).expect_err("refused");
        assert!(matches!(err, ApiError::InvalidUrl { .. }), "{err:?}");
        let err = org_url(&org(), "/api/v1/apps/{appId}", &[]).expect_err("unfilled");
        assert!(err.to_string().contains("placeholder"), "{err}");
    }

    #[test]
    fn ids_are_encoded_and_dot_segments_refused() {
        assert_eq!(segment("0oa1").expect("id"), "0oa1");
        assert_eq!(
            segment("//evil.example.com:1/x").expect("id"),
            "%2F%2Fevil.example.com%3A1%2Fx"
        );
        assert_eq!(segment("a b+c").expect("id"), "a%20b%2Bc");
        assert_eq!(segment("%2e%2e").expect("id"), "%252e%252e");
        for bad in ["", ".", ".."] {
            assert!(segment(bad).is_err(), "{bad:?}");
        }
        // An id holding a separator is no Okta id: refused even encoded (a proxy may decode it).
        for id in ["//evil.example.com/x", "\\\\evil"] {
            let path = format!("/api/v1/apps/{}/users", segment(id).expect("encoded"));
            assert!(org_url(&org(), &path, &[]).is_err(), "{id:?}");
        }
        let path = format!("/api/v1/apps/{}/users", segment("0oa.1~x").expect("id"));
        let url = org_url(&org(), &path, &[]).expect("an ordinary id stays a segment");
        assert_eq!(url.path(), "/api/v1/apps/0oa.1~x/users");
    }
}
