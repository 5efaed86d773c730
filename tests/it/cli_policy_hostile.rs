//! `remediator policy validate` through the real binary on input meant to hurt it: files that
//! are not regular files (a FIFO without a writer, `/dev/zero`, `/dev/urandom`, a symlink
//! loop), a file too large, a 400,000-deep key, CR line endings, a datetime where a string
//! belongs, budgets that contradict each other, a cron expression that never fires, admin paths
//! that leave the org. Each gives its exact `file:line:column` message, bounded output, and
//! returns: the child is given a generous bound and killed (failing the test) only if it hangs.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Only a hang reaches this: validation of any of these inputs takes well under a second.
const HANG: Duration = Duration::from_secs(120);
/// Most bytes one error line may take: file, position, field (200 chars) and problem (500).
const MAX_LINE_BYTES: usize = 1_200;

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `remediator policy validate DIR`, output to files (a full pipe cannot stall it).
fn validate(dir: &Path) -> Outcome {
    let out = tempfile::tempdir().expect("temp dir");
    let (so, se) = (out.path().join("stdout"), out.path().join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_remediator"))
        .args(["policy", "validate"])
        .arg(dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(File::create(&so).expect("stdout file"))
        .stderr(File::create(&se).expect("stderr file"))
        .spawn()
        .expect("run remediator");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            panic!("policy validate {} hung", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read =
        |p: &PathBuf| String::from_utf8_lossy(&std::fs::read(p).expect("output")).into_owned();
    Outcome {
        code: status.code(),
        stdout: read(&so),
        stderr: read(&se),
    }
}

/// A policy directory holding `files` (name, contents).
fn dir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write policy file");
    }
    dir
}

/// Asserts validation failed with exactly `lines` (the directory prefix written as `DIR/`)
/// followed by the count line.
fn assert_errors(dir: &Path, lines: &[&str]) {
    let out = validate(dir);
    let shown = out.stderr.replace(&dir.display().to_string(), "DIR");
    let mut expected: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    expected.push(format!("DIR: {} error(s)", lines.len()));
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        expected,
        "stdout: {}",
        out.stdout
    );
    assert_eq!(out.code, Some(1));
    for line in out.stderr.lines() {
        assert!(
            line.len() <= MAX_LINE_BYTES,
            "unbounded line: {}",
            line.len()
        );
    }
}

fn fifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_fifo_without_a_writer_is_refused_without_blocking() {
    let dir = dir_with(&[("global.toml", "[global]\n")]);
    fifo(&dir.path().join("retry.toml"));
    assert_errors(
        dir.path(),
        &["DIR/retry.toml: expected a regular file, found a FIFO (named pipe)"],
    );
}

#[test]
fn devices_behind_links_are_refused_unread() {
    let dir = dir_with(&[]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("a.toml")).expect("link");
    std::os::unix::fs::symlink("/dev/urandom", dir.path().join("b.toml")).expect("link");
    assert_errors(
        dir.path(),
        &[
            "DIR/a.toml: expected a regular file, found a character device",
            "DIR/b.toml: expected a regular file, found a character device",
        ],
    );
}

#[test]
fn a_symlink_loop_is_refused() {
    let dir = dir_with(&[]);
    std::os::unix::fs::symlink("b.toml", dir.path().join("a.toml")).expect("link");
    std::os::unix::fs::symlink("a.toml", dir.path().join("b.toml")).expect("link");
    let why = "expected a regular file, found a symbolic link that cannot be followed: Too many \
               levels of symbolic links (os error 40)";
    assert_errors(
        dir.path(),
        &[&format!("DIR/a.toml: {why}"), &format!("DIR/b.toml: {why}")],
    );
}

#[test]
fn a_link_to_a_regular_file_is_read_and_dot_files_are_skipped() {
    let target = dir_with(&[("real.toml", "[global]\ndefault_mode = \"report\"\n")]);
    let dir = dir_with(&[]);
    std::os::unix::fs::symlink(target.path().join("real.toml"), dir.path().join("g.toml"))
        .expect("link");
    // An editor's lock file: a dangling link that starts with a dot.
    std::os::unix::fs::symlink("user@host.1234", dir.path().join(".#g.toml")).expect("link");
    let out = validate(dir.path());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn a_directory_named_like_a_policy_file_and_a_fifo_as_the_directory_are_refused() {
    let dir = dir_with(&[]);
    std::fs::create_dir(dir.path().join("old.toml")).expect("mkdir");
    assert_errors(
        dir.path(),
        &["DIR/old.toml: expected a regular file, found a directory"],
    );
    let pipe = dir.path().join("pipe");
    fifo(&pipe);
    let out = validate(&pipe);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr.lines().next(),
        Some(
            format!(
                "{}: expected a policy directory, found a FIFO (named pipe)",
                pipe.display()
            )
            .as_str()
        )
    );
}

#[test]
fn a_file_over_the_size_cap_is_refused_unread() {
    let big = format!("# {}\n", "x".repeat(1024 * 1024));
    let dir = dir_with(&[("big.toml", &big)]);
    assert_errors(
        dir.path(),
        &["DIR/big.toml: expected a file of at most 1024 KiB, found a larger one"],
    );
}

#[test]
fn bytes_that_are_not_utf8_are_located() {
    let dir = dir_with(&[]);
    std::fs::write(
        dir.path().join("a.toml"),
        b"[global]\ndefault_mode = \"r\xffport\"\n",
    )
    .expect("write");
    assert_errors(
        dir.path(),
        &["DIR/a.toml:2:18: expected UTF-8 text, found a byte that is not UTF-8"],
    );
}

#[test]
fn a_400000_deep_key_gives_one_short_line() {
    let deep = vec!["a"; 400_000].join(".");
    let cut = format!("{}.…", vec!["a"; 16].join("."));
    let dir = dir_with(&[("a.toml", &format!("{deep} = 1\n"))]);
    assert_errors(
        dir.path(),
        &[&format!("DIR/a.toml:1:1: {cut}: recursion limit exceeded")],
    );
    let dir = dir_with(&[("a.toml", &format!("[{deep}]\n"))]);
    assert_errors(
        dir.path(),
        &[&format!(
            "DIR/a.toml:1:2: {cut}: invalid table header; recursion limit exceeded"
        )],
    );
}

#[test]
fn thousands_of_errors_are_bounded() {
    let bad = vec!["\"a b\""; 20_000].join(", ");
    let dir = dir_with(&[(
        "k.toml",
        &format!("[kpasswd]\ndomain_controllers = [{bad}]\n"),
    )]);
    let out = validate(dir.path());
    assert_eq!(out.code, Some(1));
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        100 + 2,
        "100 shown, the rest counted, the total"
    );
    assert_eq!(lines[100], "… and 901 more problems");
    assert!(lines[0].ends_with("k.toml: more than 1000 problems: only the first 1000 are kept"));
    assert!(out.stderr.len() < 100 * MAX_LINE_BYTES);
}

#[test]
fn cr_line_endings_name_the_problem() {
    let dir = dir_with(&[("s.toml", "[safety]\rmax_actions_per_run = 5\r")]);
    assert_errors(
        dir.path(),
        &[
            "DIR/s.toml:1:9: expected lines ending in LF or CRLF, found a carriage return alone \
           (CR line endings): save the file with LF line endings",
        ],
    );
    let dir = dir_with(&[("s.toml", "[safety]\r\nmax_actions_per_run = 5\r\n")]);
    assert_eq!(validate(dir.path()).code, Some(0), "CRLF is fine");
}

#[test]
fn a_datetime_where_a_string_belongs_is_named() {
    let dir = dir_with(&[("s.toml", "[safety]\ncooldown = 1979-05-27T07:32:00Z\n")]);
    assert_errors(
        dir.path(),
        &[
            "DIR/s.toml:2:12: safety.cooldown: invalid type: datetime 1979-05-27T07:32:00Z, \
           expected a string",
        ],
    );
}

#[test]
fn a_kind_budget_above_the_run_budget_is_reported() {
    let text = "[safety]\nmax_actions_per_run = 5\n\
                [safety.max_actions_per_kind_per_run]\nforce_sync = 50\nkpasswd = 5\n";
    let dir = dir_with(&[("s.toml", text)]);
    assert_errors(
        dir.path(),
        &[
            "DIR/s.toml:4:14: safety.max_actions_per_kind_per_run.force_sync: expected at most \
           safety.max_actions_per_run (5), found 50",
        ],
    );
}

#[test]
fn a_cron_expression_that_never_fires_is_refused() {
    for (expr, column) in [("0 0 0 30 2 *", 18), ("0 0 0 1 1 * 2020", 18)] {
        let dir = dir_with(&[(
            "s.toml",
            &format!("[schedule]\nfull_reconcile = \"{expr}\"\n"),
        )]);
        assert_errors(
            dir.path(),
            &[&format!(
                "DIR/s.toml:2:{column}: schedule.full_reconcile: expected a cron expression that \
                 fires, found \"{expr}\", which has no time to come (a day no month has, or a \
                 past year)"
            )],
        );
    }
}

#[test]
fn a_five_field_cron_expression_is_read_with_seconds_0_and_says_so() {
    let dir = dir_with(&[("s.toml", "[schedule]\nfull_reconcile = \"*/5 * * * *\"\n")]);
    let out = validate(dir.path());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let shown = out.stdout.replace(&dir.path().display().to_string(), "DIR");
    assert_eq!(
        shown,
        "note: DIR/s.toml:2:18: schedule.full_reconcile: \"*/5 * * * *\" has 5 fields: read with \
         seconds 0 as \"0 */5 * * * *\"\nDIR: policy is valid\n"
    );
}

#[test]
fn admin_paths_that_leave_the_org_are_refused() {
    let rule = "a path on the org: starting with one /, only path characters, without a \
                scheme, //host, empty, . or .. segments, @, \\, % escapes, ? or # or blanks";
    for (path, why) in [
        (
            "//127.0.0.1:27199/{appId}",
            "it starts with //, which names another host",
        ),
        ("https://evil/x", "it holds a scheme (://)"),
        (
            "/api/../../x",
            "it has a . or .. segment, which leaves the path it names",
        ),
        (
            "/api/{appId}@evil",
            "it holds @, which URL parsers read as user info",
        ),
    ] {
        let text = format!("[okta.admin]\ntask_retry_path = \"{path}\"\n");
        let dir = dir_with(&[("okta.toml", &text)]);
        let shown_path = format!("{path:?}");
        assert_errors(
            dir.path(),
            &[&format!(
                "DIR/okta.toml:2:19: okta.admin.task_retry_path: expected {rule}, found \
                 {shown_path}: {why}"
            )],
        );
    }
    let text =
        "[okta.admin]\nforce_sync_path = \"/api/v1/internal/directories/{appId}/force-sync\"\n";
    assert_eq!(
        validate(dir_with(&[("okta.toml", text)]).path()).code,
        Some(0)
    );
}

#[test]
fn a_star_where_one_app_belongs_is_refused() {
    let text = "[remove_push_mappings.apps.\"*\"]\ncredential = { env = \"TOKEN\" }\n";
    let dir = dir_with(&[("push.toml", text)]);
    assert_errors(
        dir.path(),
        &[
            "DIR/push.toml:1:1: remove_push_mappings.apps.*: expected one app's id or label as \
           the key, found \"*\" (a table here names one app; write one table per app)",
        ],
    );
}
