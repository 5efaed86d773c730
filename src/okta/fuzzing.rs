//! Fuzzing entry point of the client's list decoding (not part of the API): arbitrary bytes
//! become a listing of pages, each with `Link` header values and a body, fed through the page
//! decoder and the paging trail as the client runs them. The `fuzz/` target calls [`listing`];
//! the integration tests run it over the corpus and the crashes found (`fuzz/corpus`,
//! `fuzz/regressions`).
//!
//! Input format, read as far as the bytes go: one byte picks the item type (apps, app users,
//! Group Push mappings, System Log events); then per page one byte for the number of `Link`
//! values (0-3), each a length byte and that many bytes, then a little-endian `u16` body length
//! and the body.

use std::collections::HashSet;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, LINK};
use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::client::{decode_body, page_from_answer};
use super::error::Endpoint;
use super::model::{AppUser, Application, GroupPushMapping, LogEvent};
use super::paging::{auth_params, page_key, split_link_values, Listed, Trail};
use super::urls::{on_org, org_path_problem, org_url};

/// Most pages one input makes.
const MAX_PAGES: usize = 32;
/// The page bound of the fuzzed listing (small, so that the bound is reached too).
const FUZZ_MAX_PAGES: u32 = 16;

/// One page of a fuzzed listing.
struct FuzzPage<'a> {
    links: Vec<&'a [u8]>,
    body: &'a [u8],
}

/// Reads the input as the module documentation says.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(*first)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }

    fn page(&mut self) -> Option<FuzzPage<'a>> {
        let links = (0..self.byte()? % 4)
            .map(|_| {
                let n = self.byte().unwrap_or(0) as usize;
                self.take(n)
            })
            .collect();
        let n = u16::from_le_bytes([self.byte().unwrap_or(0), self.byte().unwrap_or(0)]);
        Some(FuzzPage {
            links,
            body: self.take(n as usize),
        })
    }
}

/// Runs one input; panics only when an invariant breaks (or the code under test panics).
pub fn listing(data: &[u8]) {
    let mut reader = Reader { data };
    let Some(kind) = reader.byte() else { return };
    let pages: Vec<FuzzPage<'_>> = std::iter::from_fn(|| reader.page())
        .take(MAX_PAGES)
        .collect();
    let org = Url::parse("https://example.okta.com").expect("a valid org URL");
    for page in &pages {
        links_invariants(page, &org);
    }
    match kind % 4 {
        0 => pages_of::<Application>(&pages, &org, "/api/v1/apps"),
        1 => pages_of::<AppUser>(&pages, &org, "/api/v1/apps/0oa1/users"),
        2 => pages_of::<GroupPushMapping>(&pages, &org, "/api/v1/apps/0oa1/group-push/mappings"),
        _ => pages_of::<LogEvent>(&pages, &org, "/api/v1/logs"),
    }
}

/// The header parsers never panic, and a path the rule accepts makes a URL on the org with
/// exactly that path.
fn links_invariants(page: &FuzzPage<'_>, org: &Url) {
    for raw in &page.links {
        let text = String::from_utf8_lossy(raw);
        for (target, _) in split_link_values(&text) {
            path_invariant(&target, org);
        }
        let _ = auth_params(&text);
        path_invariant(&text, org);
    }
}

fn path_invariant(path: &str, org: &Url) {
    if path.contains(['{', '}']) || org_path_problem(path).is_some() {
        return;
    }
    let url = org_url(org, path, &[]).expect("a path the rule accepts makes a URL");
    assert!(on_org(&url, org), "{path:?} left the org: {url}");
    assert_eq!(url.path(), path, "the URL parser changed {path:?}");
}

/// Reads the pages as one listing: every page read is on the org and read once; a page
/// that does not decode, or a listing problem, ends the listing.
fn pages_of<T: DeserializeOwned + Listed>(pages: &[FuzzPage<'_>], org: &Url, path: &str) {
    let trail = Arc::new(Trail::default());
    let mut url = org_url(org, path, &[("limit", "200")]).expect("a fixed path");
    let mut read = HashSet::new();
    for page in pages {
        if trail.before_read(&url, org, FUZZ_MAX_PAGES).is_err() {
            return;
        }
        assert!(on_org(&url, org), "a page off the org was read: {url}");
        assert!(read.insert(page_key(&url)), "a page was read twice: {url}");
        assert!(read.len() <= FUZZ_MAX_PAGES as usize);
        let endpoint = Endpoint::new(&Method::GET, &url);
        let items: Vec<T> = match decode_body(&endpoint, page.body) {
            Ok(items) => items,
            Err(e) => return drop(e.to_string()),
        };
        let mut headers = HeaderMap::new();
        for raw in &page.links {
            if let Ok(value) = HeaderValue::from_bytes(raw) {
                headers.append(LINK, value);
            }
        }
        match page_from_answer(&url, items, &headers, org, trail.clone()) {
            Ok(answer) => match answer.next {
                Some(next) => url = next.into_parts().0,
                None => return,
            },
            Err(e) => return drop(e.to_string()),
        }
    }
}
