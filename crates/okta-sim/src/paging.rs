//! Query parameters and paging: `limit`, `after` cursors and `Link` headers, in the form Okta
//! sends them.
//!
//! Lists are ordered by id and the cursor of the next page is the last id of this page, as in
//! Okta's `next` links (`?after=0oa...&limit=200`): a cursor stays valid while items are added or
//! removed. Clients must follow `next` verbatim and never build a cursor. Each `rel` is its own
//! `Link` header line, `self` first.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::errors::{validation, ApiError, ApiResult};
use super::state::SimState;

/// Decoded query parameters, in request order (duplicates kept; lookups take the first).
#[derive(Debug, Default)]
pub(crate) struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        Params(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `after` cursor; an empty `after=` means the first page, as Okta reads it.
    pub fn after(&self) -> Option<&str> {
        self.get("after").filter(|a| !a.is_empty())
    }

    /// `limit`, defaulted and clamped to `max`; non-numbers are a validation error.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        let Some(raw) = self.get("limit") else {
            return Ok(default);
        };
        let n: usize = raw.parse().map_err(|_| {
            validation(
                "Api validation failed: limit",
                "limit: must be a positive integer",
            )
        })?;
        Ok(n.clamp(1, max))
    }

    /// The parameters other than `after` and `limit`, in request order.
    fn rest(&self) -> impl Iterator<Item = &(String, String)> {
        self.0.iter().filter(|(k, _)| k != "after" && k != "limit")
    }
}

/// How a list endpoint writes its `Link` headers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkForm {
    /// The query parameters the `self` link echoes, in this order (Okta's apps list keeps
    /// `q` and `filter`; app users and mappings drop their filters). `next` keeps every
    /// parameter of the request, or the next page would not be the same query.
    pub self_echoes: SelfEchoes,
}

/// Which request parameters a `self` link repeats.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SelfEchoes {
    /// These, in this order.
    Only(&'static [&'static str]),
    /// All of them, in request order.
    All,
}

impl LinkForm {
    pub const fn echoing(names: &'static [&'static str]) -> Self {
        LinkForm {
            self_echoes: SelfEchoes::Only(names),
        }
    }

    pub const fn echoing_all() -> Self {
        LinkForm {
            self_echoes: SelfEchoes::All,
        }
    }
}

/// Encodes an opaque cursor (the System Log's, which is not an id).
pub(crate) fn encode_cursor(raw: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes an opaque cursor; anything we did not issue is an error.
pub(crate) fn decode_cursor(cursor: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// The `self` and, when given, `next` link values of one list answer.
pub(crate) fn links(
    base: &str,
    path: &str,
    params: &Params,
    limit: usize,
    form: LinkForm,
    next: Option<&str>,
) -> Vec<String> {
    let mut own = url::form_urlencoded::Serializer::new(String::new());
    if let Some(after) = params.after() {
        own.append_pair("after", after);
    }
    own.append_pair("limit", &limit.to_string());
    match form.self_echoes {
        SelfEchoes::Only(names) => {
            for name in names {
                if let Some(v) = params.get(name) {
                    own.append_pair(name, v);
                }
            }
        }
        SelfEchoes::All => {
            for (k, v) in params.rest() {
                own.append_pair(k, v);
            }
        }
    }
    let mut out = vec![format!("<{base}{path}?{}>; rel=\"self\"", own.finish())];
    if let Some(cursor) = next {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("after", cursor);
        q.append_pair("limit", &limit.to_string());
        for (k, v) in params.rest() {
            q.append_pair(k, v);
        }
        out.push(format!("<{base}{path}?{}>; rel=\"next\"", q.finish()));
    }
    out
}

/// A JSON list response with one `Link` header line per link value.
pub(crate) fn list_response(items: Vec<serde_json::Value>, links: Vec<String>) -> Response {
    let mut response = axum::Json(serde_json::Value::Array(items)).into_response();
    for link in links {
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().append(header::LINK, v);
        }
    }
    response
}

/// One page size rule: Okta's documented default and maximum `limit`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageSize {
    pub default: usize,
    pub max: usize,
}

/// Longest id cursor accepted (Okta ids are 20 characters).
const MAX_ID_CURSOR_LEN: usize = 64;

/// An id cursor must look like an Okta id; anything else is a 400, as a cursor the client
/// made up.
fn checked_id_cursor(after: &str) -> Result<&str, ApiError> {
    let looks_like_id = after.len() <= MAX_ID_CURSOR_LEN
        && after
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if looks_like_id {
        return Ok(after);
    }
    Err(validation(
        "Api validation failed: after",
        "after: invalid cursor",
    ))
}

/// One list endpoint: its path, page sizes and link form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listing<'a> {
    pub path: &'a str,
    pub size: PageSize,
    pub form: LinkForm,
}

/// Pages `items` (ordered by id) after the request's `after` id and answers with `Link` headers.
pub(crate) fn paged<T>(
    state: &SimState,
    listing: Listing<'_>,
    params: &Params,
    items: &[T],
    id_of: impl Fn(&T) -> &str,
    render: impl Fn(&T) -> serde_json::Value,
) -> ApiResult {
    let Listing { path, size, form } = listing;
    debug_assert!(
        items.windows(2).all(|w| id_of(&w[0]) < id_of(&w[1])),
        "paged lists are ordered by id"
    );
    let limit = params.limit(size.default, size.max)?;
    let after = params.after().map(checked_id_cursor).transpose()?;
    let start = after.map_or(0, |after| items.partition_point(|x| id_of(x) <= after));
    let end = (start + limit).min(items.len());
    let page = &items[start..end];
    let next = (end < items.len())
        .then(|| page.last().map(&id_of))
        .flatten();
    let links = links(&state.base_url, path, params, limit, form, next);
    Ok(list_response(page.iter().map(render).collect(), links))
}
