//! A small scripted HTTP/1.1 server on loopback for the client tests: it serves canned,
//! Okta-shaped responses and can misbehave (drop connections, truncate bodies, hang).

use remediator::okta::{AuthConfig, ClientTuning, OktaClient, OktaConfig};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest request head the server accepts.
const MAX_HEAD: usize = 64 * 1024;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, exactly as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Server clock (epoch seconds) when the request arrived.
    pub received_epoch: u64,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the server does with a request.
pub enum Reply {
    /// A complete response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Announce `announced` bytes, send `body`, close.
    Truncated { announced: usize, body: String },
    /// Close the connection without answering.
    Drop,
    /// Never answer (until the client gives up).
    Hang,
    /// Wait, then send the inner reply.
    Delayed(Duration, Box<Reply>),
}

pub fn json(status: u16, body: impl Into<String>) -> Reply {
    Reply::Http {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.into(),
    }
}

pub fn okta_error(status: u16, code: &str, summary: &str) -> Reply {
    json(
        status,
        format!(
            r#"{{"errorCode":"{code}","errorSummary":"{summary}","errorLink":"{code}","errorId":"oae-{status}","errorCauses":[{{"errorSummary":"cause of {code}"}}]}}"#
        ),
    )
}

impl Reply {
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

pub fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

pub fn http_date(epoch: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(epoch))
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

pub struct TestServer {
    pub base: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    /// Requests being answered right now, and the most seen at once.
    pub in_flight: Arc<Mutex<(usize, usize)>>,
}

impl TestServer {
    /// Starts a server; `handler` gets each request and its 0-based index.
    pub async fn start(
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("bound address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = requests.clone();
        let in_flight = Arc::new(Mutex::new((0usize, 0usize)));
        let gauge = in_flight.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let log = log.clone();
                let gauge = gauge.clone();
                tokio::spawn(async move { serve(stream, handler, log, gauge).await });
            }
        });
        Self {
            base: format!("http://{addr}"),
            requests,
            in_flight,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("lock").clone()
    }

    pub fn config(&self, auth: AuthConfig) -> OktaConfig {
        OktaConfig {
            org_url: url::Url::parse(&self.base).expect("valid base"),
            auth,
            tuning: fast_tuning(),
            admin: Default::default(),
        }
    }

    pub fn ssws_client(&self, token: &str) -> OktaClient {
        OktaClient::new(self.config(AuthConfig::Ssws {
            token: token.to_owned().into(),
        }))
        .expect("valid config")
    }
}

pub fn fast_tuning() -> ClientTuning {
    ClientTuning {
        max_retries: 3,
        max_retry_elapsed: Duration::from_secs(20),
        request_timeout: Duration::from_secs(5),
        ..ClientTuning::default()
    }
}

async fn serve(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<Recorded>>>,
    gauge: Arc<Mutex<(usize, usize)>>,
) {
    let Some(req) = read_request(&mut stream).await else {
        return;
    };
    let index = {
        let mut l = log.lock().expect("lock");
        l.push(req.clone());
        l.len() - 1
    };
    {
        let mut g = gauge.lock().expect("lock");
        g.0 += 1;
        g.1 = g.1.max(g.0);
    }
    let mut reply = handler(&req, index);
    while let Reply::Delayed(d, inner) = reply {
        tokio::time::sleep(d).await;
        reply = *inner;
    }
    respond(&mut stream, reply).await;
    gauge.lock().expect("lock").0 -= 1;
}

async fn respond(stream: &mut TcpStream, reply: Reply) {
    let bytes = match reply {
        Reply::Delayed(..) => unreachable!("delays are unwrapped by serve"),
        Reply::Drop => return,
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        Reply::Truncated { announced, body } => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\nConnection: close\r\n\r\n{body}"
        ),
        Reply::Http {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} X\r\n");
            if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("date")) {
                head.push_str(&format!("Date: {}\r\n", http_date(epoch_now())));
            }
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ));
            head
        }
    };
    let _ = stream.write_all(bytes.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body,
        received_epoch: epoch_now(),
    })
}

/// A minimal spec-shaped application.
pub fn app_json(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","name":"office365","label":"App {id}","status":"ACTIVE","signOnMode":"SAML_2_0","features":["PUSH_NEW_USERS"],"created":"2024-01-01T00:00:00.000Z","lastUpdated":"2024-01-02T00:00:00.000Z","visibility":{{"hide":{{"iOS":false}}}},"_links":{{}}}}"#
    )
}
