//! Hostile-network answers, as a misbehaving proxy or a broken org would give them: paging that
//! repeats items, loops or points at another origin; bodies too large to hold, bodies that stall,
//! and JSON cut short. Each takes the real answer and changes it in transit.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

/// The most of a real body read to rewrite it (every simulated page is far smaller).
const MAX_REWRITTEN_BODY: usize = 64 * 1024 * 1024;
/// One chunk of the padding of a huge body.
const PAD_CHUNK: usize = 64 * 1024;
static PADDING: [u8; PAD_CHUNK] = [b' '; PAD_CHUNK];
/// Bytes in a mebibyte.
const MIB: u64 = 1024 * 1024;
/// The origin a `foreign-next` link points at unless the rule names one.
pub(crate) const DEFAULT_FOREIGN_ORIGIN: &str = "https://okta-sim-foreign.invalid:8443";

/// The parts of a buffered answer.
struct Buffered {
    parts: axum::http::response::Parts,
    bytes: Bytes,
}

async fn buffer(response: Response) -> Option<Buffered> {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_REWRITTEN_BODY).await.ok()?;
    Some(Buffered { parts, bytes })
}

fn rebuild(mut parts: axum::http::response::Parts, bytes: Vec<u8>) -> Response {
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

/// The URL of one `rel` among the `Link` lines.
fn link_url(headers: &HeaderMap, rel: &str) -> Option<url::Url> {
    let wanted = format!("rel=\"{rel}\"");
    headers
        .get_all(header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|l| l.ends_with(&wanted))
        .and_then(|l| l.strip_prefix('<')?.split_once('>'))
        .and_then(|(url, _)| url::Url::parse(url).ok())
}

/// Replaces the `next` link (adding one when there was none); `self` stays.
fn set_next(headers: &mut HeaderMap, next: &url::Url) {
    let kept: Vec<HeaderValue> = headers
        .get_all(header::LINK)
        .iter()
        .filter(|v| !v.to_str().is_ok_and(|l| l.ends_with("rel=\"next\"")))
        .cloned()
        .collect();
    headers.remove(header::LINK);
    for value in kept {
        headers.append(header::LINK, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
        headers.append(header::LINK, value);
    }
}

/// The URL this request was made with, on the origin the answer's own links use.
fn request_url(headers: &HeaderMap, uri: &Uri) -> Option<url::Url> {
    let own = link_url(headers, "self")?;
    own.join(&uri.to_string()).ok()
}

fn with_after(url: &url::Url, after: Option<&str>) -> url::Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "after")
        .collect();
    let mut out = url.clone();
    out.set_query(None);
    {
        let mut query = out.query_pairs_mut();
        if let Some(after) = after {
            query.append_pair("after", after);
        }
        for (k, v) in &pairs {
            query.append_pair(k, v);
        }
    }
    if out.query() == Some("") {
        out.set_query(None);
    }
    out
}

/// `duplicate-items`: the next page starts `overlap` items back, so those items come again
/// (as when an eventually consistent list shifts under a cursor). Lists whose cursor is not an
/// item id (the System Log) get this same page again instead.
pub(crate) async fn duplicate_items(response: Response, uri: &Uri, overlap: usize) -> Response {
    let Some(Buffered { mut parts, bytes }) = buffer(response).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(next) = link_url(&parts.headers, "next") else {
        return rebuild(parts, bytes.to_vec());
    };
    let ids: Vec<String> = serde_json::from_slice::<Vec<Value>>(&bytes)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.get("id")?.as_str().map(str::to_owned))
        .collect();
    let rewound = if ids.is_empty() {
        request_url(&parts.headers, uri)
    } else {
        let back = ids.len().checked_sub(overlap.max(1) + 1);
        let own_after = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .find(|(k, v)| k == "after" && !v.is_empty())
            .map(|(_, v)| v.into_owned());
        let after = back.map(|i| ids[i].clone()).or(own_after);
        Some(with_after(&next, after.as_deref()))
    };
    if let Some(url) = rewound {
        set_next(&mut parts.headers, &url);
    }
    rebuild(parts, bytes.to_vec())
}

/// `next-loop`: the next link points back at the first page, already read.
pub(crate) async fn next_loop(response: Response, uri: &Uri) -> Response {
    let Some(Buffered { mut parts, bytes }) = buffer(response).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(first) = request_url(&parts.headers, uri).map(|u| with_after(&u, None)) {
        set_next(&mut parts.headers, &first);
    }
    rebuild(parts, bytes.to_vec())
}

/// `empty-page-loop`: an empty page whose next link is this very request again.
pub(crate) async fn empty_page_loop(response: Response, uri: &Uri) -> Response {
    let Some(Buffered { mut parts, .. }) = buffer(response).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(again) = request_url(&parts.headers, uri) {
        set_next(&mut parts.headers, &again);
    }
    rebuild(parts, b"[]".to_vec())
}

/// `foreign-next`: the next link (or, on a last page, a new one) names another origin.
pub(crate) async fn foreign_next(response: Response, uri: &Uri, origin: &str) -> Response {
    let Some(Buffered { mut parts, bytes }) = buffer(response).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let target = link_url(&parts.headers, "next").or_else(|| request_url(&parts.headers, uri));
    let foreign = target.and_then(|t| {
        let base = url::Url::parse(origin).ok()?;
        let path_and_query = match t.query() {
            Some(q) => format!("{}?{q}", t.path()),
            None => t.path().to_owned(),
        };
        base.join(&path_and_query).ok()
    });
    if let Some(url) = foreign {
        set_next(&mut parts.headers, &url);
    }
    rebuild(parts, bytes.to_vec())
}

/// `huge-body`: the real JSON with `mebibytes` of whitespace before its closing bracket, streamed
/// in small chunks without a `Content-Length` (never held in memory). Still valid JSON.
pub(crate) async fn huge_body(response: Response, mebibytes: u64) -> Response {
    let Some(Buffered { mut parts, bytes }) = buffer(response).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let trimmed = bytes.trim_ascii_end();
    let (head, tail) = trimmed.split_at(trimmed.len().saturating_sub(1));
    let head = Bytes::copy_from_slice(head);
    let tail = Bytes::copy_from_slice(tail);
    let chunks = (mebibytes * MIB).div_ceil(PAD_CHUNK as u64);
    let padding = futures::stream::iter(0..chunks).map(|_| Bytes::from_static(&PADDING));
    let stream = futures::stream::once(async move { head })
        .chain(padding)
        .chain(futures::stream::once(async move { tail }))
        .map(Ok::<Bytes, std::io::Error>);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// `stall`: the head and the first `after_bytes` of the body (default half) at once, then
/// nothing for `millis`, then the rest. `Content-Length` is the full length.
pub(crate) async fn stall(response: Response, millis: u64, after_bytes: Option<u64>) -> Response {
    let Some(Buffered { mut parts, bytes }) = buffer(response).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let cut = after_bytes
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(bytes.len() / 2)
        .min(bytes.len());
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    let first = bytes.slice(..cut);
    let rest = bytes.slice(cut..);
    let stream =
        futures::stream::iter([(first, 0), (rest, millis)]).then(|(chunk, wait)| async move {
            tokio::time::sleep(Duration::from_millis(wait)).await;
            Ok::<Bytes, std::io::Error>(chunk)
        });
    Response::from_parts(parts, Body::from_stream(stream))
}

/// `truncated-json`: a complete HTTP answer whose JSON stops half way (its `Content-Length`
/// matches what is sent): the transport succeeds, decoding must fail.
pub(crate) async fn truncated_json(response: Response) -> Response {
    let Some(Buffered { parts, bytes }) = buffer(response).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let half = bytes.len() / 2;
    rebuild(parts, bytes[..half].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_is_replaced_first_and_the_rest_kept() {
        let url =
            url::Url::parse("http://h:1/api/v1/users?after=00u5&limit=3&search=x").expect("url");
        assert_eq!(
            with_after(&url, Some("00u2")).as_str(),
            "http://h:1/api/v1/users?after=00u2&limit=3&search=x"
        );
        assert_eq!(
            with_after(&url, None).as_str(),
            "http://h:1/api/v1/users?limit=3&search=x"
        );
    }

    #[test]
    fn next_links_are_replaced_and_self_kept() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::LINK,
            HeaderValue::from_static("<http://h:1/a?limit=2>; rel=\"self\""),
        );
        headers.append(
            header::LINK,
            HeaderValue::from_static("<http://h:1/a?after=x&limit=2>; rel=\"next\""),
        );
        let next = url::Url::parse("http://other:2/a?limit=2").expect("url");
        set_next(&mut headers, &next);
        let lines: Vec<&str> = headers
            .get_all(header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert_eq!(
            lines,
            [
                "<http://h:1/a?limit=2>; rel=\"self\"",
                "<http://other:2/a?limit=2>; rel=\"next\""
            ]
        );
    }
}
