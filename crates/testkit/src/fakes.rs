//! FAKE credentials, shaped exactly like real ones (prefix, alphabet, length, and the checksum
//! where the format has one), for the tests of the `secrets` rule. None of them was ever issued
//! by any service.
//!
//! They are generated at test time from a seeded generator instead of being committed: a GitHub
//! token with a valid checksum in the repository would trip a forge's push protection and
//! secret scanning, and `vixens docs secrets` itself. The same seed gives the same values, so a
//! failure reproduces.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const HEX: &str = "0123456789abcdef";
const BECH32: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";
const BCRYPT: &str = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// One generated value: a single line, or the lines of a PEM block.
#[derive(Clone, PartialEq, Eq)]
pub enum Fake {
    /// A value written on one line.
    Line(String),
    /// A multi-line block, written one line under the other with the marker's indentation.
    Block(Vec<String>),
}

/// Deliberately not the value: a failing assertion must not print a fake either.
impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fake::Line(v) => write!(f, "Fake::Line({} chars)", v.len()),
            Fake::Block(lines) => write!(f, "Fake::Block({} lines)", lines.len()),
        }
    }
}

impl Fake {
    /// The value as one string (a block's lines joined with newlines).
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Fake::Line(v) => v.clone(),
            Fake::Block(lines) => lines.join("\n"),
        }
    }

    /// The value a finding is about: the line itself, or a PEM block's base64 body.
    #[must_use]
    pub fn secret(&self) -> String {
        match self {
            Fake::Line(v) => v.clone(),
            Fake::Block(lines) => lines.iter().filter(|l| !l.contains(':') && !l.starts_with("-----")).map(|l| l.trim()).collect(),
        }
    }
}

/// A seeded generator of fake credentials. [`Fakes::get`] gives one value per name, the same
/// each time it is asked: `ghp` is a GitHub classic token, `ghp#revoked` another one.
pub struct Fakes {
    state: u64,
    cache: BTreeMap<String, Fake>,
}

impl Default for Fakes {
    fn default() -> Self {
        Self::new(20_261_126)
    }
}

impl Fakes {
    /// A generator whose values depend only on `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self { state: seed, cache: BTreeMap::new() }
    }

    /// Every value generated so far, with each block's lines and body too: what must never
    /// appear in any output.
    #[must_use]
    pub fn generated(&self) -> Vec<String> {
        let mut out = Vec::new();
        for fake in self.cache.values() {
            out.push(fake.secret());
            if let Fake::Block(lines) = fake {
                out.extend(lines.iter().filter(|l| !l.starts_with("-----")).map(|l| l.trim().to_owned()));
            }
        }
        out
    }

    /// The value named `name`: its kind before `#`, a variant after it.
    ///
    /// # Panics
    /// On an unknown kind: a typo in a test.
    pub fn get(&mut self, name: &str) -> Fake {
        if let Some(fake) = self.cache.get(name) {
            return fake.clone();
        }
        let kind = name.split('#').next().unwrap_or(name);
        let fake = self.make(kind).unwrap_or_else(|| panic!("no fake of kind `{kind}`"));
        self.cache.insert(name.to_owned(), fake.clone());
        fake
    }

    /// [`Fakes::get`] for a one-line value.
    ///
    /// # Panics
    /// When `name` is a block.
    pub fn line(&mut self, name: &str) -> String {
        match self.get(name) {
            Fake::Line(v) => v,
            Fake::Block(_) => panic!("`{name}` is a block"),
        }
    }

    fn make(&mut self, kind: &str) -> Option<Fake> {
        let b62 = format!("{UPPER}{LOWER}{DIGITS}");
        let b64 = format!("{b62}+/");
        let b64url = format!("{b62}-_");
        let line = match kind {
            "ghp" | "ghs" | "gho" => self.github(&format!("{kind}_")),
            "github_pat" => format!("github_pat_{}_{}", self.pick(&b62, 22), self.pick(&b62, 59)),
            "glpat" | "gldt" => format!("{kind}-{}", self.pick(&format!("{b62}-_"), 20)),
            "akia" => format!("AKIA{}", self.pick(&format!("{UPPER}234567"), 16)),
            "aws_secret" => self.pick(&b64, 40),
            "slack_bot" => format!("xoxb-{}-{}-{}", self.pick(DIGITS, 12), self.pick(DIGITS, 13), self.pick(&b62, 24)),
            "slack_webhook" => {
                let up = format!("{UPPER}{DIGITS}");
                format!("https://hooks.slack.com/services/T{}/B{}/{}", self.pick(&up, 10), self.pick(&up, 10), self.pick(&b62, 24))
            }
            "discord_webhook" => format!("https://discord.com/api/webhooks/{}/{}", self.pick(DIGITS, 19), self.pick(&b64url, 68)),
            "stripe" => format!("sk_live_{}", self.pick(&b62, 99)),
            "google" => format!("AIza{}{}{}", self.pick(&b62, 31), self.pick("-_", 1), self.pick(&b62, 3)),
            "anthropic" => format!("sk-ant-api03-{}AA", self.pick(&b64url, 93)),
            "openai" => format!("sk-proj-{}T3BlbkFJ{}", self.pick(&b64url, 74), self.pick(&b64url, 74)),
            "infisical" => {
                let id = format!("{}-{}-4{}-a{}-{}", self.pick(HEX, 8), self.pick(HEX, 4), self.pick(HEX, 3), self.pick(HEX, 3), self.pick(HEX, 12));
                format!("st.{id}.{}.{}", self.pick(HEX, 32), self.pick(HEX, 32))
            }
            "cloudflare" => format!("cfut_{}", self.pick(&b62, 48)),
            "cloudflare_legacy" => self.pick(&format!("{b62}_-"), 40),
            "gandi_pat" | "hex40" => self.pick(HEX, 40),
            "tailscale" => format!("tskey-auth-k{}CNTRL-{}", self.pick(&b62, 10), self.pick(&b62, 33)),
            "age" => format!("AGE-SECRET-KEY-1{}", self.pick(BECH32, 58)),
            "tfc" => format!("{}.atlasv1.{}", self.pick(&b62, 14), self.pick(&format!("{b62}-_"), 67)),
            "bootstrap" => self.bootstrap(),
            "pw16" => self.pick(&b62, 16),
            "pw20" => self.pick(&format!("{b62}!%^*_+="), 20),
            "pw24" => self.pick(&format!("{b62}!%^*_-+="), 24),
            "b64_32" | "b64_cluster_id" => STANDARD.encode(self.bytes(32)),
            "b64_pw" => STANDARD.encode(self.line("pw16#out2")),
            "minio_access" => self.pick(&format!("{UPPER}{DIGITS}"), 20),
            "minio_secret" => self.pick(&b62, 40),
            "static_token" => self.pick(&b62, 48),
            "bcrypt" => format!("$2a$10${}", self.pick(BCRYPT, 53)),
            "jwt" => self.jwt(),
            "jwt_infisical" => self.jwt_infisical(),
            "b64pem_rsa_key" => {
                STANDARD.encode(self.pem_text("RSA PRIVATE KEY", &[0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00], 1180))
            }
            "b64pem_ed25519_key" => STANDARD.encode(self.pem_text(
                "PRIVATE KEY",
                &[0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20],
                32,
            )),
            "b64pem_ec_key" => STANDARD.encode(self.pem_text("EC PRIVATE KEY", &[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20], 114)),
            "b64pem_cert" => STANDARD.encode(self.pem_text("CERTIFICATE", &[0x30, 0x82, 0x01], 380)),
            "hex64" => self.pick(HEX, 64),
            "hex32" => self.pick(HEX, 32),
            "uuid" => format!("{}-{}-4{}-8{}-{}", self.pick(HEX, 8), self.pick(HEX, 4), self.pick(HEX, 3), self.pick(HEX, 3), self.pick(HEX, 12)),
            "age_public" => format!("age1{}", self.pick(&BECH32.to_lowercase(), 58)),
            "sops_enc" => format!("ENC[AES256_GCM,data:{},iv:{}=,tag:{}==,type:str]", self.pick(&b64, 56), self.pick(&b64, 43), self.pick(&b64, 22)),
            "age_armor" => self.pick(&b64, 64),
            "pk_live" => format!("pk_live_{}", self.pick(&b62, 99)),
            "basic_real" => STANDARD.encode(format!("vixens-admin:{}", self.pick(&b62, 20))),
            "pem_openssh" => return Some(self.pem_block("OPENSSH PRIVATE KEY", b"openssh-key-v1\0\0\0\0\x04none\0\0\0\x04none", 380, 70)),
            "pem_ec" => return Some(self.pem_block("EC PRIVATE KEY", &[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20], 114, 64)),
            "pem_rsa" => {
                return Some(self.pem_block("RSA PRIVATE KEY", &[0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00], 1180, 64));
            }
            _ => return None,
        };
        Some(Fake::Line(line))
    }

    /// splitmix64: tiny, seedable, and good enough for test data.
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() & 0xff) as u8).collect()
    }

    /// `n` characters of `alphabet` that look random: no 6-long ascending run, no `xxxx`, no
    /// `example` (what the placeholder test calls made-up), and every class of a mixed
    /// alphabet present.
    fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let mixed = chars.iter().any(char::is_ascii_lowercase) && chars.iter().any(char::is_ascii_uppercase) && n >= 8;
        loop {
            let s: String = (0..n).map(|_| chars[(self.next() % chars.len() as u64) as usize]).collect();
            let classes_ok = !mixed
                || (s.chars().any(|c| c.is_ascii_lowercase()) && s.chars().any(|c| c.is_ascii_uppercase()) && s.chars().any(|c| c.is_ascii_digit()));
            if classes_ok && looks_random(&s) {
                return s;
            }
        }
    }

    /// A GitHub token: 30 random base62 characters and their CRC32 in 6 base62 digits.
    fn github(&mut self, prefix: &str) -> String {
        const DIGITS62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let body = self.pick(&format!("{UPPER}{LOWER}{DIGITS}"), 30);
        let mut crc = crc32(body.as_bytes());
        let mut digits = Vec::new();
        while crc > 0 {
            digits.push(DIGITS62[(crc % 62) as usize]);
            crc /= 62;
        }
        while digits.len() < 6 {
            digits.push(b'0');
        }
        digits.reverse();
        format!("{prefix}{body}{}", String::from_utf8(digits).unwrap_or_default())
    }

    fn bootstrap(&mut self) -> String {
        let alphabet = format!("{LOWER}{DIGITS}");
        loop {
            let (id, secret) = (self.pick(&alphabet, 6), self.pick(&alphabet, 16));
            if secret.chars().any(|c| c.is_ascii_digit()) && secret.chars().any(|c| c.is_ascii_alphabetic()) {
                return format!("{id}.{secret}");
            }
        }
    }

    fn jwt(&mut self) -> String {
        let b64url = format!("{UPPER}{LOWER}{DIGITS}-_");
        let header = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, self.pick(&b64url, 43));
        let exp = 1_795_689_600 + self.next() % 1_000_000;
        let payload = format!(
            r#"{{"aud":["https://kubernetes.default.svc"],"exp":{exp},"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:vixens:vixens-reader"}}"#
        );
        format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload), self.pick(&b64url, 342))
    }

    fn jwt_infisical(&mut self) -> String {
        let b64url = format!("{UPPER}{LOWER}{DIGITS}-_");
        let identity = format!("{}-{}-4{}-a{}-{}", self.pick(HEX, 8), self.pick(HEX, 4), self.pick(HEX, 3), self.pick(HEX, 3), self.pick(HEX, 12));
        let iat = 1_795_600_000 + self.next() % 1_000_000;
        let payload = format!(r#"{{"identityId":"{identity}","authTokenType":"identityAccessToken","iat":{iat}}}"#);
        format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#), URL_SAFE_NO_PAD.encode(payload), self.pick(&b64url, 43))
    }

    /// A DER-looking body: the structure's first bytes, then random ones, in base64.
    fn der_body(&mut self, head: &[u8], n: usize) -> String {
        let mut raw = head.to_vec();
        raw.extend(self.bytes(n));
        STANDARD.encode(raw)
    }

    fn pem_lines(&mut self, label: &str, head: &[u8], n: usize, width: usize) -> Vec<String> {
        let body = self.der_body(head, n);
        let mut lines = vec![format!("-----BEGIN {label}-----")];
        lines.extend(body.as_bytes().chunks(width).map(|c| String::from_utf8_lossy(c).into_owned()));
        lines.push(format!("-----END {label}-----"));
        lines
    }

    fn pem_block(&mut self, label: &str, head: &[u8], n: usize, width: usize) -> Fake {
        Fake::Block(self.pem_lines(label, head, n, width))
    }

    /// A PEM file's text, as kubeconfig and talosconfig embed it in base64.
    fn pem_text(&mut self, label: &str, head: &[u8], n: usize) -> String {
        self.pem_lines(label, head, n, 64).join("\n") + "\n"
    }
}

fn looks_random(s: &str) -> bool {
    let lower = s.to_lowercase();
    let runs = [LOWER, DIGITS].iter().any(|seq| (0..=seq.len() - 6).any(|i| lower.contains(&seq[i..i + 6])));
    !runs && !lower.contains("example") && !lower.contains("xxxx")
}

/// CRC-32 (IEEE 802.3), as GitHub's token checksum uses it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_values() {
        assert_eq!(Fakes::new(7).line("ghp"), Fakes::new(7).line("ghp"));
        let mut fakes = Fakes::new(7);
        assert_ne!(fakes.line("ghp"), fakes.line("ghp#2"));
    }

    #[test]
    fn crc32_is_the_ieee_one() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn values_have_their_format_s_shape() {
        let mut fakes = Fakes::default();
        let ghp = fakes.line("ghp");
        assert!(ghp.starts_with("ghp_") && ghp.len() == 40, "{}", ghp.len());
        assert_eq!(fakes.line("gandi_pat").len(), 40);
        assert!(fakes.line("jwt").starts_with("eyJ"));
        assert!(fakes.line("b64pem_rsa_key").starts_with("LS0tLS1CRUdJTi"));
        let Fake::Block(pem) = fakes.get("pem_ec") else { panic!("a block") };
        assert_eq!(pem[0], "-----BEGIN EC PRIVATE KEY-----");
    }
}
