//! Calls to the lab's Talos API over HTTPS, verifying the lab's CA and presenting the
//! talosconfig's key as a bearer token. Failures read like the gRPC errors talosctl prints.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::Failure;
use super::config::Target;
use crate::talos::wire::{ApiError, PREFIX};

/// talosctl's port when an endpoint has none.
const APID_PORT: u16 = 50000;
/// How long to wait for an endpoint to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call failed.
#[derive(Debug, Clone)]
pub(super) enum CallError {
    /// No endpoint could be reached: the whole command fails.
    Connection(String),
    /// The node answered with an error, or could not be reached through apid.
    Node(String),
}

impl CallError {
    /// The error text, whichever kind it is.
    pub fn message(&self) -> &str {
        match self {
            Self::Connection(m) | Self::Node(m) => m,
        }
    }
}

/// A client for one talosconfig context.
pub(super) struct Client {
    endpoints: Vec<String>,
    tls: TlsConnector,
    token: String,
}

impl Client {
    /// A client for `target`'s endpoints.
    pub fn new(target: &Target) -> Result<Self, Failure> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut target.ca_pem.as_slice()) {
            let cert = cert.map_err(|e| Failure::Message(format!("error constructing client: failed to parse the CA certificate: {e}")))?;
            roots.add(cert).map_err(|e| Failure::Message(format!("error constructing client: failed to add the CA certificate: {e}")))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Failure::Message(format!("error constructing client: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { endpoints: target.endpoints.clone(), tls: TlsConnector::from(Arc::new(config)), token: target.token.clone() })
    }

    /// `GET {PREFIX}/nodes/{node}/{what}`, returning the streaming response on success.
    pub async fn get(&self, node: &str, what: &str) -> Result<Response<Incoming>, CallError> {
        let path = format!("{PREFIX}/nodes/{}/{what}", encode(node));
        let mut last = CallError::Connection("no endpoint".into());
        for endpoint in &self.endpoints {
            match self.get_from(endpoint, &path).await {
                Err(e @ CallError::Connection(_)) => last = e,
                other => return other,
            }
        }
        Err(last)
    }

    /// Like [`Client::get`], decoding a JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, node: &str, what: &str) -> Result<T, CallError> {
        let response = self.get(node, what).await?;
        let body = response.into_body().collect().await.map_err(|e| CallError::Node(transport_error(&e.to_string())))?.to_bytes();
        serde_json::from_slice(&body).map_err(|e| CallError::Node(format!("rpc error: code = Internal desc = {e}")))
    }

    async fn get_from(&self, endpoint: &str, path: &str) -> Result<Response<Incoming>, CallError> {
        let (host, port) = split_endpoint(endpoint);
        let address = format!("{host}:{port}");
        let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&address)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => return Err(CallError::Connection(dial_error(&address, &e))),
            Err(_) => return Err(CallError::Connection(dial_error(&address, &std::io::Error::from(std::io::ErrorKind::TimedOut)))),
        };
        let server_name = ServerName::try_from(host.to_owned()).map_err(|e| CallError::Connection(transport_error(&e.to_string())))?;
        let tls = self.tls.connect(server_name, tcp).await.map_err(|e| {
            CallError::Connection(format!(
                "rpc error: code = Unavailable desc = connection error: desc = \"transport: authentication handshake failed: {}\"",
                handshake_error(&e)
            ))
        })?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| CallError::Connection(transport_error(&e.to_string())))?;
        tokio::spawn(connection);
        let request = Request::get(path)
            .header(hyper::header::HOST, address.as_str())
            .header(hyper::header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Empty::<Bytes>::new())
            .map_err(|e| CallError::Connection(transport_error(&e.to_string())))?;
        let response = sender.send_request(request).await.map_err(|e| CallError::Connection(transport_error(&e.to_string())))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let message = serde_json::from_slice::<ApiError>(&body).map_or_else(|_| format!("rpc error: code = Unknown desc = {status}"), |e| e.error);
        // A refused credential fails the connection itself, as a refused client certificate does.
        Err(if status == StatusCode::UNAUTHORIZED { CallError::Connection(message) } else { CallError::Node(message) })
    }
}

fn split_endpoint(endpoint: &str) -> (&str, u16) {
    let endpoint = endpoint.trim_start_matches("https://");
    match endpoint.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.starts_with('[') => {
            (host.trim_start_matches('[').trim_end_matches(']'), port.parse().unwrap_or(APID_PORT))
        }
        _ => (endpoint, APID_PORT),
    }
}

/// gRPC's text for an endpoint that cannot be dialled.
fn dial_error(address: &str, e: &std::io::Error) -> String {
    let reason = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_owned(),
        std::io::ErrorKind::TimedOut => "i/o timeout".to_owned(),
        _ => e.to_string(),
    };
    format!("rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp {address}: {reason}\"")
}

fn transport_error(detail: &str) -> String {
    format!("rpc error: code = Unavailable desc = {detail}")
}

fn handshake_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    if text.contains("UnknownIssuer") || text.contains("invalid peer certificate") {
        "tls: failed to verify certificate: x509: certificate signed by unknown authority".into()
    } else {
        text
    }
}

/// Percent-encodes a path segment or query value.
pub(super) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads a streaming body, calling `line` with each complete line (without its newline).
pub(super) async fn for_each_line(response: Response<Incoming>, mut line: impl FnMut(&str)) -> Result<(), CallError> {
    let mut body = response.into_body();
    let mut pending = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CallError::Node(transport_error(&e.to_string())))?;
        let Some(data) = frame.data_ref() else { continue };
        pending.extend_from_slice(data);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let text = String::from_utf8_lossy(&pending[..end]).into_owned();
            line(&text);
            pending.drain(..=end);
        }
    }
    if !pending.is_empty() {
        line(&String::from_utf8_lossy(&pending));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_default_to_the_apid_port() {
        assert_eq!(split_endpoint("127.0.0.1:6443"), ("127.0.0.1", 6443));
        assert_eq!(split_endpoint("10.5.0.2"), ("10.5.0.2", 50000));
        assert_eq!(split_endpoint("https://vip.lab:50000"), ("vip.lab", 50000));
    }

    #[test]
    fn a_refused_dial_reads_like_grpc() {
        let e = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            dial_error("127.0.0.1:50000", &e),
            "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:50000: connect: connection refused\""
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("kube-system/kube-apiserver-x:kube-apiserver"), "kube-system%2Fkube-apiserver-x%3Akube-apiserver");
    }
}
