//! TCP connect probes of the domain controllers' KPASSWD port (464), for the kpasswd diagnosis.
//! A probe only opens and closes a TCP connection; it sends nothing.

use std::time::Duration;

use futures::future::join_all;

use super::ProbeResult;

/// Probes every `(host, port)` at once, each bounded by `timeout`. Results keep the input order.
pub async fn probe_all(targets: &[(String, u16)], timeout: Duration) -> Vec<ProbeResult> {
    join_all(
        targets
            .iter()
            .map(|(host, port)| probe(host.clone(), *port, timeout)),
    )
    .await
}

async fn probe(host: String, port: u16, timeout: Duration) -> ProbeResult {
    let attempt = tokio::time::timeout(
        timeout,
        tokio::net::TcpStream::connect((host.as_str(), port)),
    );
    let error = match attempt.await {
        Ok(Ok(_stream)) => None,
        Ok(Err(e)) => Some(format!("connect failed: {e}")),
        Err(_) => Some(format!(
            "no answer within {}",
            humantime::format_duration(timeout)
        )),
    };
    ProbeResult {
        host,
        port,
        reachable: error.is_none(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_and_closed_ports_are_told_apart() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let open_port = listener.local_addr().expect("bound address").port();
        // A port that was bound then released: nothing listens there now.
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            l.local_addr().expect("bound address").port()
        };
        let results = probe_all(
            &[
                ("127.0.0.1".to_owned(), open_port),
                ("127.0.0.1".to_owned(), closed_port),
            ],
            Duration::from_secs(5),
        )
        .await;
        assert!(results[0].reachable, "{:?}", results[0]);
        assert!(results[0].error.is_none());
        assert!(!results[1].reachable);
        assert!(results[1]
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("connect failed")));
    }
}
