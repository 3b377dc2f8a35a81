//! One [`Redactor`] keeps secrets out of everything the harness writes: terminal output, JUnit,
//! snapshots, the report and the evidence ledger.
//!
//! Secrets are registered before anything is written: token and key values read from the
//! kubeconfig and talosconfig, and any value the environment marks secret. Longer values are
//! replaced first, so a secret that contains another is never half-redacted.

use std::path::Path;

/// Replaces registered secrets with `[REDACTED:<name>]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// (value, placeholder), longest value first.
    secrets: Vec<(String, String)>,
}

/// Values shorter than this are not registered: redacting them would shred ordinary text.
const MIN_SECRET_LEN: usize = 8;

impl Redactor {
    /// A redactor with nothing registered.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `value` under `name`; it will be printed as `[REDACTED:name]`.
    pub fn add(&mut self, name: &str, value: &str) {
        let value = value.trim();
        if value.len() < MIN_SECRET_LEN || self.secrets.iter().any(|(v, _)| v == value) {
            return;
        }
        self.secrets.push((value.to_owned(), format!("[REDACTED:{name}]")));
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    }

    /// Registers every secret-looking value of a kubeconfig or talosconfig file: tokens,
    /// passwords, keys and certificates (inline data). A missing or unreadable file adds nothing.
    pub fn add_config_file(&mut self, path: &Path) {
        let Ok(text) = std::fs::read_to_string(path) else { return };
        for line in text.lines() {
            let Some((key, value)) = line.trim().trim_start_matches("- ").split_once(':') else { continue };
            let key = key.trim().trim_matches('"').to_ascii_lowercase();
            if is_secret_key(&key) {
                let value = value.trim().trim_matches('"').trim_matches('\'');
                self.add(&key, value);
            }
        }
    }

    /// `text` with every registered secret replaced.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, placeholder) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    }

    /// True when nothing is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

fn is_secret_key(key: &str) -> bool {
    matches!(key, "token" | "password" | "key" | "crt" | "ca" | "secret")
        || key.ends_with("-data")
        || key.ends_with("_token")
        || key.contains("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_longest_secret_first() {
        let mut r = Redactor::new();
        r.add("token", "abcdefgh");
        r.add("token-long", "abcdefgh-ijklmnop");
        assert_eq!(r.redact("t=abcdefgh-ijklmnop u=abcdefgh"), "t=[REDACTED:token-long] u=[REDACTED:token]");
    }

    #[test]
    fn short_values_are_not_secrets() {
        let mut r = Redactor::new();
        r.add("x", "yes");
        assert!(r.is_empty());
    }

    #[test]
    fn reads_tokens_and_key_data_from_a_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, "users:\n- name: admin\n  user:\n    token: s3cr3t-t0ken-value\n    client-key-data: LS0tLS1CRUdJTi1LRVk=\n").unwrap();
        let mut r = Redactor::new();
        r.add_config_file(&path);
        let out = r.redact("Authorization: Bearer s3cr3t-t0ken-value / LS0tLS1CRUdJTi1LRVk=");
        assert_eq!(out, "Authorization: Bearer [REDACTED:token] / [REDACTED:client-key-data]");
    }
}
