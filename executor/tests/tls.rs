//! An executor served over TLS and reached through a node's loopback link: a pinned
//! certificate or a CA file lets requests through with the remote token added; any other
//! certificate is refused before a byte of the request leaves; the link answers only its own
//! token, on loopback.

mod common;

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, Method, Request, StatusCode};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client},
	rt::TokioExecutor,
};
use serde_json::{json, Value};
use std::{net::SocketAddr, sync::Arc};
use veritensor_executor::{
	link::{Link, LinkError},
	server::{self, ServerConfig},
	store::hash_hex,
	tls::{ServerIdentity, ServerTrust, TlsListener},
	Config, Executor,
};

const REMOTE_TOKEN: &str = "remote-secret";
const LOCAL_TOKEN: &str = "local-secret";

/// A TLS executor on loopback with the integer demo model and a self-signed certificate
/// (names localhost and 127.0.0.1) kept in `dir`.
struct TlsExecutor {
	address: SocketAddr,
	fingerprint: String,
	certificate: std::path::PathBuf,
	model: String,
	_dir: tempfile::TempDir,
}

async fn tls_executor() -> TlsExecutor {
	let dir = tempfile::tempdir().unwrap();
	let executor = Executor::new(Config::new(dir.path().join("store"))).unwrap();
	let model = hash_hex(&executor.store().add_bytes(&demo_model(INT_MODEL), None).unwrap());
	let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
	let (identity, made) = ServerIdentity::self_signed_in(&dir.path().join("tls"), &names).unwrap();
	assert!(made);
	let mut config = ServerConfig::loopback(0);
	config.token = Some(REMOTE_TOKEN.into());
	let listener = server::bind(&config).await.unwrap();
	let address = listener.local_addr().unwrap();
	let listener = TlsListener::new(listener, identity.server_config().unwrap()).unwrap();
	tokio::spawn(server::serve(listener, Arc::new(executor), config, std::future::pending()));
	TlsExecutor {
		address,
		fingerprint: identity.fingerprint(),
		certificate: dir.path().join("tls").join("tls-cert.pem"),
		model,
		_dir: dir,
	}
}

/// Opens a link to `url` with `trust` and serves it; returns its loopback address.
fn link(url: &str, trust: ServerTrust) -> SocketAddr {
	let link = Link::open(url, &trust, Some(REMOTE_TOKEN), LOCAL_TOKEN.into()).unwrap();
	let address = link.address;
	assert_eq!(link.local_token, LOCAL_TOKEN);
	tokio::spawn(link.serve(std::future::pending()));
	address
}

/// Posts an inference of `model` to the link at `link` with `token` and `host`.
async fn infer_through(
	link: SocketAddr,
	model: &str,
	token: &str,
	host: &str,
) -> (StatusCode, Value) {
	let client: Client<HttpConnector, Full<Bytes>> =
		Client::builder(TokioExecutor::new()).build_http();
	let body = json!({
		"model": model,
		"inputs": [{ "elem": "U8", "shape": [1, 64], "values": vec![3; 64] }],
	});
	let request = Request::builder()
		.method(Method::POST)
		.uri(format!("http://{link}/v1/infer"))
		.header("host", host)
		.header("authorization", format!("Bearer {token}"))
		.header("content-type", "application/json")
		.body(Full::new(Bytes::from(body.to_string())))
		.unwrap();
	let response = client.request(request).await.unwrap();
	let status = response.status();
	let bytes = response.into_body().collect().await.unwrap().to_bytes();
	(status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_certificate_reaches_the_executor_and_any_other_is_refused() {
	let executor = tls_executor().await;
	let port = executor.address.port();
	let local = "127.0.0.1";

	// The right fingerprint: the inference runs, the remote token added by the link.
	let pinned = link(
		&format!("https://127.0.0.1:{port}"),
		ServerTrust::parse_fingerprint(&executor.fingerprint).unwrap(),
	);
	let (status, body) = infer_through(pinned, &executor.model, LOCAL_TOKEN, local).await;
	assert_eq!(status, StatusCode::OK, "{body}");
	assert!(body["output_hash"].as_str().is_some_and(|hash| hash.starts_with("0x")), "{body}");

	// Another certificate's fingerprint: refused in the handshake, said so in the executor's
	// JSON error shape, which the off-chain worker retries as a transient failure.
	let mut wrong = hex::decode(&executor.fingerprint).unwrap();
	wrong[0] ^= 1;
	let impostor = link(
		&format!("https://127.0.0.1:{port}"),
		ServerTrust::parse_fingerprint(&hex::encode(&wrong)).unwrap(),
	);
	let (status, body) = infer_through(impostor, &executor.model, LOCAL_TOKEN, local).await;
	assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
	assert_eq!(body["error"]["kind"], "executor_unreachable");
	assert!(body["error"]["message"].as_str().unwrap().contains("certificate"), "{body}");

	// The certificate as a CA: works for the names it carries, and for no other.
	let trusted = ServerTrust::Ca(executor.certificate.clone());
	let by_name = link(&format!("https://localhost:{port}"), trusted.clone());
	let (status, body) = infer_through(by_name, &executor.model, LOCAL_TOKEN, local).await;
	assert_eq!(status, StatusCode::OK, "{body}");
	let other = tempfile::tempdir().unwrap();
	let (_, _) = ServerIdentity::self_signed_in(other.path(), &["localhost".into()]).unwrap();
	let stranger = link(
		&format!("https://localhost:{port}"),
		ServerTrust::Ca(other.path().join("tls-cert.pem")),
	);
	let (status, body) = infer_through(stranger, &executor.model, LOCAL_TOKEN, local).await;
	assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_answers_only_its_token_on_loopback_and_only_https_urls() {
	let executor = tls_executor().await;
	let pinned = link(
		&format!("https://127.0.0.1:{}", executor.address.port()),
		ServerTrust::parse_fingerprint(&executor.fingerprint).unwrap(),
	);
	let (status, body) = infer_through(pinned, &executor.model, REMOTE_TOKEN, "127.0.0.1").await;
	assert_eq!(status, StatusCode::UNAUTHORIZED, "the remote token is not the link's: {body}");
	let (status, body) =
		infer_through(pinned, &executor.model, LOCAL_TOKEN, "rebound.example.org").await;
	assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{body}");
	let (status, _) = infer_through(pinned, &executor.model, LOCAL_TOKEN, "localhost").await;
	assert_eq!(status, StatusCode::OK);

	let trust = ServerTrust::parse_fingerprint(&executor.fingerprint).unwrap();
	for url in ["http://10.0.0.7:8077", "ftp://example.org", "not a url"] {
		let opened = Link::open(url, &trust, None, LOCAL_TOKEN.into());
		assert!(matches!(opened, Err(LinkError::BadUrl(_))), "{url}");
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_tls_port_gets_no_answer_and_the_service_keeps_serving() {
	let executor = tls_executor().await;
	let client: Client<HttpConnector, Full<Bytes>> =
		Client::builder(TokioExecutor::new()).build_http();
	let request = Request::builder()
		.uri(format!("http://{}/health", executor.address))
		.body(Full::new(Bytes::new()))
		.unwrap();
	assert!(client.request(request).await.is_err(), "no plain HTTP on a TLS port");
	let pinned = link(
		&format!("https://127.0.0.1:{}", executor.address.port()),
		ServerTrust::parse_fingerprint(&executor.fingerprint).unwrap(),
	);
	let (status, body) = infer_through(pinned, &executor.model, LOCAL_TOKEN, "127.0.0.1").await;
	assert_eq!(status, StatusCode::OK, "{body}");
}
