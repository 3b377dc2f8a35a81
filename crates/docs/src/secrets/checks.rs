//! The tests a matched value goes through after its rule's regex: is it a placeholder, does it
//! look random enough to be a credential, is it public material. Each returns `true` when the
//! value may be a secret.
//!
//! The thresholds come from the research behind the rule table (a false-positive survey on
//! about 6,000 real Markdown, YAML and shell files, and 20,000 random values per alphabet and
//! length); [`random`] says how the entropy bound scales with length and why.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use regex::Regex;

/// Shannon entropy of `s`, in bits per character.
#[must_use]
pub fn entropy(s: &str) -> f64 {
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let n = s.chars().count() as f64;
    counts.values().map(|&k| k as f64 / n).map(|p| -p * p.log2()).sum()
}

/// Substrings that make a value a placeholder, a template, a reference or ciphertext.
const PLACEHOLDER_PARTS: &[&str] = &[
    "${",
    "$(",
    "{{",
    "<",
    ">",
    "...",
    "…",
    "example",
    "changeme",
    "change-me",
    "change_me",
    "dummy",
    "placeholder",
    "your-",
    "your_",
    "yourtoken",
    "sample",
    "redacted",
    "data+omitted",
    "notreal",
    "not-a-real",
    // SOPS ciphertext, vals references, 1Password, Vault and Infisical references.
    "enc[",
    "ref+",
    "op://",
    "vault:",
    "infisical://",
    "secretref",
];

/// Whole values that are words, not secrets.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "test",
    "none",
    "null",
    "nil",
    "true",
    "false",
    "todo",
    "tbd",
    "string",
    "value",
    "admin",
    "root",
    "guest",
    "user",
    "pass",
    "omitted",
    "hidden",
    "sensitive",
    "redacted",
];

/// True for placeholders: `$VAR`, `${VAR}`, `$(cmd)`, `<TOKEN>`, `{{ .Values.x }}`, a value
/// wholly in brackets (`[REDACTED:name]`, commands.md's `[TOKEN]`), the fillers `xxxx`,
/// `****`, `...`, words such as `changeme`, and made-up values: 2 or 3 distinct characters, or
/// a 6-long ascending run (`abcdef`, `012345`), which covers the documented samples of kubeadm,
/// Tailscale and jwt.io without a list of known values to keep up to date.
#[must_use]
pub fn is_placeholder(value: &str) -> bool {
    let lower = value.to_lowercase();
    // `$2a$10$…` (bcrypt) is no variable: `$` before a digit.
    if value.strip_prefix('$').is_some_and(|rest| rest.starts_with(|c: char| matches!(c, '{' | '(' | '_') || c.is_ascii_alphabetic())) {
        return true;
    }
    if value.len() >= 2 && value.starts_with('[') && value.ends_with(']') {
        return true;
    }
    if PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)) || PLACEHOLDER_WORDS.contains(&lower.as_str()) {
        return true;
    }
    filler_run(&lower) || few_distinct(&lower) || ascending_run(&lower)
}

/// A run of `x`, `*` or `_`: 4 long, or 8 long in values of 64 characters or more, where 4 `x`
/// in a row happen by chance in about one 1,600-character base64 blob out of 700.
fn filler_run(lower: &str) -> bool {
    let need = if lower.len() < 64 { 4 } else { 8 };
    let mut run = 0;
    let mut previous = None;
    for c in lower.chars() {
        run = if Some(c) == previous { run + 1 } else { 1 };
        previous = Some(c);
        if matches!(c, 'x' | '*' | '_') && run >= need {
            return true;
        }
    }
    false
}

/// `aaaaaaaa`, `abababab`, `00000000`.
fn few_distinct(lower: &str) -> bool {
    let distinct: HashSet<char> = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    lower.len() >= 8 && distinct.len() <= 3
}

/// A 6-long ascending run of letters or digits.
fn ascending_run(lower: &str) -> bool {
    ["abcdefghijklmnopqrstuvwxyz", "0123456789"].iter().any(|seq| (0..=seq.len() - 6).any(|i| lower.contains(&seq[i..i + 6])))
}

/// The shortest value the generic test judges.
pub const MIN_LENGTH: usize = 12;
/// The share of the largest possible entropy a random value reaches (see [`random`]).
pub const K: f64 = 0.75;
/// The same for hexadecimal values, whose 16 symbols give a random value less room.
pub const K_HEX: f64 = 0.70;

/// The generic value test, for values found after a keyword (`password: …`, `--token …`) or
/// alone on an output line: is this a credential rather than a name, a path, a number or code?
///
/// It must be at least [`MIN_LENGTH`] characters; not code (`Token::from(x)`, `slab.insert(..)`);
/// not shaped like an identifier (kebab, snake or dotted lower case, `ENV_NAMES`, PascalCase or
/// camelCase words, one-case words, numbers, versions, dates, durations, paths, URLs, e-mail
/// addresses, UUIDs, digests, flags); not public by design (publishable and test keys, public
/// keys, age recipients); free of secret keywords (a value naming a secret refers to it); and
/// random enough: `H ≥ K · log2(min(len, A))`, with `H` its Shannon entropy, `A` the size of
/// the alphabet it spans (16 for hex, else 26 per letter case, 10 for digits, 32 for symbols).
///
/// The bound scales with length because a value of `n` characters cannot exceed `log2(n)` bits
/// a character: a fixed threshold (gitleaks' 3.5, detect-secrets' 4.5) misses most random
/// values of 12 to 20 characters, Argo CD's 16-character initial password among them. With
/// K = 0.75 about 1 % of random 12-character values and under 0.1 % of 24-character ones pass
/// unreported; a lower K lets PascalCase words through.
#[must_use]
pub fn random(value: &str) -> bool {
    let n = value.chars().count();
    if n < MIN_LENGTH || code_shaped(value) || identifier_shaped(value) || public_value(value) {
        return false;
    }
    let lower = value.to_lowercase();
    if ["passw", "token", "secret", "apikey", "api_key", "api-key", "credential"].iter().any(|k| lower.contains(k)) {
        return false;
    }
    let alphabet = alphabet_size(value);
    let k = if alphabet == 16.0 { K_HEX } else { K };
    entropy(value) >= k * (n as f64).min(alphabet).log2()
}

/// Code, not a value: `Token::from(x)`, `slab.insert(..)`, `params.keys[i]`.
fn code_shaped(value: &str) -> bool {
    value.starts_with(':') || value.contains("::") || value.contains(['(', ')', '[', ']', '{', '}', ';'])
}

static IDENTIFIER_SHAPES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"^[a-z0-9]+(?:[-_.:/@][a-z0-9]+)+$",                              // kebab, snake, dotted, k8s names, refs
        r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$",                                // ENV_VAR_NAMES
        r"^(?:[A-Z][a-z]+)+[0-9]*$",                                       // PascalCase words
        r"^[a-z]+(?:[A-Z][a-z]+)+[0-9]*$",                                 // camelCase words
        r"^[a-z]+$|^[A-Z]+$|^[0-9]+$",                                     // one word in one case; a number
        r"^v?[0-9]+(?:\.[0-9]+)+(?:[-+][0-9A-Za-z.-]+)?$",                 // versions
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9:.]+Z?)?$",                // dates
        r"^[0-9]+(?:ms|s|m|h|d|w|y)$",                                     // durations
        r"^(?:/|\./|\.\./|~/)",                                            // paths
        r"://",                                                            // URLs
        r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",                                   // e-mail addresses
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", // UUIDs (a Kubernetes uid)
        r"^sha(?:1|256|384|512):",                                         // digests
        r"^--?[a-z][a-z0-9-]*$",                                           // a command-line flag
    ]
    .iter()
    .map(|p| Regex::new(p).expect("the identifier shapes are valid regexes"))
    .collect()
});

fn identifier_shaped(value: &str) -> bool {
    IDENTIFIER_SHAPES.iter().any(|r| r.is_match(value))
}

/// Public by design: Stripe publishable keys and test keys (Stripe says only live secret and
/// restricted keys matter), SSH public keys, age recipients, digests.
fn public_value(value: &str) -> bool {
    const PUBLIC_PREFIXES: &[&str] = &[
        "pk_live_",
        "pk_test_",
        "sk_test_",
        "rk_test_",
        "age1",
        "ssh-rsa",
        "ssh-ed25519",
        "ssh-dss",
        "ecdsa-sha2-",
        "AAAAC3NzaC1",
        "AAAAB3NzaC1",
        "sha256:",
        "sha512:",
        "npub1",
    ];
    PUBLIC_PREFIXES.iter().any(|p| value.starts_with(p))
}

fn alphabet_size(value: &str) -> f64 {
    let has = |f: fn(&char) -> bool| value.chars().any(|c| f(&c));
    let hex = value.chars().all(|c| c.is_ascii_hexdigit()) && !value.chars().all(|c| c.is_ascii_digit());
    if hex && !(has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase)) {
        return 16.0;
    }
    let classes = [(has(char::is_ascii_lowercase), 26.0), (has(char::is_ascii_uppercase), 26.0), (has(char::is_ascii_digit), 10.0)];
    let symbols = if value.chars().any(|c| !c.is_ascii_alphanumeric()) { 32.0 } else { 0.0 };
    classes.iter().filter(|(present, _)| *present).map(|(_, size)| size).sum::<f64>() + symbols
}

/// A base64 value that decodes to printable text is judged as that text: `cGFzc3dvcmQ=`
/// ("password") and `aGVsbG8gd29ybGQ=` ("hello world") are no secrets, the base64 of a random
/// password is. `None` when the value is not base64 of printable text.
#[must_use]
pub fn base64_words(value: &str) -> Option<bool> {
    let base64_shaped =
        value.len() >= 8 && value.len().is_multiple_of(4) && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !base64_shaped {
        return None;
    }
    let bytes = STANDARD.decode(value).ok()?;
    if bytes.is_empty() || !bytes.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    let text = String::from_utf8(bytes).ok()?;
    Some(!is_placeholder(&text) && random(&text))
}

/// What a base64 blob starting like `LS0tLS1` (`-----`) decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pem {
    /// A PEM private key (`-----BEGIN … PRIVATE KEY`).
    PrivateKey,
    /// Another PEM block: a certificate or a public key, public material.
    Public,
    /// Not base64 of a PEM block.
    NotPem,
}

/// Decodes the start of a base64 blob and reads its PEM label.
#[must_use]
pub fn base64_pem(value: &str) -> Pem {
    let take = value.len().min(96) / 4 * 4;
    let Some(Ok(head)) = value.get(..take).map(|head| STANDARD.decode(head)) else { return Pem::NotPem };
    let head = String::from_utf8_lossy(&head);
    match head.lines().next() {
        Some(first) if first.starts_with("-----BEGIN ") && first.contains("PRIVATE KEY") => Pem::PrivateKey,
        Some(first) if first.starts_with("-----BEGIN ") => Pem::Public,
        _ => Pem::NotPem,
    }
}

fn base64url_text(segment: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?).ok()
}

/// A JWS compact serialization: a JSON header naming its algorithm, and a payload that is not a
/// published sample (jwt.io's `1234567890`, `John Doe`, anything `example`).
#[must_use]
pub fn jwt(value: &str) -> bool {
    let mut parts = value.split('.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else { return false };
    let Some(header) = base64url_text(header) else { return false };
    if !(header.starts_with('{') && header.contains("\"alg\"")) {
        return false;
    }
    base64url_text(payload).is_none_or(|payload| {
        let lower = payload.to_lowercase();
        !(ascending_run(&lower) || lower.contains("john doe") || lower.contains("example"))
    })
}

/// Passwords everyone knows: in a URL or a Basic header they are defaults, not leaks.
const DEFAULT_PASSWORDS: &[&str] = &["password", "pass", "secret", "changeme", "admin", "root", "guest", "user", "test", "minioadmin", "postgres"];

/// A password inside a URL or a Basic header: reported unless it is a placeholder, shorter than
/// 6 characters or a well-known default. No entropy test: `postgres://argocd:argocd123@…` is a
/// credential too.
#[must_use]
pub fn url_password(value: &str) -> bool {
    value.chars().count() >= 6 && !is_placeholder(value) && !DEFAULT_PASSWORDS.contains(&value.to_lowercase().as_str())
}

/// An `Authorization:` value: `Basic` decodes to `user:password`, whose password is judged as a
/// URL's; other schemes get the generic test.
#[must_use]
pub fn authorization(scheme: Option<&str>, value: &str) -> bool {
    if scheme.is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        && let Some(text) = STANDARD.decode(value).ok().and_then(|b| String::from_utf8(b).ok())
        && let Some((_, password)) = text.split_once(':')
    {
        return url_password(password);
    }
    random(value)
}

/// Name endings that make a name about a secret rather than the secret: its file, its name,
/// where it is, how long it lives.
const NOT_THE_SECRET_SUFFIXES: &[&str] = &[
    "name",
    "names",
    "ref",
    "reference",
    "file",
    "path",
    "dir",
    "url",
    "uri",
    "endpoint",
    "id",
    "ids",
    "ttl",
    "length",
    "len",
    "type",
    "hash",
    "field",
    "env",
    "var",
    "count",
    "size",
    "prefix",
    "suffix",
    "format",
    "mode",
    "policy",
    "expiry",
    "expires",
    "expiration",
    "rotation",
    "lifetime",
    "duration",
    "selector",
    "provider",
    "store",
    "class",
    "template",
    "source",
    "keys",
];

/// Names of public or derived material: a public key, its pin or fingerprint, a digest.
const PUBLIC_NAMES: &[&str] = &["public", "pubkey", "pub_key", "pub-key", "fingerprint", "checksum", "digest", "thumbprint", "sha256", "sha1"];

/// True when the name a value is given (`MINIO_ROOT_PASSWORD`, `--token`, `mot de passe`) names
/// the secret itself: not its file, name or lifetime (`password_file`, `secretName`,
/// `tokenTTL`), not public material (`publicKey`), and not an access key ID, which names a key
/// pair the way a user name names an account (the secret key beside it is what is reported).
#[must_use]
pub fn names_the_secret(key: &str) -> bool {
    let trimmed = key.trim_matches(|c: char| !c.is_alphanumeric());
    let lower = trimmed.to_lowercase();
    if PUBLIC_NAMES.iter().any(|p| lower.contains(p)) {
        return false;
    }
    let squashed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if !squashed.contains("secret") && (squashed.ends_with("accesskey") || squashed.ends_with("accesskeyid") || squashed.ends_with("keyid")) {
        return false;
    }
    !NOT_THE_SECRET_SUFFIXES.iter().any(|suffix| {
        lower.ends_with(suffix) && {
            let before = &lower[..lower.len() - suffix.len()];
            before.is_empty() || before.ends_with(['_', '-', '.', ' ']) || camel_suffix(trimmed, suffix)
        }
    })
}

/// `secretName`, `tokenTTL`: the suffix starts with a capital.
fn camel_suffix(key: &str, suffix: &str) -> bool {
    key.len() > suffix.len()
        && key.is_char_boundary(key.len() - suffix.len())
        && key[key.len() - suffix.len()..].starts_with(|c: char| c.is_ascii_uppercase())
}

/// A bootstrap token's 16-character secret holds a letter and a digit (a hostname rarely does).
#[must_use]
pub fn bootstrap(value: &str) -> bool {
    let secret = value.split('.').nth(1).unwrap_or_default();
    secret.chars().any(|c| c.is_ascii_digit()) && secret.chars().any(|c| c.is_ascii_alphabetic())
}

/// An upper-case letter, a lower-case letter and a digit: hex digests, pod names and words never
/// have all three.
#[must_use]
pub fn mixed_case_digit(value: &str) -> bool {
    value.chars().any(|c| c.is_ascii_uppercase()) && value.chars().any(|c| c.is_ascii_lowercase()) && value.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "${TOKEN}",
            "$TOKEN",
            "$(cat token)",
            "<TOKEN>",
            "[REDACTED]",
            "[REDACTED:infisical-token]",
            "[TOKEN]",
            "xxxxxxxx",
            "ghp_XXXXXXXXXXXXXXXX",
            "********",
            "sk-ant-api03-...",
            "changeme",
            "REDACTED",
            "DATA+OMITTED",
            "abcdef.0123456789abcdef",
            "aaaaaaaaaaaa",
            "ENC[AES256_GCM,data:x]",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for s in ["$2a$10$N9qo8uLOickgx2ZMRZoMye", "Xk3v9QmPz7Lw", "gs8w85Tiij3Mp3KM"] {
            assert!(!is_placeholder(s), "{s}");
        }
    }

    #[test]
    fn random_values_pass_and_names_paths_and_code_do_not() {
        for s in ["gs8w85Tiij3Mp3KM", "Py0LgTuAypw^2!7Rz7L31T3V", "3e4f249d7af3f893e8781716306347a5"] {
            assert!(random(s), "{s}");
        }
        for s in [
            "argocd-initial-admin-secret",
            "MINIO_ROOT_PASSWORD",
            "SuperSecretPassword",
            "Token::from(value)",
            "slab.insert(entry)",
            "/run/secrets/argocd-admin",
            "https://vault.lan/v1/x",
            "2026-11-26T10:00:00Z",
            "sha256:4f9c2e1b7a3d5f6e8c0b1a2d3e4f5a6b",
            "0b8f7a3e-9c1d-4e2f-8a6b-5c4d3e2f1a0b",
            "pk_live_51NzQmRkLs2vX8cT4yBwPq7JhD3",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "short1A",
        ] {
            assert!(!random(s), "{s}");
        }
    }

    #[test]
    fn base64_of_words_is_judged_as_the_words() {
        assert_eq!(base64_words("cGFzc3dvcmQ="), Some(false));
        assert_eq!(base64_words("aGVsbG8gd29ybGQ="), Some(false));
        // base64 of "gs8w85Tiij3Mp3KM"
        assert_eq!(base64_words("Z3M4dzg1VGlpajNNcDNLTQ=="), Some(true));
        assert_eq!(base64_words("not base64!"), None);
    }

    #[test]
    fn names_about_a_secret_are_not_the_secret() {
        for k in ["MINIO_ROOT_PASSWORD", "admin.password", "--token", "mot de passe", "clientSecret", "aws_secret_access_key"] {
            assert!(names_the_secret(k), "{k}");
        }
        for k in ["secretName", "password_file", "token-ttl", "--password-file", "publicKey", "AWS_ACCESS_KEY_ID", "Access Key", "access-key"] {
            assert!(!names_the_secret(k), "{k}");
        }
    }

    #[test]
    fn jwt_io_s_sample_is_no_secret() {
        let sample = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
        assert!(!jwt(sample));
        assert!(!jwt("eyJub3QiOiJhIGhlYWRlciJ9.eyJ4IjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl"));
    }

    #[test]
    fn basic_credentials_are_decoded() {
        assert!(!authorization(Some("Basic"), "dXNlcjpwYXNzd29yZA=="), "user:password is a default");
        assert!(authorization(Some("Basic"), "dml4ZW5zLWFkbWluOlB5MExnVHVBeXB3"), "vixens-admin:Py0LgTuAypw");
    }
}
