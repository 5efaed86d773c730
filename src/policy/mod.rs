//! Remediation policy: the `policies/*.toml` files, parsed into raw types, validated into a
//! typed [`Policy`] with every default filled in, and the pure questions the planner asks of it.
//! See `docs/policy.md` for the file format.

mod files;
mod model;
mod raw;
mod select;
mod validate;

use std::path::Path;

pub use crate::config::{
    CredentialError, CredentialSource, Diagnostic as PolicyError, Diagnostics as PolicyErrors,
    Position,
};
pub use files::{MAX_POLICY_FILES, MAX_POLICY_FILE_BYTES};
pub use model::{
    defaults, AdminPaths, AllowDeny, AttributePair, Backoff, CircuitBreaker, DomainController,
    ErrorPatterns, ExpectedValue, FeatureAction, ForceSync, Global, Kpasswd, Mode, PathTemplate,
    Policy, ProvisioningCredentials, ProvisioningFeatures, PushMappingRemoval, RemovePushMappings,
    RetryProvisioning, RetryStrategy, RuleKind, Safety, Schedule, Selector, WantedFeatures,
};
pub use select::{Resolved, SelectorWarning};

use crate::config::{FileErrors, LineIndex};
use raw::RawFile;
use select::{Origins, Site};

/// The shipped example policy files (`policies/`), embedded for the demo: (name, contents).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "policies/credentials.toml",
        include_str!("../../policies/credentials.toml"),
    ),
    (
        "policies/features.toml",
        include_str!("../../policies/features.toml"),
    ),
    (
        "policies/force-sync.toml",
        include_str!("../../policies/force-sync.toml"),
    ),
    (
        "policies/kpasswd.toml",
        include_str!("../../policies/kpasswd.toml"),
    ),
    (
        "policies/push-mappings.toml",
        include_str!("../../policies/push-mappings.toml"),
    ),
    (
        "policies/retry.toml",
        include_str!("../../policies/retry.toml"),
    ),
    (
        "policies/safety.toml",
        include_str!("../../policies/safety.toml"),
    ),
    (
        "policies/schedule.toml",
        include_str!("../../policies/schedule.toml"),
    ),
];

/// One section of the merged policy, remembering which file it came from.
struct Located<T> {
    file: usize,
    value: T,
}

/// The sections of every file, each taken from at most one file.
#[derive(Default)]
struct Merged {
    global: Option<Located<raw::RawGlobal>>,
    safety: Option<Located<raw::RawSafety>>,
    schedule: Option<Located<raw::RawSchedule>>,
    okta: Option<Located<raw::RawOkta>>,
    retry_provisioning: Option<Located<raw::RawRetry>>,
    force_sync: Option<Located<raw::RawForceSync>>,
    remove_push_mappings: Option<Located<raw::RawRemovePush>>,
    provisioning_features: Option<Located<raw::RawFeatures>>,
    kpasswd: Option<Located<raw::RawKpasswd>>,
    provisioning_credentials: Option<Located<raw::RawCredentials>>,
}

impl Policy {
    /// Loads and validates every `*.toml` file of `dir` (sorted by name), merged into one policy.
    /// Returns every problem found, across all files. Only regular files under
    /// [`MAX_POLICY_FILE_BYTES`] are read; anything else is refused without being opened.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Policy, PolicyErrors> {
        let paths = files::list(dir.as_ref()).map_err(|e| PolicyErrors(vec![e]))?;
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        for path in paths {
            match files::read(&path) {
                Ok(text) => sources.push((path, text)),
                Err(e) => errors.push(e),
            }
        }
        let loaded = Self::load_sources(&sources);
        match (loaded, errors.is_empty()) {
            (Ok(p), true) => Ok(p),
            (Ok(_), false) => Err(PolicyErrors(errors)),
            (Err(PolicyErrors(more)), _) => {
                errors.extend(more);
                errors.sort_by(|a, b| a.file.cmp(&b.file));
                Err(PolicyErrors(errors))
            }
        }
    }

    /// Validates policy files given as (name, contents), merged in the given order.
    pub fn load_sources<P: AsRef<Path>, T: AsRef<str>>(
        sources: &[(P, T)],
    ) -> Result<Policy, PolicyErrors> {
        let mut errors = Vec::new();
        let mut merged = Merged::default();
        for (index, (name, text)) in sources.iter().enumerate() {
            let (name, text) = (name.as_ref(), text.as_ref());
            if let Some(e) = bare_carriage_return(name, text) {
                errors.push(e);
                continue;
            }
            match toml::from_str::<RawFile>(text) {
                Ok(raw) => merge(&mut merged, index, raw, sources, &mut errors),
                Err(e) => errors.push(PolicyError::from_toml(name, text, &e)),
            }
        }
        let mut files = Files::new(sources);
        let policy = build(&merged, &mut files, &mut errors);
        errors.sort_by(|a, b| {
            let at = |e: &PolicyError| e.position.map(|p| (p.line, p.column));
            a.file.cmp(&b.file).then(at(a).cmp(&at(b)))
        });
        if errors.is_empty() {
            Ok(policy)
        } else {
            Err(PolicyErrors(errors))
        }
    }

    /// The shipped example policy ([`EMBEDDED`]), used by the demo.
    pub fn default_embedded() -> Policy {
        Self::load_sources(EMBEDDED).expect("the shipped policy files are valid (tested)")
    }
}

/// Moves each section of `raw` into `merged`, reporting a section already taken by another file.
fn merge<P: AsRef<Path>, T: AsRef<str>>(
    merged: &mut Merged,
    index: usize,
    raw: RawFile,
    sources: &[(P, T)],
    errors: &mut Vec<PolicyError>,
) {
    macro_rules! take {
        ($($name:ident),*) => {$(
            if let Some(value) = raw.$name {
                place(&mut merged.$name, stringify!($name), index, value, sources, errors);
            }
        )*};
    }
    take!(
        global,
        safety,
        schedule,
        okta,
        retry_provisioning,
        force_sync,
        remove_push_mappings,
        provisioning_features,
        kpasswd,
        provisioning_credentials
    );
}

fn place<T, P: AsRef<Path>, S: AsRef<str>>(
    slot: &mut Option<Located<T>>,
    name: &str,
    index: usize,
    value: T,
    sources: &[(P, S)],
    errors: &mut Vec<PolicyError>,
) {
    let Some(first) = slot else {
        *slot = Some(Located { file: index, value });
        return;
    };
    let (first_file, first_text) = (
        sources[first.file].0.as_ref(),
        sources[first.file].1.as_ref(),
    );
    let (file, text) = (sources[index].0.as_ref(), sources[index].1.as_ref());
    let first_line = section_position(first_text, name).line;
    errors.push(PolicyError {
        file: file.to_path_buf(),
        position: Some(section_position(text, name)),
        field: name.to_string(),
        problem: format!(
            "expected each section in one file only, found [{name}] also defined in {}:{first_line}",
            first_file.display()
        ),
    });
}

/// The position of the first header of section `name` (`[name]` or `[name.sub]`), else 1:1.
fn section_position(text: &str, name: &str) -> Position {
    let found = text.lines().enumerate().find(|(_, l)| {
        let t = l.trim_start();
        t.strip_prefix('[')
            .map(|h| h.trim_start_matches('[').trim_start())
            .is_some_and(|h| {
                h.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(']') || rest.starts_with('.'))
            })
    });
    Position {
        line: found.map_or(1, |(i, _)| i + 1),
        column: 1,
    }
}

/// The policy files being validated, each with its line index and its count of problems.
struct Files<'a> {
    names: Vec<&'a Path>,
    texts: Vec<&'a str>,
    lines: Vec<LineIndex>,
    counts: Vec<usize>,
}

impl<'a> Files<'a> {
    fn new<P: AsRef<Path>, T: AsRef<str>>(sources: &'a [(P, T)]) -> Self {
        let names = sources.iter().map(|(n, _)| n.as_ref()).collect();
        let texts: Vec<&str> = sources.iter().map(|(_, t)| t.as_ref()).collect();
        let lines = texts.iter().map(|t| LineIndex::new(t)).collect();
        Files {
            names,
            counts: vec![0; texts.len()],
            texts,
            lines,
        }
    }

    /// The error collector for file number `file`.
    fn errors<'b>(&'b mut self, errors: &'b mut Vec<PolicyError>, file: usize) -> FileErrors<'b> {
        FileErrors::new(
            self.names[file],
            self.texts[file],
            &self.lines[file],
            errors,
            &mut self.counts[file],
        )
    }

    /// File number `file`, to locate selector entries in.
    fn site(&self, file: usize) -> Site<'_> {
        Site {
            file: self.names[file],
            source: self.texts[file],
            lines: &self.lines[file],
        }
    }
}

/// The first carriage return not followed by a line feed: TOML lines end in LF or CRLF, and a
/// file saved with CR line endings would otherwise read as one line with a puzzling error.
fn bare_carriage_return(name: &Path, text: &str) -> Option<PolicyError> {
    let offset = text
        .match_indices('\r')
        .map(|(i, _)| i)
        .find(|i| text.as_bytes().get(i + 1) != Some(&b'\n'))?;
    Some(PolicyError {
        position: Some(Position::of_offset(text, offset)),
        ..PolicyError::whole_file(
            name,
            "",
            "expected lines ending in LF or CRLF, found a carriage return alone (CR line \
             endings): save the file with LF line endings",
        )
    })
}

/// Validates each merged section with the errors located in its own file, and records where
/// each selector entry was written.
fn build(m: &Merged, f: &mut Files<'_>, errors: &mut Vec<PolicyError>) -> Policy {
    let mut policy = Policy::default();
    let mut origins = Origins::default();
    // Admin paths first: the retry strategy and Force Sync check against them.
    if let Some(l) = &m.okta {
        policy.admin = validate::admin(&mut f.errors(errors, l.file), &l.value);
    }
    if let Some(l) = &m.global {
        policy.global = validate::global(&mut f.errors(errors, l.file), &l.value);
    }
    if let Some(l) = &m.safety {
        policy.safety = validate::safety(&mut f.errors(errors, l.file), &l.value);
        let site = f.site(l.file);
        for (name, lists) in [
            ("apps", &l.value.apps),
            ("directories", &l.value.directories),
        ] {
            if let Some(lists) = lists {
                origins.list(&site, &format!("safety.{name}.allow"), &lists.allow);
                origins.list(&site, &format!("safety.{name}.deny"), &lists.deny);
            }
        }
    }
    if let Some(l) = &m.schedule {
        policy.schedule =
            validate::schedule(&mut f.errors(errors, l.file), &l.value, &mut policy.notes);
    }
    if let Some(l) = &m.retry_provisioning {
        approval(
            &mut policy,
            f,
            errors,
            l,
            RuleKind::RetryProvisioning,
            &l.value.approval,
        );
        policy.retry_provisioning =
            validate::retry(&mut f.errors(errors, l.file), &l.value, &policy.admin);
        origins.list(&f.site(l.file), "retry_provisioning.apps", &l.value.apps);
    }
    if let Some(l) = &m.force_sync {
        approval(
            &mut policy,
            f,
            errors,
            l,
            RuleKind::ForceSync,
            &l.value.approval,
        );
        policy.force_sync =
            validate::force_sync(&mut f.errors(errors, l.file), &l.value, &policy.admin);
        origins.list(
            &f.site(l.file),
            "force_sync.directories",
            &l.value.directories,
        );
    }
    if let Some(l) = &m.remove_push_mappings {
        approval(
            &mut policy,
            f,
            errors,
            l,
            RuleKind::RemovePushMappings,
            &l.value.approval,
        );
        policy.remove_push_mappings =
            validate::remove_push(&mut f.errors(errors, l.file), &l.value);
        origins.table(&f.site(l.file), "remove_push_mappings.apps", &l.value.apps);
    }
    if let Some(l) = &m.provisioning_features {
        approval(
            &mut policy,
            f,
            errors,
            l,
            RuleKind::ProvisioningFeatures,
            &l.value.approval,
        );
        policy.provisioning_features = validate::features(&mut f.errors(errors, l.file), &l.value);
        origins.table(&f.site(l.file), "provisioning_features.apps", &l.value.apps);
    }
    if let Some(l) = &m.kpasswd {
        policy.kpasswd = validate::kpasswd(&mut f.errors(errors, l.file), &l.value);
        origins.list(&f.site(l.file), "kpasswd.directories", &l.value.directories);
    }
    if let Some(l) = &m.provisioning_credentials {
        policy.provisioning_credentials =
            validate::credentials(&mut f.errors(errors, l.file), &l.value);
        origins.list(
            &f.site(l.file),
            "provisioning_credentials.apps",
            &l.value.apps,
        );
    }
    policy.origins = origins;
    policy
}

/// Records a rule's `approval` setting, its problems located in the rule's file.
fn approval<T>(
    policy: &mut Policy,
    f: &mut Files<'_>,
    errors: &mut Vec<PolicyError>,
    section: &Located<T>,
    rule: RuleKind,
    value: &Option<toml::Spanned<String>>,
) {
    if validate::approval(&mut f.errors(errors, section.file), value, rule) {
        policy.safety.approval_required.insert(rule);
    }
}
