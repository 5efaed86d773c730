//! Selectors resolved against the org's apps. Labels are not unique in a real org, and a
//! selector can name nothing: every entry (an id, matched exactly, or a label, matched
//! ignoring ASCII case) is looked up among the apps read, and each one that matched no app or
//! several gives a [`SelectorWarning`]. A label matching several apps is applied to **all** of
//! them in a deny list (the safe side) and to **none** of them everywhere else (allow lists,
//! rule selectors, per-app tables): an app is then picked only by its id.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::model::{Policy, Selector};
use crate::config::LineIndex;

/// Where each selector entry was written: (field, entry) to `file:line:column`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins(BTreeMap<(String, String), String>);

/// One policy file, to locate entries in.
pub(crate) struct Site<'a> {
    pub file: &'a Path,
    pub source: &'a str,
    pub lines: &'a LineIndex,
}

impl Origins {
    fn add(&mut self, site: &Site<'_>, field: &str, entry: &str, offset: usize) {
        let at = site.lines.position(site.source, offset);
        let place = format!("{}:{}:{}", site.file.display(), at.line, at.column);
        self.0
            .entry((field.to_owned(), entry.to_owned()))
            .or_insert(place);
    }

    /// Records where each entry of a list was written.
    pub(crate) fn list(&mut self, site: &Site<'_>, field: &str, list: &super::raw::List) {
        for entry in list.iter().flat_map(|l| l.get_ref()) {
            self.add(site, field, entry.get_ref(), entry.span().start);
        }
    }

    /// Records where each key of a per-app table was written.
    pub(crate) fn table<T>(
        &mut self,
        site: &Site<'_>,
        field: &str,
        table: &Option<BTreeMap<String, Spanned<T>>>,
    ) {
        for (key, value) in table.iter().flatten() {
            self.add(site, field, key, value.span().start);
        }
    }

    fn get(&self, field: &str, entry: &str) -> Option<&str> {
        self.0
            .get(&(field.to_owned(), entry.to_owned()))
            .map(String::as_str)
    }
}

/// A selector entry that matched no app, or several. Part of the plan's JSON
/// (`warnings[]`, docs/policy.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectorWarning {
    /// The entry as written (`"Slakc"`, `"0oa1b2c3d4EXAMPLE"`).
    pub selector: String,
    /// The policy key it is in, e.g. `retry_provisioning.apps`.
    pub field: String,
    /// `file:line:column: field` where it was written (the field alone for a policy not read
    /// from files).
    #[serde(rename = "where")]
    pub location: String,
    /// The ids of the apps it matched (none, or several), sorted.
    pub matched: Vec<String>,
    /// The ids of the apps it applies to: all those matched in a deny list, none elsewhere.
    pub applied: Vec<String>,
    /// What happened, in words.
    pub message: String,
}

/// How an entry that matches several apps by label is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Several {
    /// Deny lists: to every app matched.
    All,
    /// Everything that picks targets: to none.
    None,
}

/// What a selector names: apps or directories (directories are apps in Okta).
#[derive(Debug, Clone, Copy)]
enum Noun {
    App,
    Directory,
}

impl Noun {
    fn one(self) -> &'static str {
        match self {
            Noun::App => "app",
            Noun::Directory => "directory",
        }
    }

    fn many(self) -> &'static str {
        match self {
            Noun::App => "apps",
            Noun::Directory => "directories",
        }
    }
}

/// What one entry matched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    /// The id of an app, exactly.
    Id(String),
    /// The labels of these apps (ids, sorted), ignoring ASCII case.
    Labels(Vec<String>),
}

/// The apps read, indexed by id and by label.
struct Org {
    ids: BTreeSet<String>,
    by_label: BTreeMap<String, Vec<String>>,
    /// How many apps were read, when the list is incomplete.
    incomplete: Option<usize>,
}

impl Org {
    fn lookup(&self, entry: &str) -> Match {
        if self.ids.contains(entry) {
            return Match::Id(entry.to_owned());
        }
        let mut ids = self
            .by_label
            .get(&entry.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default();
        ids.sort();
        ids.dedup();
        Match::Labels(ids)
    }
}

/// The policy with its selectors resolved against one org's apps, and the warnings.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The policy whose allow lists, rule selectors and per-app tables name apps by id, without
    /// the entries that matched no app or several (deny lists are kept as written).
    pub policy: Policy,
    /// One warning per entry that matched no app or several, in policy order.
    pub warnings: Vec<SelectorWarning>,
}

impl Policy {
    /// Resolves every selector against `apps` (id, label), the apps of the org as read;
    /// `complete` says whether every app was read.
    pub fn resolve_selectors<'a>(
        &self,
        apps: impl IntoIterator<Item = (&'a str, &'a str)>,
        complete: bool,
    ) -> Resolved {
        let mut org = Org {
            ids: BTreeSet::new(),
            by_label: BTreeMap::new(),
            incomplete: None,
        };
        for (id, label) in apps {
            org.ids.insert(id.to_owned());
            org.by_label
                .entry(label.to_ascii_lowercase())
                .or_default()
                .push(id.to_owned());
        }
        if !complete {
            org.incomplete = Some(org.ids.len());
        }
        let mut r = Resolver {
            org: &org,
            origins: &self.origins,
            warnings: Vec::new(),
        };
        let mut p = self.clone();
        p.safety.apps.allow = r.selector(&p.safety.apps.allow, "safety.apps.allow", Noun::App);
        r.deny(&p.safety.apps.deny, "safety.apps.deny", Noun::App);
        p.safety.directories.allow = r.selector(
            &p.safety.directories.allow,
            "safety.directories.allow",
            Noun::Directory,
        );
        r.deny(
            &p.safety.directories.deny,
            "safety.directories.deny",
            Noun::Directory,
        );
        p.retry_provisioning.apps = r.selector(
            &p.retry_provisioning.apps,
            "retry_provisioning.apps",
            Noun::App,
        );
        p.force_sync.directories = r.selector(
            &p.force_sync.directories,
            "force_sync.directories",
            Noun::Directory,
        );
        let apps = std::mem::take(&mut p.remove_push_mappings.apps);
        p.remove_push_mappings.apps = r.table(apps, "remove_push_mappings.apps", |a| &mut a.app);
        let apps = std::mem::take(&mut p.provisioning_features.apps);
        p.provisioning_features.apps = r.table(apps, "provisioning_features.apps", |a| &mut a.app);
        p.kpasswd.directories = r.selector(
            &p.kpasswd.directories,
            "kpasswd.directories",
            Noun::Directory,
        );
        p.provisioning_credentials.apps = r.selector(
            &p.provisioning_credentials.apps,
            "provisioning_credentials.apps",
            Noun::App,
        );
        Resolved {
            policy: p,
            warnings: r.warnings,
        }
    }
}

struct Resolver<'a> {
    org: &'a Org,
    origins: &'a Origins,
    warnings: Vec<SelectorWarning>,
}

impl Resolver<'_> {
    /// An allow list or rule selector, by id: entries that matched one app, by id or label.
    fn selector(&mut self, selector: &Selector, field: &str, noun: Noun) -> Selector {
        let Selector::Only(entries) = selector else {
            return Selector::All;
        };
        let mut ids = Vec::new();
        for entry in entries {
            if let Some(id) = self.resolve(entry, field, noun, Several::None) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Selector::Only(ids)
    }

    /// A deny list: kept as written (a label denies every app it matches); only warned about.
    fn deny(&mut self, entries: &[String], field: &str, noun: Noun) {
        for entry in entries {
            self.resolve(entry, field, noun, Several::All);
        }
    }

    /// A per-app table: each entry renamed to the id of the one app it names; entries that
    /// matched no app or several are dropped, and so is an entry by label naming an app that
    /// another entry names by id (the entry by id applies).
    fn table<T>(
        &mut self,
        entries: Vec<T>,
        field: &str,
        app: impl Fn(&mut T) -> &mut String,
    ) -> Vec<T> {
        let mut resolved: Vec<(T, String)> = Vec::new();
        for mut entry in entries {
            let written = app(&mut entry).clone();
            if let Some(id) = self.resolve(&written, field, Noun::App, Several::None) {
                *app(&mut entry) = id;
                resolved.push((entry, written));
            }
        }
        let mut named_by_id = BTreeSet::new();
        for (entry, written) in &mut resolved {
            if *app(entry) == *written {
                named_by_id.insert(written.clone());
            }
        }
        let mut kept = Vec::with_capacity(resolved.len());
        for (mut entry, written) in resolved {
            let id = app(&mut entry).clone();
            if id == written || !named_by_id.contains(&id) {
                kept.push(entry);
                continue;
            }
            self.warn(
                &written,
                field,
                vec![id.clone()],
                Vec::new(),
                format!("names the same app as the entry {id:?}, which applies instead"),
            );
        }
        kept
    }

    /// The id the entry selects, if it names exactly one app (or is an id); warns otherwise.
    fn resolve(
        &mut self,
        entry: &str,
        field: &str,
        noun: Noun,
        several: Several,
    ) -> Option<String> {
        let ids = match self.org.lookup(entry) {
            Match::Id(id) => return Some(id),
            Match::Labels(ids) if ids.len() == 1 => return ids.into_iter().next(),
            Match::Labels(ids) => ids,
        };
        let message = if ids.is_empty() {
            let mut m = format!("matched no {}", noun.one());
            if let Some(read) = self.org.incomplete {
                m.push_str(&format!(
                    " among the {read} apps read: the app list is incomplete, so it may name an \
                     app that was not read"
                ));
            }
            m
        } else {
            let list = ids.join(", ");
            let n = ids.len();
            match several {
                Several::All => format!(
                    "matched {n} {} by label ({list}): denied to all of them; name one by id to \
                     deny only it",
                    noun.many()
                ),
                Several::None => format!(
                    "matched {n} {} by label ({list}): applied to none of them; name the {} by \
                     id",
                    noun.many(),
                    noun.one()
                ),
            }
        };
        let applied = match several {
            Several::All => ids.clone(),
            Several::None => Vec::new(),
        };
        self.warn(entry, field, ids, applied, message);
        None
    }

    fn warn(
        &mut self,
        entry: &str,
        field: &str,
        matched: Vec<String>,
        applied: Vec<String>,
        message: String,
    ) {
        let location = match self.origins.get(field, entry) {
            Some(place) => format!("{place}: {field}"),
            None => field.to_owned(),
        };
        self.warnings.push(SelectorWarning {
            selector: entry.to_owned(),
            field: field.to_owned(),
            location,
            matched,
            applied,
            message,
        });
    }
}
