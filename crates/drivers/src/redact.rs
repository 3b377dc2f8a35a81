//! One [`Redactor`] keeps secrets out of everything the harness writes: terminal output, JUnit,
//! snapshots, the report and the evidence ledger.
//!
//! Secrets are registered before anything is written: token and key values read from the
//! kubeconfig and talosconfig, and any value the environment marks secret. Longer values are
//! replaced first, so a secret that contains another is never half-redacted.
//!
//! Credentials written into a URL (`http://user:password@nas:9000`, `https://TOKEN@host`) are
//! redacted wherever they appear, registered or not: an endpoint taken from a variable
//! (`VIXENS_MINIO_ENDPOINT`) ends up in error chains, and its credentials must not.

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

    /// `text` with every registered secret, and every URL's credentials, replaced.
    #[must_use]
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, placeholder) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        redact_url_credentials(&out)
    }

    /// True when nothing is registered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

/// The placeholder of a URL's credentials.
const URL_CREDENTIALS: &str = "[REDACTED:url-credentials]";

/// `text` with the user information of every `scheme://user:password@host` (or
/// `scheme://token@host`) replaced: the part after `://` up to an `@` that comes before the
/// host's end (`/`, `?`, `#`, a space or a quote).
fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let authority_end =
            after.find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'' | '`' | '<' | '>') || c.is_whitespace()).unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(at) if at > 0 && !after[..at].starts_with('[') => {
                out.push_str(URL_CREDENTIALS);
                rest = &after[at..];
            }
            _ => rest = after,
        }
    }
    out.push_str(rest);
    out
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
    fn credentials_in_a_url_are_redacted_registered_or_not() {
        let r = Redactor::new();
        assert_eq!(
            r.redact("inventory check `state`: no answer from http://minio:s3cr3t@nas.lan:9000/terraform-state-dev: connection refused"),
            "inventory check `state`: no answer from http://[REDACTED:url-credentials]@nas.lan:9000/terraform-state-dev: connection refused"
        );
        assert_eq!(r.redact("git clone https://ghp_token@github.com/x/y.git"), "git clone https://[REDACTED:url-credentials]@github.com/x/y.git");
        for untouched in ["http://nas.lan:9000/bucket?x=a@b", "mail admin@nas.lan", "see https://example.org/@user", "file:///tmp/a@b"] {
            assert_eq!(r.redact(untouched), untouched);
        }
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
