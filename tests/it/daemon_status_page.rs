//! The daemon's status page at `/` in a real browser: the real binary (`remediator run`) against
//! okta-sim over loopback with an open finding, the page loaded by Debian's chromium, headless,
//! in a phone-sized window, and read as a person would: the org, the finding's id and reason,
//! the last run's outcome and how many things need a person. Without chromium the test fails
//! under CI (`CI` set; `.ci/run` installs it) and is skipped loudly elsewhere.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::support::act as act_support;
use crate::support::cli::Cli;
use crate::support::daemon::Daemon;

/// How long the daemon is given to start and finish its first run (a bound, not a figure).
const FIRST_RUN_BOUND: Duration = Duration::from_secs(180);
/// How long chromium is given to load and print the page (a bound, not a figure).
const BROWSER_BOUND: Duration = Duration::from_secs(120);
/// Where Debian's package puts the browser.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser, or `None` (and a loud line) when it is absent outside CI; absent under CI is a
/// failure.
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from(CHROMIUM);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CHROMIUM} is missing under CI: .ci/run installs Debian's chromium package"
    );
    eprintln!(
        "\n*** SKIPPED daemon_status_page: {CHROMIUM} is missing (apt-get install -y chromium) ***\n"
    );
    None
}

/// The page's DOM after chromium loaded it in a 390x844 (phone) window.
async fn dump_dom(browser: &PathBuf, url: &str) -> String {
    let profile = tempfile::tempdir().expect("a browser profile directory");
    let mut command = tokio::process::Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=390,844",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(BROWSER_BOUND, command.output())
        .await
        .expect("chromium printed the page within its bound")
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

/// Text as the DOM serializer writes it inside an element.
fn as_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

#[tokio::test]
async fn a_person_sees_the_open_finding_on_the_status_page() {
    let Some(browser) = chromium() else { return };
    let cli = Cli::start(act_support::scenario("kpasswd-blocked")).await;
    let daemon = Daemon::spawn(&cli, &[], &["--observe-only"], Stdio::null());
    let status = daemon.after_first_run(FIRST_RUN_BOUND).await;
    let base = daemon.base.clone();
    let org = &status["orgs"][0];
    let finding = org["open_findings"]
        .as_array()
        .expect("open findings")
        .iter()
        .find(|f| f["kind"] == "kpasswd-blocked")
        .unwrap_or_else(|| panic!("a KPASSWD finding in {org}"));

    // No token is needed to read it, and it is HTML.
    let plain = reqwest::get(format!("{base}/")).await.expect("GET /");
    assert_eq!(plain.status().as_u16(), 200);
    assert_eq!(plain.headers()["content-type"], "text/html; charset=utf-8");

    let dom = dump_dom(&browser, &format!("{base}/")).await;
    assert!(dom.contains("name=\"viewport\""), "{dom}");
    let needs = org["open_findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ack"].is_null())
        .count()
        + org["held"].as_array().expect("held").len()
        + usize::from(org["breaker"]["open"] == true)
        + usize::from(org["last_run"]["outcome"] == "failed");
    assert!(needs >= 1, "the open finding needs a person: {org}");
    for expected in [
        format!("Needs you: {needs}"),
        format!("org {}", org["org"].as_str().expect("org name")),
        as_text(finding["id"].as_str().expect("finding id")),
        as_text(finding["reason"].as_str().expect("finding reason")),
        format!(
            ">{}<",
            org["last_run"]["outcome"].as_str().expect("outcome")
        ),
        format!("{} finding(s)", org["last_run"]["counts"]["findings"]),
    ] {
        assert!(
            dom.contains(&expected),
            "{expected:?} is not on the page:\n{dom}"
        );
    }
    // "Needs you" comes before the per-org sections.
    let needs_at = dom.find("Needs you").expect("needs you");
    let last_run_at = dom.find("Last run").expect("last run");
    assert!(needs_at < last_run_at, "{dom}");
    // No script and no external asset.
    assert!(
        !dom.contains("<script") && !dom.contains("src=") && !dom.contains("<link"),
        "{dom}"
    );
}
