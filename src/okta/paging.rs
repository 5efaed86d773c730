//! Paging of Okta listings: the page types and the `Link` header (RFC 8288) that carries the
//! opaque `rel="next"` URL.

use reqwest::header::{HeaderMap, LINK};
use url::Url;

/// The opaque URL of the next page, exactly as Okta's `Link: <...>; rel="next"` gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPage(pub(crate) Url);

impl NextPage {
    /// The URL (for logging without secrets: Okta cursors are not secrets).
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// Rebuilds a saved next-page URL (e.g. a System Log cursor from the journal).
    pub fn from_url(url: Url) -> Self {
        Self(url)
    }
}

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// The first page, at the endpoint's largest page size.
    First,
    /// The page a previous `Page::next` pointed at.
    Next(NextPage),
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The next page, if Okta announced one.
    pub next: Option<NextPage>,
}

/// The `rel="next"` target among all `Link` headers, resolved against the org.
pub(crate) fn next_link(headers: &HeaderMap, org: &Url) -> Option<Url> {
    headers
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(split_link_values)
        .find_map(|(target, params)| {
            let is_next = params.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("rel")
                    && v.split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            });
            if !is_next {
                return None;
            }
            org.join(&target).ok()
        })
}

/// Splits one `Link` header into `(target, params)` per link-value (RFC 8288).
pub(crate) fn split_link_values(header: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = header.trim_start();
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let target = after[..end].trim().to_owned();
        rest = &after[end + 1..];
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start();
            let Some(stripped) = rest.strip_prefix(';') else {
                break;
            };
            let (param, tail) = take_param(stripped);
            if let Some(p) = param {
                params.push(p);
            }
            rest = tail;
        }
        out.push((target, params));
        rest = rest.trim_start().strip_prefix(',').unwrap_or(rest);
    }
    out
}

/// Reads `name=value` or `name="quoted value"`; returns the rest of the input.
fn take_param(input: &str) -> (Option<(String, String)>, &str) {
    let input = input.trim_start();
    let name_end = input.find(['=', ';', ',']).unwrap_or(input.len());
    let name = input[..name_end].trim().to_ascii_lowercase();
    let rest = &input[name_end..];
    let Some(value_part) = rest.strip_prefix('=') else {
        return (Some((name, String::new())), rest);
    };
    let value_part = value_part.trim_start();
    if let Some(q) = value_part.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = q.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, esc)) = chars.next() {
                        value.push(esc);
                    }
                }
                '"' => return (Some((name, value)), &q[i + 1..]),
                other => value.push(other),
            }
        }
        return (Some((name, value)), "");
    }
    let end = value_part.find([';', ',']).unwrap_or(value_part.len());
    (
        Some((name, value_part[..end].trim().to_owned())),
        &value_part[end..],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn org() -> Url {
        Url::parse("https://example.okta.com").expect("valid")
    }

    #[test]
    fn finds_next_among_several_links() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://example.okta.com/api/v1/apps?limit=2>; rel=\"self\", <https://example.okta.com/api/v1/apps?after=a%2Cb&limit=2>; rel=\"next\"",
            ),
        );
        let next = next_link(&h, &org()).expect("next link present");
        assert_eq!(
            next.as_str(),
            "https://example.okta.com/api/v1/apps?after=a%2Cb&limit=2"
        );
    }

    #[test]
    fn finds_next_in_second_header_and_unquoted() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static("</api/v1/logs?x=1>; rel=self"),
        );
        h.append(
            LINK,
            HeaderValue::from_static("</api/v1/logs?after=Z9>; rel=next"),
        );
        let next = next_link(&h, &org()).expect("next link present");
        assert_eq!(
            next.as_str(),
            "https://example.okta.com/api/v1/logs?after=Z9"
        );
    }

    #[test]
    fn no_next_when_only_self() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static("<https://example.okta.com/a>; rel=\"self\""),
        );
        assert_eq!(next_link(&h, &org()), None);
    }
}
