//! The `okta-sim` binary: a thin shell that reports scenario errors and serves otherwise.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn bad_scenario_fails_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[org]\napi_tokens = [\"t\"]\nsurprise = 1\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_okta-sim"))
        .args([
            "--scenario",
            path.to_str().expect("utf-8 path"),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run okta-sim");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml") && stderr.contains("line 3") && stderr.contains("surprise"),
        "{stderr}"
    );
}

#[test]
fn serves_a_shipped_scenario() {
    let scenario = crate::repo_root().join("tests/scenarios/healthy.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-sim"))
        .arg("--scenario")
        .arg(&scenario)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn okta-sim");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read banner");
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("banner ends with the URL")
        .to_owned();
    let response = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            reqwest::Client::new()
                .get(format!("{base}/api/v1/apps"))
                .header("Authorization", "SSWS test-token-healthy")
                .send()
                .await
                .map(|r| r.status())
        })
    })
    .join()
    .expect("client thread");
    child.kill().expect("stop okta-sim");
    let _ = child.wait();
    assert_eq!(response.expect("request").as_u16(), 200);
}
