//! Which Applications are system apps: the environment's definition (`argocd.system-apps` in
//! env.yaml) compiled once, then applied to each Application.
//!
//! An app is a system app when **any** rule matches: its name is listed, its labels match the
//! selector, one of its source folders matches a folder pattern (`apps/00-infra/*`: the tier),
//! or its sync wave is at most the maximum. An app **without** a sync-wave annotation has no wave
//! for this rule unless `missing-wave` gives it one: Argo CD syncs it in wave 0, but the missing
//! annotation says nothing about it being a system app (in Vixens, ordinary tools have none). The
//! root app-of-apps never is a system app: since Argo CD 1.8 an Application's health no longer
//! includes the health of the Applications it creates (Argo CD's "App of Apps" health
//! documentation), so it is never taken as evidence.
//!
//! A listed name that no Application has is reported with the closest existing names
//! ([`SystemAppRules::unknown_names`]): real names differ from the ones people remember
//! (`cert-manager-webhook-gandi`, not `cert-manager-webhook`).

use std::collections::BTreeSet;
use std::fmt;

use kube::core::{Expression, Selector, SelectorExt};

use super::Error;
use super::application::Application;

/// The definition of "system app": an app is one if it matches any of the given rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemApps {
    /// Explicit Application names.
    pub names: Vec<String>,
    /// A Kubernetes label selector (`tier=system`).
    pub selector: Option<String>,
    /// Folder patterns matched against the app's source paths (`apps/00-infra/*`).
    pub folders: Vec<String>,
    /// Apps whose `argocd.argoproj.io/sync-wave` annotation is at most this value.
    pub max_sync_wave: Option<i32>,
    /// The wave of an app without the annotation, for `max_sync_wave`.
    pub missing_wave: MissingWave,
}

/// What `max-sync-wave` makes of an app without a sync-wave annotation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MissingWave {
    /// It is not selected by its wave (the default).
    #[default]
    Exclude,
    /// It counts as this wave (`0` is what Argo CD syncs it in).
    Wave(i32),
}

/// The compiled definition of "system app" for one environment.
#[derive(Debug, Clone)]
pub struct SystemAppRules {
    root_app: String,
    names: BTreeSet<String>,
    selector: Option<(String, Selector)>,
    folders: Vec<String>,
    max_sync_wave: Option<i32>,
    missing_wave: MissingWave,
}

/// The rule that made an app a system app, for messages and evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedRule<'a> {
    /// Listed by name.
    Listed,
    /// Its labels match the selector (the selector's text).
    Selector(&'a str),
    /// One of its source paths matches this folder pattern.
    Folder(&'a str),
    /// Its sync wave is at most the maximum.
    SyncWave {
        /// The app's wave (`missing-wave` when it has no annotation).
        wave: i32,
        /// The configured maximum.
        max: i32,
        /// True when the app has no sync-wave annotation.
        missing: bool,
    },
}

impl fmt::Display for MatchedRule<'_> {
    /// `listed by name`, `folder apps/00-infra/*`, `sync wave -2 <= 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Listed => f.write_str("listed by name"),
            Self::Selector(selector) => write!(f, "labels match {selector}"),
            Self::Folder(pattern) => write!(f, "folder {pattern}"),
            Self::SyncWave { wave, max, missing: false } => write!(f, "sync wave {wave} <= {max}"),
            Self::SyncWave { wave, max, missing: true } => write!(f, "no sync wave, counted as {wave} (missing-wave) <= {max}"),
        }
    }
}

/// A listed system app that no Application has, with the closest names that exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    /// The name as listed.
    pub name: String,
    /// The closest existing names, closest first (at most three).
    pub closest: Vec<String>,
}

impl fmt::Display for UnknownName {
    /// `no Application `cert-manager-webhook`; closest: cert-manager-webhook-gandi, cert-manager`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no Application `{}`", self.name)?;
        if self.closest.is_empty() { f.write_str(" (no similar name)") } else { write!(f, "; closest: {}", self.closest.join(", ")) }
    }
}

impl SystemAppRules {
    /// Compiles `definition` for the root app-of-apps `root_app`.
    ///
    /// # Errors
    /// [`Error::NoSystemAppRule`] when the definition has no rule at all (nothing would be
    /// checked), [`Error::InvalidSelector`] when the label selector does not parse.
    pub fn new(root_app: &str, def: &SystemApps) -> Result<Self, Error> {
        if def.names.is_empty() && def.selector.is_none() && def.folders.is_empty() && def.max_sync_wave.is_none() {
            return Err(Error::NoSystemAppRule);
        }
        let selector = match &def.selector {
            Some(text) => Some((text.clone(), parse_selector(text)?)),
            None => None,
        };
        Ok(Self {
            root_app: root_app.to_owned(),
            names: def.names.iter().cloned().collect(),
            selector,
            folders: def.folders.clone(),
            max_sync_wave: def.max_sync_wave,
            missing_wave: def.missing_wave,
        })
    }

    /// The rule that makes `app` a system app, or `None` (always `None` for the root app).
    #[must_use]
    pub fn matches(&self, app: &Application) -> Option<MatchedRule<'_>> {
        let name = app.name();
        if name == self.root_app {
            return None;
        }
        if self.names.contains(name) {
            return Some(MatchedRule::Listed);
        }
        if let Some((text, selector)) = &self.selector
            && selector.matches(&app.labels())
        {
            return Some(MatchedRule::Selector(text));
        }
        let paths = app.source_paths();
        if let Some(pattern) = self.folders.iter().find(|pattern| paths.iter().any(|path| folder_matches(pattern, path))) {
            return Some(MatchedRule::Folder(pattern));
        }
        let max = self.max_sync_wave?;
        let (wave, missing) = match (app.written_sync_wave(), self.missing_wave) {
            (Some(wave), _) => (wave, false),
            (None, MissingWave::Wave(wave)) => (wave, true),
            (None, MissingWave::Exclude) => return None,
        };
        (wave <= max).then_some(MatchedRule::SyncWave { wave, max, missing })
    }

    /// The apps listed by name: each must exist once the app tree is complete.
    pub fn listed(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str).filter(|name| *name != self.root_app)
    }

    /// Every listed name that is not in `existing`, each with the closest existing names.
    #[must_use]
    pub fn unknown_names<'e>(&self, existing: impl IntoIterator<Item = &'e str> + Clone) -> Vec<UnknownName> {
        self.listed()
            .filter(|name| !existing.clone().into_iter().any(|e| e == *name))
            .map(|name| UnknownName { name: name.to_owned(), closest: closest(name, existing.clone()) })
            .collect()
    }

    /// The root app-of-apps.
    #[must_use]
    pub fn root_app(&self) -> &str {
        &self.root_app
    }
}

impl fmt::Display for SystemAppRules {
    /// The definition in words: `names [argocd, traefik] or selector tier=system or folders
    /// [apps/00-infra/*] or sync wave <= 2 (no wave: excluded)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rules = Vec::new();
        if !self.names.is_empty() {
            rules.push(format!("names [{}]", self.names.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        if let Some((text, _)) = &self.selector {
            rules.push(format!("selector {text}"));
        }
        if !self.folders.is_empty() {
            rules.push(format!("folders [{}]", self.folders.join(", ")));
        }
        if let Some(max) = self.max_sync_wave {
            match self.missing_wave {
                MissingWave::Exclude => rules.push(format!("sync wave <= {max}")),
                MissingWave::Wave(wave) => rules.push(format!("sync wave <= {max} (no wave counted as {wave})")),
            }
        }
        f.write_str(&rules.join(" or "))
    }
}

/// True when `path` lies in a folder that `pattern` names: the pattern's segments match the
/// path's first segments, `*` standing for any run of characters within one segment
/// (`apps/00-infra/*` matches `apps/00-infra/traefik/overlays/dev`; `apps/*-infra` matches
/// `apps/00-infra/traefik`).
#[must_use]
pub fn folder_matches(pattern: &str, path: &str) -> bool {
    let path: Vec<&str> = path.trim_start_matches("./").split('/').filter(|s| !s.is_empty()).collect();
    let pattern: Vec<&str> = pattern.trim_start_matches("./").split('/').filter(|s| !s.is_empty()).collect();
    !pattern.is_empty() && pattern.len() <= path.len() && pattern.iter().zip(&path).all(|(p, s)| segment_matches(p.as_bytes(), s.as_bytes()))
}

/// Glob of one segment with `*` only.
fn segment_matches(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| segment_matches(rest, &text[skip..])),
        Some((c, rest)) => text.first() == Some(c) && segment_matches(rest, &text[1..]),
    }
}

/// The existing names closest to `name`, closest first, at most three: those that contain it or
/// that it contains (a name remembered short or long), and those within a few edits of it.
fn closest<'e>(name: &str, existing: impl IntoIterator<Item = &'e str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = existing
        .into_iter()
        .filter_map(|candidate| {
            let distance = edit_distance(name, candidate);
            let related = candidate.contains(name) || name.contains(candidate);
            (related || distance <= (name.len() / 5).max(2)).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(3).map(|(_, c)| c.to_owned()).collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// Parses a label selector in the Kubernetes text form (`tier=system`, `a!=b`, `key`, `!key`,
/// `env in (dev, prod)`, `env notin (prod)`, requirements separated by commas).
///
/// # Errors
/// [`Error::InvalidSelector`] naming the selector and the requirement that does not parse.
pub fn parse_selector(text: &str) -> Result<Selector, Error> {
    let invalid = |reason: String| Error::InvalidSelector { selector: text.to_owned(), reason };
    let mut selector = Selector::default();
    for requirement in split_requirements(text).map_err(invalid)? {
        selector.extend(parse_requirement(requirement).map_err(invalid)?);
    }
    Ok(selector)
}

/// Splits at the commas that are not inside a `( ... )` set.
fn split_requirements(text: &str) -> Result<Vec<&str>, String> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0_i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err("unbalanced parentheses".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    parts.push(&text[start..]);
    Ok(parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect())
}

fn parse_requirement(req: &str) -> Result<Expression, String> {
    if let Some(key) = req.strip_prefix('!') {
        return Ok(Expression::DoesNotExist(key_of(key.trim(), req)?));
    }
    if let Some((head, values)) = req.split_once('(') {
        let (key, set_op) =
            head.trim().rsplit_once(char::is_whitespace).ok_or_else(|| format!("`{req}`: expected `KEY in (...)` or `KEY notin (...)`"))?;
        let values = values.trim_end().strip_suffix(')').ok_or_else(|| format!("`{req}`: the set must end with `)`"))?;
        let values = values.split(',').map(|v| value_of(v.trim(), req)).collect::<Result<_, _>>()?;
        let key = key_of(key.trim(), req)?;
        return match set_op {
            "in" => Ok(Expression::In(key, values)),
            "notin" => Ok(Expression::NotIn(key, values)),
            other => Err(format!("`{req}`: unknown operator `{other}` (expected `in` or `notin`)")),
        };
    }
    if let Some((key, value)) = req.split_once("!=") {
        return Ok(Expression::NotEqual(key_of(key.trim(), req)?, value_of(value.trim(), req)?));
    }
    if let Some((key, value)) = req.split_once("==").or_else(|| req.split_once('=')) {
        return Ok(Expression::Equal(key_of(key.trim(), req)?, value_of(value.trim(), req)?));
    }
    Ok(Expression::Exists(key_of(req, req)?))
}

/// A label key: an optional DNS prefix and `/`, then a name of alphanumerics, `-`, `_`, `.`.
fn key_of(key: &str, req: &str) -> Result<String, String> {
    let valid = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if valid { Ok(key.to_owned()) } else { Err(format!("`{req}`: `{key}` is not a label key")) }
}

/// A label value: empty, or alphanumerics, `-`, `_`, `.`.
fn value_of(value: &str, req: &str) -> Result<String, String> {
    let valid = value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid { Ok(value.to_owned()) } else { Err(format!("`{req}`: `{value}` is not a label value")) }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::argocd::application::SYNC_WAVE_ANNOTATION;

    fn compile(system_apps: SystemApps) -> Result<SystemAppRules, Error> {
        SystemAppRules::new("vixens-app-of-apps", &system_apps)
    }

    fn app(name: &str, wave: Option<&str>, labels: &[(&str, &str)]) -> Application {
        let mut app = Application::default();
        app.metadata.name = Some(name.into());
        app.metadata.annotations = wave.map(|w| BTreeMap::from([(SYNC_WAVE_ANNOTATION.to_owned(), w.to_owned())]));
        app.metadata.labels = Some(labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
        app
    }

    #[test]
    fn an_app_is_a_system_app_when_any_rule_matches() {
        let rules = compile(SystemApps {
            names: vec!["argocd".into()],
            selector: Some("tier=system".into()),
            max_sync_wave: Some(2),
            ..SystemApps::default()
        })
        .unwrap();
        assert_eq!(rules.matches(&app("argocd", Some("10"), &[])), Some(MatchedRule::Listed));
        assert_eq!(rules.matches(&app("keda", Some("10"), &[("tier", "system")])), Some(MatchedRule::Selector("tier=system")));
        assert_eq!(rules.matches(&app("traefik", Some("2"), &[])), Some(MatchedRule::SyncWave { wave: 2, max: 2, missing: false }));
        assert_eq!(rules.matches(&app("cert-manager", Some("-5"), &[])), Some(MatchedRule::SyncWave { wave: -5, max: 2, missing: false }));
        assert_eq!(rules.matches(&app("homepage", Some("10"), &[("tier", "apps")])), None);
        assert_eq!(rules.to_string(), "names [argocd] or selector tier=system or sync wave <= 2");
    }

    #[test]
    fn an_app_without_a_wave_is_not_selected_by_wave_unless_missing_wave_says_so() {
        let rules = compile(SystemApps { max_sync_wave: Some(2), ..SystemApps::default() }).unwrap();
        assert_eq!(rules.matches(&app("it-tools", None, &[])), None, "a missing annotation is not wave 0 by default");
        let rules = compile(SystemApps { max_sync_wave: Some(0), missing_wave: MissingWave::Wave(0), ..SystemApps::default() }).unwrap();
        let matched = rules.matches(&app("it-tools", None, &[])).unwrap();
        assert_eq!(matched.to_string(), "no sync wave, counted as 0 (missing-wave) <= 0");
        assert_eq!(rules.to_string(), "sync wave <= 0 (no wave counted as 0)");
        let rules = compile(SystemApps { max_sync_wave: Some(-1), missing_wave: MissingWave::Wave(0), ..SystemApps::default() }).unwrap();
        assert!(rules.matches(&app("it-tools", None, &[])).is_none());
    }

    #[test]
    fn an_app_is_selected_by_the_tier_folder_of_its_git_path_or_of_its_helm_values() {
        let rules = compile(SystemApps { folders: vec!["apps/00-infra/*".into(), "apps/01-storage".into()], ..SystemApps::default() }).unwrap();
        let mut kustomize = app("cilium-lb", Some("-4"), &[]);
        kustomize.spec.source =
            Some(crate::argocd::ApplicationSource { path: Some("apps/00-infra/cilium-lb/overlays/dev".into()), ..Default::default() });
        assert_eq!(rules.matches(&kustomize), Some(MatchedRule::Folder("apps/00-infra/*")));
        let mut helm = app("traefik", Some("2"), &[]);
        helm.spec.sources = vec![
            crate::argocd::ApplicationSource {
                helm: Some(crate::argocd::HelmSource { value_files: vec!["$values/apps/01-storage/traefik/values/common.yaml".into()] }),
                ..Default::default()
            },
            crate::argocd::ApplicationSource { reference: Some("values".into()), ..Default::default() },
        ];
        assert_eq!(rules.matches(&helm), Some(MatchedRule::Folder("apps/01-storage")));
        let mut tool = app("it-tools", None, &[]);
        tool.spec.source = Some(crate::argocd::ApplicationSource { path: Some("apps/70-tools/it-tools/overlays/dev".into()), ..Default::default() });
        assert_eq!(rules.matches(&tool), None);
        assert_eq!(rules.matches(&app("metrics-server", Some("3"), &[])), None, "a pure Helm chart has no folder");
        assert!(folder_matches("apps/*-infra", "apps/00-infra/traefik"));
        assert!(!folder_matches("apps/00-infra/*", "apps/00-infra"), "the folder itself holds no app");
        assert!(!folder_matches("apps/00-infra", "apps/00-infrastructure/x"));
    }

    #[test]
    fn a_listed_name_that_does_not_exist_is_named_with_the_closest_existing_ones() {
        let rules =
            compile(SystemApps { names: vec!["cert-manager-webhook".into(), "traefik".into(), "zzz".into()], ..SystemApps::default() }).unwrap();
        let existing = ["cert-manager", "cert-manager-webhook-gandi", "cert-manager-config", "traefik", "keda"];
        let unknown: Vec<String> = rules.unknown_names(existing).iter().map(ToString::to_string).collect();
        assert_eq!(
            unknown,
            ["no Application `cert-manager-webhook`; closest: cert-manager-webhook-gandi, cert-manager", "no Application `zzz` (no similar name)"]
        );
        let typo = compile(SystemApps { names: vec!["treafik".into()], ..SystemApps::default() }).unwrap();
        assert_eq!(typo.unknown_names(existing)[0].closest, ["traefik"]);
    }

    #[test]
    fn the_root_app_is_never_a_system_app_even_when_listed() {
        let rules =
            compile(SystemApps { names: vec!["vixens-app-of-apps".into(), "traefik".into()], max_sync_wave: Some(100), ..SystemApps::default() })
                .unwrap();
        assert_eq!(rules.matches(&app("vixens-app-of-apps", Some("-10"), &[])), None);
        assert_eq!(rules.listed().collect::<Vec<_>>(), ["traefik"]);
    }

    #[test]
    fn a_definition_without_any_rule_is_refused() {
        let err = compile(SystemApps::default()).unwrap_err();
        assert_eq!(err.to_string(), "argocd.system-apps defines no rule (names, selector, folders or max-sync-wave): no app would be checked");
    }

    #[test]
    fn a_selector_that_does_not_parse_is_refused_naming_it() {
        let err = compile(SystemApps { selector: Some("tier in (system".into()), ..SystemApps::default() }).unwrap_err();
        assert_eq!(err.to_string(), "argocd.system-apps.selector `tier in (system` is invalid: unbalanced parentheses");
        let err = parse_selector("tier=sys tem").unwrap_err();
        assert_eq!(err.to_string(), "argocd.system-apps.selector `tier=sys tem` is invalid: `tier=sys tem`: `sys tem` is not a label value");
    }

    #[test]
    fn selectors_take_every_kubernetes_operator() {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let on: BTreeMap<String, String> = labels(&[("tier", "system"), ("app.kubernetes.io/part-of", "infra")]);
        for (selector, expected) in [
            ("tier=system", true),
            ("tier = system", true),
            ("tier==system", true),
            ("tier!=system", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("tier in (system, storage)", true),
            ("tier notin (system)", false),
            ("tier=system,app.kubernetes.io/part-of=infra", true),
            ("tier=system, app.kubernetes.io/part-of in (apps)", false),
        ] {
            assert_eq!(parse_selector(selector).unwrap().matches(&on), expected, "{selector}");
        }
    }
}
