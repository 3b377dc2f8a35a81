//! Which Applications are system apps: the environment's definition (`argocd.system-apps` in
//! env.yaml) compiled once, then applied to each Application.
//!
//! An app is a system app when **any** rule matches: its name is listed, its labels match the
//! selector, or its sync wave is at most the maximum. The root app-of-apps never is: since Argo
//! CD 1.8 an Application's health no longer includes the health of the Applications it creates
//! (Argo CD's "App of Apps" health documentation), so it is never taken as evidence.

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
    /// Apps whose `argocd.argoproj.io/sync-wave` annotation is at most this value.
    pub max_sync_wave: Option<i32>,
}

/// The compiled definition of "system app" for one environment.
#[derive(Debug, Clone)]
pub struct SystemAppRules {
    root_app: String,
    names: BTreeSet<String>,
    selector: Option<(String, Selector)>,
    max_sync_wave: Option<i32>,
}

/// The rule that made an app a system app, for messages and evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedRule<'a> {
    /// Listed by name.
    Listed,
    /// Its labels match the selector (the selector's text).
    Selector(&'a str),
    /// Its sync wave is at most the maximum.
    SyncWave {
        /// The app's wave.
        wave: i32,
        /// The configured maximum.
        max: i32,
    },
}

impl SystemAppRules {
    /// Compiles `definition` for the root app-of-apps `root_app`.
    ///
    /// # Errors
    /// [`Error::NoSystemAppRule`] when the definition has no rule at all (nothing would be
    /// checked), [`Error::InvalidSelector`] when the label selector does not parse.
    pub fn new(root_app: &str, def: &SystemApps) -> Result<Self, Error> {
        if def.names.is_empty() && def.selector.is_none() && def.max_sync_wave.is_none() {
            return Err(Error::NoSystemAppRule);
        }
        let selector = match &def.selector {
            Some(text) => Some((text.clone(), parse_selector(text)?)),
            None => None,
        };
        Ok(Self { root_app: root_app.to_owned(), names: def.names.iter().cloned().collect(), selector, max_sync_wave: def.max_sync_wave })
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
        let wave = app.sync_wave();
        self.max_sync_wave.filter(|max| wave <= *max).map(|max| MatchedRule::SyncWave { wave, max })
    }

    /// The apps listed by name: each must exist once the app tree is complete.
    pub fn listed(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str).filter(|name| *name != self.root_app)
    }

    /// The root app-of-apps.
    #[must_use]
    pub fn root_app(&self) -> &str {
        &self.root_app
    }
}

impl fmt::Display for SystemAppRules {
    /// The definition in words: `names [argocd, traefik] or selector tier=system or sync wave <= 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rules = Vec::new();
        if !self.names.is_empty() {
            rules.push(format!("names [{}]", self.names.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        if let Some((text, _)) = &self.selector {
            rules.push(format!("selector {text}"));
        }
        if let Some(max) = self.max_sync_wave {
            rules.push(format!("sync wave <= {max}"));
        }
        f.write_str(&rules.join(" or "))
    }
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
        let rules = compile(SystemApps { names: vec!["argocd".into()], selector: Some("tier=system".into()), max_sync_wave: Some(2) }).unwrap();
        assert_eq!(rules.matches(&app("argocd", Some("10"), &[])), Some(MatchedRule::Listed));
        assert_eq!(rules.matches(&app("keda", Some("10"), &[("tier", "system")])), Some(MatchedRule::Selector("tier=system")));
        assert_eq!(rules.matches(&app("traefik", Some("2"), &[])), Some(MatchedRule::SyncWave { wave: 2, max: 2 }));
        assert_eq!(rules.matches(&app("cert-manager", Some("-5"), &[])), Some(MatchedRule::SyncWave { wave: -5, max: 2 }));
        assert_eq!(rules.matches(&app("homepage", Some("10"), &[("tier", "apps")])), None);
        assert_eq!(rules.to_string(), "names [argocd] or selector tier=system or sync wave <= 2");
    }

    #[test]
    fn an_app_without_a_wave_is_in_wave_zero_like_argocd_counts_it() {
        let rules = compile(SystemApps { max_sync_wave: Some(0), ..SystemApps::default() }).unwrap();
        assert!(rules.matches(&app("priority-classes", None, &[])).is_some());
        let rules = compile(SystemApps { max_sync_wave: Some(-1), ..SystemApps::default() }).unwrap();
        assert!(rules.matches(&app("priority-classes", None, &[])).is_none());
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
        assert_eq!(err.to_string(), "argocd.system-apps defines no rule (names, selector or max-sync-wave): no app would be checked");
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
