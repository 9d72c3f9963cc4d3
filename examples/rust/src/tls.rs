//! TLS for the client (rustls with ring; Mozilla's roots from webpki-roots): a blocking
//! handshake that must select `h2` by ALPN, then a `ClientConnection` that the io imports
//! drive over the same non-blocking socket (see `tls_read` / `tls_write` in lib.rs).

use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{self, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use rustls::ClientConnection as TlsConnection;

/// `-k`: accepts any certificate, but still checks that the handshake is signed by the
/// key of the certificate presented (so only the identity check is skipped).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Runs a TLS handshake on `stream` (blocking, 10 s at most) for `host`, offering only
/// `h2` by ALPN, and fails unless the server selected it. `insecure` skips the
/// certificate check (curl's -k).
pub fn handshake(stream: &mut TcpStream, host: &str, insecure: bool) -> Result<ClientConnection, String> {
    let provider = Arc::new(crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?;
    let mut config = if insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))).with_no_client_auth()
    } else {
        let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("tls: {host}: {e}"))?;
    let mut conn = ClientConnection::new(Arc::new(config), name).map_err(|e| format!("tls: {e}"))?;
    let limit = Some(Duration::from_secs(10));
    stream.set_read_timeout(limit).and_then(|_| stream.set_write_timeout(limit)).map_err(|e| format!("tls: {e}"))?;
    while conn.is_handshaking() {
        conn.complete_io(stream).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "tls: handshake timed out".to_string(),
            _ => format!("tls: {e}"),
        })?;
    }
    stream.set_read_timeout(None).and_then(|_| stream.set_write_timeout(None)).map_err(|e| format!("tls: {e}"))?;
    match conn.alpn_protocol() {
        Some(b"h2") => Ok(conn),
        other => Err(format!(
            "tls: the server did not select h2 by ALPN (got {})",
            other.map(|p| format!("{:?}", String::from_utf8_lossy(p))).unwrap_or_else(|| "nothing".into())
        )),
    }
}
