//! AWS Signature Version 4 for the one request the inventory makes: a path-style `HEAD` of a
//! bucket with an empty body. MinIO answers an anonymous `HEAD` with 403 whether or not the
//! bucket exists, so only a signed one tells a missing bucket from a private one.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::env::S3Credentials;

/// sha256 of the empty body.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SIGNED_HEADERS: &str = "host;x-amz-content-sha256;x-amz-date";

/// The headers of a signed `HEAD http(s)://<host>/<bucket>` at `amz_date`
/// (`YYYYMMDDTHHMMSSZ`): `x-amz-date`, `x-amz-content-sha256` and `authorization`.
pub(super) fn head_bucket_headers(credentials: &S3Credentials, host: &str, bucket: &str, amz_date: &str) -> Vec<(&'static str, String)> {
    let date = &amz_date[..8];
    let scope = format!("{date}/{}/s3/aws4_request", credentials.region);
    let canonical_request = format!(
        "HEAD\n/{}\n\nhost:{host}\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:{amz_date}\n\n{SIGNED_HEADERS}\n{EMPTY_SHA256}",
        uri_encode(bucket)
    );
    let string_to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let key = [date, credentials.region.as_str(), "s3", "aws4_request"]
        .iter()
        .fold(format!("AWS4{}", credentials.secret_key).into_bytes(), |key, part| hmac(&key, part.as_bytes()));
    let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
    vec![
        ("x-amz-date", amz_date.to_owned()),
        ("x-amz-content-sha256", EMPTY_SHA256.to_owned()),
        (
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}", credentials.access_key),
        ),
    ]
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SigV4's URI encoding of one path segment: everything but unreserved characters.
fn uri_encode(segment: &str) -> String {
    segment.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed with botocore's `S3SigV4Auth` (botocore 1.44), the reference implementation.
    #[test]
    fn the_signature_is_the_one_botocore_computes() {
        let credentials = S3Credentials {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        let headers = head_bucket_headers(&credentials, "192.0.2.10:9000", "terraform-state-dev", "20261126T120000Z");
        assert_eq!(
            headers,
            [
                ("x-amz-date", "20261126T120000Z".to_owned()),
                ("x-amz-content-sha256", EMPTY_SHA256.to_owned()),
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/s3/aws4_request, \
                     SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
                     Signature=97a90eae903fcfd5e79be0d0147fe051045bf6924717b6c865ea517ab88a730a"
                        .to_owned()
                ),
            ]
        );
    }
}
