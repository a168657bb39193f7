//! TLS for an executor reached over a network: the service's certificate (files an operator
//! gives, or a self-signed pair made on first start), and the trust a node places in it (a
//! pinned certificate fingerprint, a CA file, or the system's roots).
//!
//! A self-signed certificate carries no name anyone vouches for, so a node pins its SHA-256
//! fingerprint instead, which the service prints at every start: a man in the middle would
//! need the service's private key, not merely a certificate for its name.

use rustls::{
	client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
	crypto::{ring, WebPkiSupportedAlgorithms},
	pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName, UnixTime},
	DigitallySignedStruct, SignatureScheme,
};
use std::{
	net::SocketAddr,
	path::{Path, PathBuf},
	sync::Arc,
	time::Duration,
};
use tokio::{
	net::{TcpListener, TcpStream},
	sync::{mpsc, Semaphore},
};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
	/// A certificate or key file could not be read or holds no usable PEM.
	#[error("{path}: {message}")]
	File { path: PathBuf, message: String },
	/// A self-signed pair could not be made or written.
	#[error("making a self-signed certificate: {0}")]
	Generate(String),
	/// rustls refused the certificate, key or settings.
	#[error("TLS settings: {0}")]
	Settings(String),
	/// A fingerprint is not 32 bytes of hex.
	#[error("a certificate fingerprint is 64 hex digits (SHA-256), optionally with colons: {0}")]
	BadFingerprint(String),
}

type TlsResult<T> = std::result::Result<T, TlsError>;

fn file_error(path: &Path, message: impl std::fmt::Display) -> TlsError {
	TlsError::File { path: path.to_path_buf(), message: message.to_string() }
}

/// The cipher suites and signature algorithms of every TLS link here.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
	Arc::new(ring::default_provider())
}

/// The certificate chain and key the service presents.
#[derive(Debug)]
pub struct ServerIdentity {
	certificates: Vec<CertificateDer<'static>>,
	key: PrivateKeyDer<'static>,
}

/// File names of the self-signed pair in its directory.
const SELF_SIGNED_CERT: &str = "tls-cert.pem";
const SELF_SIGNED_KEY: &str = "tls-key.pem";

impl ServerIdentity {
	/// Reads a PEM certificate chain (leaf first) and its PEM private key.
	pub fn from_pem_files(certificate: &Path, key: &Path) -> TlsResult<Self> {
		let certificates = CertificateDer::pem_file_iter(certificate)
			.map_err(|e| file_error(certificate, e))?
			.collect::<Result<Vec<_>, _>>()
			.map_err(|e| file_error(certificate, e))?;
		if certificates.is_empty() {
			return Err(file_error(certificate, "no PEM certificate in the file"));
		}
		let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, e))?;
		Ok(Self { certificates, key })
	}

	/// The self-signed pair kept in `dir`, made on first use for `names` (DNS names or IP
	/// addresses). Returns whether it was made now. The key file is readable by this user only.
	pub fn self_signed_in(dir: &Path, names: &[String]) -> TlsResult<(Self, bool)> {
		let (certificate, key) = (dir.join(SELF_SIGNED_CERT), dir.join(SELF_SIGNED_KEY));
		if certificate.exists() && key.exists() {
			return Ok((Self::from_pem_files(&certificate, &key)?, false));
		}
		if key.exists() && !certificate.exists() {
			// A start stopped between the two writes (the key goes first): no certificate of
			// this key was ever served or pinned, so a fresh pair replaces it.
			std::fs::remove_file(&key).map_err(|e| file_error(&key, e))?;
		}
		std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
		let generated = rcgen::generate_simple_self_signed(names.to_vec())
			.map_err(|e| TlsError::Generate(e.to_string()))?;
		// Serialised once: every serialisation signs anew, and the pin is of these bytes.
		let certificate_pem =
			generated.serialize_pem().map_err(|e| TlsError::Generate(e.to_string()))?;
		write_new(&key, generated.serialize_private_key_pem().as_bytes(), 0o600)?;
		write_new(&certificate, certificate_pem.as_bytes(), 0o644)?;
		Ok((Self::from_pem_files(&certificate, &key)?, true))
	}

	/// SHA-256 of the leaf certificate, as a node pins it (64 lowercase hex digits).
	pub fn fingerprint(&self) -> String {
		hex::encode(sp_crypto_hashing::sha2_256(&self.certificates[0]))
	}

	/// rustls settings serving this identity over HTTP/1.1.
	pub fn server_config(&self) -> TlsResult<Arc<rustls::ServerConfig>> {
		let mut config = rustls::ServerConfig::builder_with_provider(provider())
			.with_safe_default_protocol_versions()
			.map_err(|e| TlsError::Settings(e.to_string()))?
			.with_no_client_auth()
			.with_single_cert(self.certificates.clone(), self.key.clone_key())
			.map_err(|e| TlsError::Settings(e.to_string()))?;
		config.alpn_protocols = vec![b"http/1.1".to_vec()];
		Ok(Arc::new(config))
	}
}

/// Writes a new file (replacing none) with `mode`.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> TlsResult<()> {
	use std::{io::Write, os::unix::fs::OpenOptionsExt};
	std::fs::OpenOptions::new()
		.write(true)
		.create_new(true)
		.mode(mode)
		.open(path)
		.and_then(|mut file| file.write_all(contents))
		.map_err(|e| file_error(path, e))
}

/// Handshakes in progress at once; more wait to be accepted, so a flood of silent connections
/// cannot take unbounded memory.
const MAX_HANDSHAKES: usize = 128;
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener whose connections have completed a TLS handshake. Handshakes run on their own
/// tasks, so one slow client does not hold up the others.
pub struct TlsListener {
	ready: mpsc::Receiver<(tokio_rustls::server::TlsStream<TcpStream>, SocketAddr)>,
	local: SocketAddr,
}

impl TlsListener {
	/// Serves TLS with `config` on `listener`; must be called inside a tokio runtime.
	pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
		let local = listener.local_addr()?;
		let acceptor = tokio_rustls::TlsAcceptor::from(config);
		let (sender, ready) = mpsc::channel(MAX_HANDSHAKES);
		let handshakes = Arc::new(Semaphore::new(MAX_HANDSHAKES));
		tokio::spawn(async move {
			loop {
				let Ok(permit) = handshakes.clone().acquire_owned().await else { return };
				let (stream, peer) = tokio::select! {
					// The server dropped the listener: stop accepting, close the socket.
					_ = sender.closed() => return,
					accepted = listener.accept() => match accepted {
						Ok(accepted) => accepted,
						Err(error) => {
							// Out of file descriptors, mostly: wait rather than spin.
							log::warn!("accepting a connection: {error}");
							tokio::time::sleep(Duration::from_millis(100)).await;
							continue;
						}
					},
				};
				let (acceptor, sender) = (acceptor.clone(), sender.clone());
				tokio::spawn(async move {
					match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
						Ok(Ok(stream)) => {
							let _ = sender.send((stream, peer)).await;
						}
						Ok(Err(error)) => log::debug!("TLS handshake with {peer}: {error}"),
						Err(_) => log::debug!("TLS handshake with {peer}: timed out"),
					}
					drop(permit);
				});
			}
		});
		Ok(Self { ready, local })
	}
}

impl axum::serve::Listener for TlsListener {
	type Io = tokio_rustls::server::TlsStream<TcpStream>;
	type Addr = SocketAddr;

	async fn accept(&mut self) -> (Self::Io, Self::Addr) {
		match self.ready.recv().await {
			Some(connection) => connection,
			// The accepting task ended with the runtime: nothing more will come.
			None => std::future::pending().await,
		}
	}

	fn local_addr(&self) -> std::io::Result<SocketAddr> {
		Ok(self.local)
	}
}

/// What a client trusts when it connects to an executor over TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerTrust {
	/// The certificates the operating system trusts, for a certificate issued by a public CA.
	SystemRoots,
	/// The CA certificates in this PEM file; the URL's host must be named in the certificate.
	Ca(PathBuf),
	/// Exactly the leaf certificate with this SHA-256, whatever its names and dates (a
	/// self-signed certificate's fingerprint, printed by `veritensor-executor serve`).
	Fingerprint([u8; 32]),
}

impl ServerTrust {
	/// Reads a fingerprint written as 64 hex digits, with or without colons or a `sha256:`
	/// prefix.
	pub fn parse_fingerprint(text: &str) -> TlsResult<Self> {
		let digits: String = text
			.trim()
			.trim_start_matches("sha256:")
			.chars()
			.filter(|c| *c != ':')
			.collect::<String>()
			.to_ascii_lowercase();
		let bytes = hex::decode(&digits).map_err(|_| TlsError::BadFingerprint(text.into()))?;
		let fingerprint = bytes.try_into().map_err(|_| TlsError::BadFingerprint(text.into()))?;
		Ok(Self::Fingerprint(fingerprint))
	}

	/// rustls client settings for this trust (the HTTP client sets the protocols it speaks).
	pub fn client_config(&self) -> TlsResult<rustls::ClientConfig> {
		let settings = |e: rustls::Error| TlsError::Settings(e.to_string());
		let builder = rustls::ClientConfig::builder_with_provider(provider())
			.with_safe_default_protocol_versions()
			.map_err(settings)?;
		let config = match self {
			Self::SystemRoots => {
				let mut roots = rustls::RootCertStore::empty();
				let found = rustls_native_certs::load_native_certs();
				let (added, _) = roots.add_parsable_certificates(found.certs);
				if added == 0 {
					return Err(TlsError::Settings(
						"the system has no CA certificates: give a CA file or a fingerprint".into(),
					));
				}
				builder.with_root_certificates(roots).with_no_client_auth()
			}
			Self::Ca(path) => {
				let mut roots = rustls::RootCertStore::empty();
				for certificate in
					CertificateDer::pem_file_iter(path).map_err(|e| file_error(path, e))?
				{
					roots
						.add(certificate.map_err(|e| file_error(path, e))?)
						.map_err(|e| file_error(path, e))?;
				}
				if roots.is_empty() {
					return Err(file_error(path, "no PEM certificate in the file"));
				}
				builder.with_root_certificates(roots).with_no_client_auth()
			}
			Self::Fingerprint(sha256) => builder
				.dangerous()
				.with_custom_certificate_verifier(Arc::new(PinnedCertificate {
					sha256: *sha256,
					algorithms: provider().signature_verification_algorithms,
				}))
				.with_no_client_auth(),
		};
		Ok(config)
	}
}

/// Accepts exactly one leaf certificate. The handshake's signatures are still checked against
/// that certificate's key, so presenting the certificate without its key fails.
#[derive(Debug)]
struct PinnedCertificate {
	sha256: [u8; 32],
	algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCertificate {
	fn verify_server_cert(
		&self,
		end_entity: &CertificateDer<'_>,
		_intermediates: &[CertificateDer<'_>],
		_server_name: &ServerName<'_>,
		_ocsp_response: &[u8],
		_now: UnixTime,
	) -> Result<ServerCertVerified, rustls::Error> {
		if sp_crypto_hashing::sha2_256(end_entity) == self.sha256 {
			Ok(ServerCertVerified::assertion())
		} else {
			Err(rustls::Error::InvalidCertificate(
				rustls::CertificateError::ApplicationVerificationFailure,
			))
		}
	}

	fn verify_tls12_signature(
		&self,
		message: &[u8],
		certificate: &CertificateDer<'_>,
		signature: &DigitallySignedStruct,
	) -> Result<HandshakeSignatureValid, rustls::Error> {
		rustls::crypto::verify_tls12_signature(message, certificate, signature, &self.algorithms)
	}

	fn verify_tls13_signature(
		&self,
		message: &[u8],
		certificate: &CertificateDer<'_>,
		signature: &DigitallySignedStruct,
	) -> Result<HandshakeSignatureValid, rustls::Error> {
		rustls::crypto::verify_tls13_signature(message, certificate, signature, &self.algorithms)
	}

	fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
		self.algorithms.supported_schemes()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_self_signed_pair_is_made_once_and_its_key_kept_private() {
		use std::os::unix::fs::PermissionsExt;
		let dir = tempfile::tempdir().unwrap();
		let names = vec!["localhost".to_string(), "10.0.0.7".to_string()];
		let (first, made) = ServerIdentity::self_signed_in(dir.path(), &names).unwrap();
		assert!(made);
		let (again, made) = ServerIdentity::self_signed_in(dir.path(), &names).unwrap();
		assert!(!made, "kept across restarts, so the pin stays valid");
		assert_eq!(first.fingerprint(), again.fingerprint());
		assert_eq!(first.fingerprint().len(), 64);
		let mode =
			std::fs::metadata(dir.path().join(SELF_SIGNED_KEY)).unwrap().permissions().mode();
		assert_eq!(mode & 0o777, 0o600);
		assert!(first.server_config().is_ok());
	}

	#[test]
	fn a_key_left_without_its_certificate_by_an_interrupted_start_is_replaced() {
		let dir = tempfile::tempdir().unwrap();
		std::fs::write(dir.path().join(SELF_SIGNED_KEY), "left by a start that stopped").unwrap();
		let (identity, made) =
			ServerIdentity::self_signed_in(dir.path(), &["localhost".into()]).unwrap();
		assert!(made);
		assert!(identity.server_config().is_ok());
	}

	#[test]
	fn fingerprints_are_read_in_the_usual_spellings() {
		let hex = "ab".repeat(32);
		let colons = vec!["AB"; 32].join(":");
		for text in [hex.clone(), colons, format!("sha256:{hex}")] {
			assert!(matches!(
				ServerTrust::parse_fingerprint(&text),
				Ok(ServerTrust::Fingerprint(bytes)) if bytes == [0xab; 32]
			));
		}
		assert!(ServerTrust::parse_fingerprint("abcd").is_err());
		assert!(ServerTrust::parse_fingerprint(&"zz".repeat(32)).is_err());
	}
}
