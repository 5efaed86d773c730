//! Paging of Okta listings: the page types, the `Link` header (RFC 8288) that carries the opaque
//! `rel="next"` URL, and the trail that keeps one listing bounded and loop-safe.
//!
//! A listing is the chain of pages from [`PageRequest::First`] through each page's
//! [`Page::next`]. Every [`NextPage`] of one chain shares its [`Trail`], so the client refuses,
//! whoever drives the loop, to read a page of the chain twice, to follow a `next` link off the
//! org, to read more pages than the endpoint's bound, or to accept an item id twice. Each is a
//! [`ListingProblem`]: the listing is incomplete and says why; it never hangs and is never
//! taken as complete.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::header::{HeaderMap, LINK};
use url::Url;

/// Most pages of one listing of `GET /api/v1/apps` (200 apps a page: 400,000 apps).
pub const MAX_APPS_PAGES: u32 = 2_000;
/// Most pages of one listing of `GET /api/v1/apps/{appId}/users` (500 a page: 5,000,000
/// assignments of one app).
pub const MAX_APP_USERS_PAGES: u32 = 10_000;
/// Most pages of one listing of `GET /api/v1/apps/{appId}/group-push/mappings` (1,000 a page:
/// 1,000,000 mappings of one app).
pub const MAX_PUSH_MAPPINGS_PAGES: u32 = 1_000;
/// Most pages of one chain of `GET /api/v1/logs` (1,000 events a page: 10,000,000 events).
pub const MAX_LOGS_PAGES: u32 = 10_000;
/// Most empty pages in a row that still announce a `next` page. Okta ends a listing with at
/// most one empty page; only a System Log poll answers empty pages with a `next` link, and a
/// poll stops at the first page that is not full.
pub const MAX_EMPTY_PAGES_IN_A_ROW: u32 = 10;

/// The URL of the next page, exactly as Okta's `Link: <...>; rel="next"` gave it, and the
/// trail of the listing it belongs to.
#[derive(Clone)]
pub struct NextPage {
    url: Url,
    trail: Arc<Trail>,
}

impl NextPage {
    /// The URL (for logging without secrets: Okta cursors are not secrets).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Rebuilds a saved next-page URL (e.g. a System Log cursor from the journal): the start of
    /// a new chain, with a trail of its own.
    pub fn from_url(url: Url) -> Self {
        Self {
            url,
            trail: Arc::new(Trail::default()),
        }
    }

    /// The next page of the listing whose trail is `trail`.
    pub(crate) fn chained(url: Url, trail: Arc<Trail>) -> Self {
        Self { url, trail }
    }

    pub(crate) fn into_parts(self) -> (Url, Arc<Trail>) {
        (self.url, self.trail)
    }
}

impl PartialEq for NextPage {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl Eq for NextPage {}

impl fmt::Debug for NextPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NextPage").field(&self.url.as_str()).finish()
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

/// Why a listing could not be read to its end. The listing is incomplete: what was read is
/// not all there is, or not to be trusted as all there is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListingProblem {
    /// A `next` link pointed at a page this listing had already read (a loop).
    LinkLoop {
        /// The page that would have been read again (1 is the first page).
        page: u32,
    },
    /// A `next` link named another origin; it was not followed, so no credential went there.
    ForeignNext {
        /// The origin it named (`scheme://host:port`).
        origin: String,
    },
    /// A `next` link that is not a URL.
    UnreadableNext {
        /// Why it could not be read.
        reason: String,
    },
    /// More pages than the endpoint's bound.
    TooManyPages {
        /// The bound.
        max_pages: u32,
    },
    /// An item id came twice (the cursor moved under the listing: items may also be missing).
    RepeatedItem {
        /// The id.
        id: String,
        /// The page it came again on (1 is the first page).
        page: u32,
    },
    /// Too many empty pages in a row that still announced a next page.
    EmptyPages {
        /// How many.
        count: u32,
    },
}

impl fmt::Display for ListingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListingProblem::LinkLoop { page } => write!(
                f,
                "the next link points back at page {page}, already read (a paging loop)"
            ),
            ListingProblem::ForeignNext { origin } => write!(
                f,
                "the next link names another origin ({origin}); not followed, no credentials sent there"
            ),
            ListingProblem::UnreadableNext { reason } => {
                write!(f, "the next link is not a URL: {reason}")
            }
            ListingProblem::TooManyPages { max_pages } => {
                write!(f, "more than {max_pages} pages (the bound of this listing)")
            }
            ListingProblem::RepeatedItem { id, page } => write!(
                f,
                "item {id} came again on page {page} (the listing shifted while it was read)"
            ),
            ListingProblem::EmptyPages { count } => {
                write!(f, "{count} empty pages in a row, each announcing another")
            }
        }
    }
}

/// An item of a listing with the id that must not repeat within it.
pub(crate) trait Listed {
    /// The item's id (`id`, or `uuid` for System Log events).
    fn listing_id(&self) -> &str;
}

/// What one listing has read so far, shared by the [`NextPage`]s of its chain.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    state: Mutex<TrailState>,
}

#[derive(Debug, Default)]
struct TrailState {
    /// Pages read.
    pages: u32,
    /// Empty pages read in a row.
    empty_run: u32,
    /// The pages read, as [`page_key`]s.
    visited: HashSet<String>,
    /// Hashes of the item ids read (8 bytes an item, whatever the id's length).
    ids: HashSet<u64>,
    hasher: RandomState,
}

impl Trail {
    /// Before reading `url` as the next page: refuses a page of this listing already read, a
    /// page past `max_pages`, a run of empty pages and another origin than `org`'s.
    pub(crate) fn before_read(
        &self,
        url: &Url,
        org: &Url,
        max_pages: u32,
    ) -> Result<(), ListingProblem> {
        if url.origin() != org.origin() {
            return Err(ListingProblem::ForeignNext {
                origin: url.origin().ascii_serialization(),
            });
        }
        let state = self.lock();
        if state.visited.contains(&page_key(url)) {
            return Err(ListingProblem::LinkLoop {
                page: state.pages + 1,
            });
        }
        if state.pages >= max_pages {
            return Err(ListingProblem::TooManyPages { max_pages });
        }
        if state.empty_run >= MAX_EMPTY_PAGES_IN_A_ROW {
            return Err(ListingProblem::EmptyPages {
                count: state.empty_run,
            });
        }
        Ok(())
    }

    /// After page `url` was read with `items`: records it and refuses an id read before.
    pub(crate) fn after_read<T: Listed>(
        &self,
        url: &Url,
        items: &[T],
    ) -> Result<(), ListingProblem> {
        let mut state = self.lock();
        state.pages += 1;
        state.visited.insert(page_key(url));
        state.empty_run = if items.is_empty() {
            state.empty_run + 1
        } else {
            0
        };
        let page = state.pages;
        for item in items {
            let id = item.listing_id();
            let hash = state.hasher.hash_one(id);
            if !state.ids.insert(hash) {
                return Err(ListingProblem::RepeatedItem {
                    id: id.to_owned(),
                    page,
                });
            }
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TrailState> {
        // The state is consistent after every statement: a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A page's identity: origin, path and query pairs in order of name, an empty `after` (the
/// first page, as Okta reads it) left out.
pub(crate) fn page_key(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, v)| !(k == "after" && v.is_empty()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}{}?{}",
        url.origin().ascii_serialization(),
        url.path(),
        query.join("&")
    )
}

/// The `rel="next"` target among all `Link` headers, resolved against `base` (the page's
/// URL); `Err` when a `next` link is there but is not a URL.
pub(crate) fn next_link(headers: &HeaderMap, base: &Url) -> Result<Option<Url>, String> {
    let targets = headers
        .get_all(LINK)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .flat_map(|v| split_link_values(&v));
    for (target, params) in targets {
        let is_next = params.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("rel")
                && v.split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return base.join(&target).map(Some).map_err(|e| e.to_string());
        }
    }
    Ok(None)
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

/// The `name=value` parameters of an authentication challenge after its scheme (RFC 9110
/// section 11.2), names lower-cased.
pub(crate) fn auth_params(input: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = input;
    loop {
        rest = rest.trim_start().trim_start_matches(',').trim_start();
        if rest.is_empty() {
            return out;
        }
        let (param, tail) = take_param(rest);
        if tail.len() >= rest.len() {
            return out;
        }
        out.extend(param);
        rest = tail;
    }
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
        let next = next_link(&h, &org())
            .expect("readable")
            .expect("next link present");
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
        let next = next_link(&h, &org())
            .expect("readable")
            .expect("next link present");
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
        assert_eq!(next_link(&h, &org()), Ok(None));
    }

    struct Item(&'static str);

    impl Listed for Item {
        fn listing_id(&self) -> &str {
            self.0
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect("valid")
    }

    #[test]
    fn one_link_header_per_rel_with_an_empty_after_as_okta_sends_them() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://example.okta.com/api/v1/apps/0oa1/group-push/mappings?after=&limit=100>; rel=\"self\"",
            ),
        );
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://example.okta.com/api/v1/apps/0oa1/group-push/mappings?after=gPm2&limit=100>; rel=\"next\"",
            ),
        );
        let next = next_link(&h, &org()).expect("readable").expect("next");
        assert_eq!(next.query(), Some("after=gPm2&limit=100"));
    }

    #[test]
    fn a_next_link_that_is_not_a_url_is_an_error_not_the_last_page() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static("<https://[::1/api/v1/apps?after=x>; rel=\"next\""),
        );
        assert!(next_link(&h, &org()).is_err());
    }

    #[test]
    fn a_page_key_ignores_query_order_and_an_empty_after() {
        assert_eq!(
            page_key(&url("https://example.okta.com/api/v1/apps?limit=200")),
            page_key(&url(
                "https://example.okta.com/api/v1/apps?after=&limit=200"
            ))
        );
        assert_eq!(
            page_key(&url("https://example.okta.com/x?b=2&a=1")),
            page_key(&url("https://example.okta.com/x?a=1&b=2"))
        );
        assert_ne!(
            page_key(&url("https://example.okta.com/x?after=1")),
            page_key(&url("https://example.okta.com/x?after=2"))
        );
    }

    #[test]
    fn the_trail_refuses_a_page_read_before() {
        let trail = Trail::default();
        let first = url("https://example.okta.com/api/v1/apps?limit=2");
        let second = url("https://example.okta.com/api/v1/apps?after=b&limit=2");
        trail.before_read(&first, &org(), 10).expect("first page");
        trail
            .after_read(&first, &[Item("a"), Item("b")])
            .expect("new ids");
        trail.before_read(&second, &org(), 10).expect("second page");
        trail.after_read(&second, &[Item("c")]).expect("new ids");
        let looped = url("https://example.okta.com/api/v1/apps?after=&limit=2");
        assert_eq!(
            trail.before_read(&looped, &org(), 10),
            Err(ListingProblem::LinkLoop { page: 3 })
        );
    }

    #[test]
    fn the_trail_refuses_a_repeated_id_too_many_pages_and_another_origin() {
        let trail = Trail::default();
        let page = |n: u32| url(&format!("https://example.okta.com/x?after={n}"));
        trail.after_read(&page(1), &[Item("a")]).expect("new");
        assert_eq!(
            trail.after_read(&page(2), &[Item("b"), Item("a")]),
            Err(ListingProblem::RepeatedItem {
                id: "a".into(),
                page: 2
            })
        );
        assert_eq!(
            trail.before_read(&page(3), &org(), 2),
            Err(ListingProblem::TooManyPages { max_pages: 2 })
        );
        let foreign = url("https://example.okta.com.evil.example/x?after=9");
        assert!(matches!(
            trail.before_read(&foreign, &org(), 100),
            Err(ListingProblem::ForeignNext { .. })
        ));
    }

    #[test]
    fn the_trail_stops_a_run_of_empty_pages() {
        let trail = Trail::default();
        let page = |n: u32| url(&format!("https://example.okta.com/x?after={n}"));
        for n in 0..MAX_EMPTY_PAGES_IN_A_ROW {
            trail
                .before_read(&page(n), &org(), 100)
                .expect("within the run");
            trail.after_read::<Item>(&page(n), &[]).expect("empty");
        }
        assert_eq!(
            trail.before_read(&page(99), &org(), 100),
            Err(ListingProblem::EmptyPages {
                count: MAX_EMPTY_PAGES_IN_A_ROW
            })
        );
    }

    #[test]
    fn auth_params_read_a_bearer_challenge() {
        let params = auth_params(
            " error=\"insufficient_scope\", error_description=\"The access token, it lacks\", scope=\"okta.apps.read\"",
        );
        assert_eq!(
            params,
            [
                ("error".to_owned(), "insufficient_scope".to_owned()),
                (
                    "error_description".to_owned(),
                    "The access token, it lacks".to_owned()
                ),
                ("scope".to_owned(), "okta.apps.read".to_owned()),
            ]
        );
    }
}
