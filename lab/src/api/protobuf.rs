//! The one protobuf body the lab reads: a TokenRequest, as `kubectl create token` sends it
//! (client-go encodes built-in types in protobuf). Everything else with a protobuf body is
//! refused with 415, and kube-rs, `kubectl apply` and the dynamic clients send JSON.
//!
//! The wire format: the magic `k8s\0`, then a `runtime.Unknown` (field 2: the object's bytes),
//! whose `TokenRequest` has its spec in field 2, a `TokenRequestSpec` with `audiences` (1,
//! repeated string) and `expirationSeconds` (4, int64), from `k8s.io/api/authentication/v1`'s
//! generated.proto.

use serde_json::{Value, json};

/// The magic prefix of Kubernetes' protobuf encoding.
const MAGIC: &[u8] = b"k8s\0";

/// The TokenRequest in `body` as the JSON the handler reads (`{"spec": {...}}`), or `None` when
/// it is not one.
#[must_use]
pub fn token_request(body: &[u8]) -> Option<Value> {
    let unknown = body.strip_prefix(MAGIC)?;
    let raw = fields(unknown)?.into_iter().find_map(|(n, f)| (n == 2).then_some(f).and_then(Field::bytes))?;
    let spec = fields(raw)?.into_iter().find_map(|(n, f)| (n == 2).then_some(f).and_then(Field::bytes));
    let mut out = json!({"spec": {}});
    for (number, field) in spec.map(fields).unwrap_or(Some(Vec::new()))? {
        match (number, field) {
            (1, Field::Bytes(audience)) => {
                let audience = String::from_utf8(audience.to_vec()).ok()?;
                out["spec"]["audiences"]
                    .as_array_mut()
                    .map(|a| a.push(json!(audience)))
                    .unwrap_or_else(|| out["spec"]["audiences"] = json!([audience]));
            }
            (4, Field::Varint(seconds)) => out["spec"]["expirationSeconds"] = json!(i64::try_from(seconds).ok()?),
            _ => {}
        }
    }
    Some(out)
}

/// One protobuf field's value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl<'a> Field<'a> {
    fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Self::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// Every field of a message, in order; `None` for bytes that are not a message.
fn fields(mut data: &[u8]) -> Option<Vec<(u64, Field<'_>)>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = varint(&mut data)?;
        let field = match key & 7 {
            0 => Field::Varint(varint(&mut data)?),
            1 => {
                data = data.get(8..)?;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(varint(&mut data)?).ok()?;
                let (value, rest) = data.split_at_checked(len)?;
                data = rest;
                Field::Bytes(value)
            }
            5 => {
                data = data.get(4..)?;
                Field::Fixed
            }
            _ => return None,
        };
        out.push((key >> 3, field));
    }
    Some(out)
}

fn varint(data: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = data.split_first()?;
        *data = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(fields: &[(u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (number, bytes) in fields {
            out.push((number << 3) | 2);
            out.push(u8::try_from(bytes.len()).unwrap());
            out.extend_from_slice(bytes);
        }
        out
    }

    #[test]
    fn a_token_request_from_kubectl_reads_its_audiences_and_expiration() {
        // TokenRequestSpec{audiences: ["vault"], expirationSeconds: 600}
        let mut spec = message(&[(1, b"vault")]);
        spec.extend_from_slice(&[4 << 3, 0xd8, 0x04]);
        let request = message(&[(1, &[]), (2, &spec)]);
        let unknown = message(&[(1, b"\x0a\x18authentication.k8s.io/v1\x12\x0cTokenRequest"), (2, &request)]);
        let body = [MAGIC, &unknown].concat();
        assert_eq!(token_request(&body), Some(json!({"spec": {"audiences": ["vault"], "expirationSeconds": 600}})));
        assert_eq!(token_request(b"{\"spec\":{}}"), None, "JSON is not protobuf");
    }
}
