//! Going through a running daemon: while `remediator run` holds a state directory's journal
//! (sled lets one process open it), `status`, `journal list|show|export` and `ack` ask the
//! daemon's API at the address its `STATE/daemon.json` names, with the API token of
//! `REMEDIATOR_API_TOKEN` or `REMEDIATOR_API_TOKEN_FILE` for writes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use remediator::daemon::api::{api_token, DaemonFile};

/// How long one request to the daemon may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running daemon that holds a state directory's journal.
pub struct Daemon {
    base: String,
    org: String,
    pid: u32,
    token: Option<String>,
}

/// The daemon `state/daemon.json` names, if the file is there.
pub fn daemon(state: &Path) -> Option<Daemon> {
    let file = DaemonFile::read(state)?;
    let token = api_token(&remediator::config::ProcessEnv).ok().flatten();
    Some(Daemon {
        base: format!("http://{}", reachable(file.listen)),
        org: file.org,
        pid: file.pid,
        token,
    })
}

/// An address listening on every interface is reached over loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

/// An answer of the daemon.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON when the status is 2xx; else the daemon's `error`.
    pub fn json<T: serde::de::DeserializeOwned>(self) -> anyhow::Result<T> {
        if !(200..300).contains(&self.status) {
            let error = serde_json::from_slice::<serde_json::Value>(&self.body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
            anyhow::bail!("the daemon answered {}: {error}", self.status);
        }
        serde_json::from_slice(&self.body).context("the daemon's answer is not the JSON expected")
    }
}

impl Daemon {
    /// The org this state directory is the journal of.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// `GET path` with `query` (the org is added).
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::GET, path, query, None)
    }

    /// `POST path` with a JSON body, with the API token when one is set.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::POST, path, &[], Some(body))
    }

    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<Answer> {
        let url = format!("{}{path}", self.base);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        let mut request = client
            .request(method, &url)
            .query(&[("org", self.org.as_str())])
            .query(query);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        runtime.block_on(async {
            let response = request.send().await.with_context(|| {
                format!(
                    "the journal is held by the daemon (pid {}) at {}, which did not answer",
                    self.pid, self.base
                )
            })?;
            let status = response.status().as_u16();
            let body = response
                .bytes()
                .await
                .context("reading the daemon's answer")?;
            Ok(Answer {
                status,
                body: body.to_vec(),
            })
        })
    }
}
