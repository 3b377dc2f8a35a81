//! The lab's certificates: one CA per lab, a server certificate for `127.0.0.1` and `localhost`
//! signed by it, and a client certificate for the talosconfig. Generated fresh by every daemon, as
//! a real cluster gets a new PKI when it is recreated.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Why the certificates could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen refused the parameters or failed to sign.
    #[error("generating a certificate")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("configuring TLS")]
    Rustls(#[from] rustls::Error),
}

/// The lab's PKI, in PEM.
pub struct Pki {
    /// The CA certificate clients trust (kubeconfig `certificate-authority-data`, talosconfig `ca`).
    pub ca_pem: String,
    /// The API server's certificate, valid for `127.0.0.1` and `localhost`.
    pub server_cert_pem: String,
    server_cert_der: CertificateDer<'static>,
    server_key_der: Vec<u8>,
    /// A client certificate signed by the CA (the talosconfig's `crt`; the lab authenticates
    /// talosctl by its token, as the certificate is only a placeholder there).
    pub client_cert_pem: String,
}

impl Pki {
    /// Generates a new CA and the certificates it signs.
    ///
    /// # Errors
    /// [`TlsError::Generate`] if rcgen fails (it does not with these fixed parameters).
    pub fn generate(lab_name: &str) -> Result<Self, TlsError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, format!("{lab_name} lab CA"));
        ca_params.distinguished_name.push(DnType::OrganizationName, "vixens-lab");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let mut server_params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        server_params.distinguished_name.push(DnType::CommonName, "kube-apiserver");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate()?;
        let server_cert = server_params.signed_by(&server_key, &issuer)?;

        let mut client_params = CertificateParams::new(Vec::<String>::new())?;
        client_params.distinguished_name.push(DnType::CommonName, "admin");
        client_params.distinguished_name.push(DnType::OrganizationName, "os:admin");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_key = KeyPair::generate()?;
        let client_cert = client_params.signed_by(&client_key, &issuer)?;

        Ok(Self {
            ca_pem: ca_cert.pem(),
            server_cert_pem: server_cert.pem(),
            server_cert_der: server_cert.der().clone(),
            server_key_der: server_key.serialize_der(),
            client_cert_pem: client_cert.pem(),
        })
    }

    /// The rustls configuration of the API server (HTTP/2 and HTTP/1.1, ring provider).
    ///
    /// # Errors
    /// [`TlsError::Rustls`] if rustls refuses the certificate.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone()));
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![self.server_cert_der.clone()], key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A rustls client configuration trusting only `ca_pem` (used by `vixens-lab up` and `status` to
/// check that the API serves).
///
/// # Errors
/// [`TlsError::Rustls`] if the PEM holds no usable certificate.
pub fn client_config(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()).flatten() {
        roots.add(cert)?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A new random secret (hex of 32 bytes from the kernel's CSPRNG): bearer tokens.
///
/// # Errors
/// The kernel's random source cannot be read.
pub fn random_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_certificate_is_trusted_through_the_lab_ca() {
        let pki = Pki::generate("lab").unwrap();
        pki.server_config().unwrap();
        let client = client_config(&pki.ca_pem).unwrap();
        let mut conn = rustls::ClientConnection::new(client, "127.0.0.1".try_into().unwrap()).unwrap();
        let mut server = rustls::ServerConnection::new(pki.server_config().unwrap()).unwrap();
        // Run the handshake in memory: it fails if the CA or the SAN does not match.
        for _ in 0..10 {
            let mut buf = Vec::new();
            conn.write_tls(&mut buf).unwrap();
            server.read_tls(&mut buf.as_slice()).unwrap();
            server.process_new_packets().unwrap();
            let mut buf = Vec::new();
            server.write_tls(&mut buf).unwrap();
            conn.read_tls(&mut buf.as_slice()).unwrap();
            conn.process_new_packets().unwrap();
        }
        assert!(!conn.is_handshaking());
    }

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
