//! The NAS daemon: `vixens-lab nas up` idempotent and fast, its bucket made once, its S3 endpoint
//! verifying AWS Signature V4 against the NAS's keys (a wrong key is refused).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};

use crate::{ACCESS_KEY, Nas, SECRET_KEY, stdout};

/// A GET of `path` on the NAS's S3 endpoint, SigV4-signed with `secret` (as the AWS SDK signs a
/// request with no payload), or unsigned. Returns the status line and the body.
fn s3_get(endpoint: &str, path: &str, secret: Option<&str>) -> (String, String) {
    let host = endpoint.trim_start_matches("http://");
    let empty = hex(&Sha256::digest(b""));
    let now = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut headers = format!("Host: {host}\r\nx-amz-content-sha256: {empty}\r\nx-amz-date: {now}\r\n");
    if let Some(secret) = secret {
        let day = &now[..8];
        let scope = format!("{day}/us-east-1/s3/aws4_request");
        let canonical =
            format!("GET\n{path}\n\nhost:{host}\nx-amz-content-sha256:{empty}\nx-amz-date:{now}\n\nhost;x-amz-content-sha256;x-amz-date\n{empty}");
        let to_sign = format!("AWS4-HMAC-SHA256\n{now}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
        let mut key = format!("AWS4{secret}").into_bytes();
        for part in [day, "us-east-1", "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, to_sign.as_bytes()));
        headers.push_str(&format!(
            "Authorization: AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}\r\n"
        ));
    }
    let mut tcp = TcpStream::connect(host).expect("the S3 endpoint accepts connections");
    tcp.write_all(format!("GET {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n").as_bytes()).unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn nas_up_makes_the_state_bucket_once_and_a_second_up_only_reports_it() {
    let nas = Nas::up();
    assert!(nas.dir().join("buckets/terraform-state-lab").is_dir());
    let started = Instant::now();
    let again = stdout(&Nas::command(nas.dir(), &["up", "--bucket", "terraform-state-lab"]).output().unwrap());
    assert!(started.elapsed() < Duration::from_secs(2), "an up of a running NAS is quick: {:?}", started.elapsed());
    assert!(again.contains("is up (pid ") && again.contains("(buckets: terraform-state-lab)"), "{again}");
    assert!(again.ends_with(&format!("export AWS_ENDPOINT_URL_S3={}\n", nas.endpoint)), "the same endpoint: {again}");
    let endpoint = stdout(&Nas::command(nas.dir(), &["endpoint"]).output().unwrap());
    assert_eq!(endpoint.trim(), nas.endpoint);
}

#[test]
fn the_s3_endpoint_lists_the_bucket_for_the_right_key_and_refuses_a_wrong_one() {
    let nas = Nas::up();
    let (status, body) = s3_get(&nas.endpoint, "/", Some(SECRET_KEY));
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert!(body.contains("<Name>terraform-state-lab</Name>"), "{body}");
    let (status, body) = s3_get(&nas.endpoint, "/terraform-state-lab", Some("not-the-secret"));
    assert_eq!(status, "HTTP/1.1 403 Forbidden");
    assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "{body}");
    let (status, _) = s3_get(&nas.endpoint, "/terraform-state-lab", None);
    assert_eq!(status, "HTTP/1.1 403 Forbidden", "anonymous requests are refused");
    let (status, body) = s3_get(&nas.endpoint, "/terraform-state-dev", Some(SECRET_KEY));
    assert_eq!(status, "HTTP/1.1 404 Not Found", "only the bucket asked for exists");
    assert!(body.contains("<Code>NoSuchBucket</Code>"), "{body}");
}

#[test]
fn a_nas_running_with_other_keys_is_not_taken_over_and_down_then_status_says_stopped() {
    let nas = Nas::up();
    let other = std::process::Command::new(crate::lab_binary())
        .args(["nas", "up", "--nas-dir", nas.dir_str()])
        .env("MINIO_ROOT_USER", "someone")
        .env("MINIO_ROOT_PASSWORD", "else")
        .output()
        .unwrap();
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("already runs with other keys (access key `vixens-lab`)"), "{other:?}");
    assert!(stdout(&Nas::command(nas.dir(), &["down"]).output().unwrap()).contains("stopped (pid"));
    let status = Nas::command(nas.dir(), &["status"]).output().unwrap();
    assert_eq!(status.status.code(), Some(3));
    assert!(nas.dir().join("buckets/terraform-state-lab").is_dir(), "the data stays");
}
