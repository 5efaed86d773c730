//! A webhook receiver on loopback that records every request it gets (path and JSON body), for
//! the notification tests; or a port where nothing listens, for a receiver that is down.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: Value,
}

/// A recording receiver; stops when dropped.
pub struct Receiver {
    pub base: String,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Listens on a free loopback port and answers 200 to every POST.
    pub async fn start() -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let record = |State(got): State<Arc<Mutex<Vec<Received>>>>,
                      uri: Uri,
                      Json(body): Json<Value>| async move {
            got.lock().expect("lock").push(Received {
                path: uri.path().to_owned(),
                body,
            });
            "ok"
        };
        let app = axum::Router::new()
            .fallback(axum::routing::post(record))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { base, got, task }
    }

    /// What was received on `path`, in order.
    pub fn at(&self, path: &str) -> Vec<Value> {
        self.got
            .lock()
            .expect("lock")
            .iter()
            .filter(|r| r.path == path)
            .map(|r| r.body.clone())
            .collect()
    }
}

/// A loopback URL nothing listens at (a port bound, then released).
pub fn down_url(path: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    format!("http://127.0.0.1:{port}{path}")
}
