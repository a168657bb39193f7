//! A node's link to an executor on another machine over HTTPS.
//!
//! The off-chain worker's HTTP client trusts the system's roots and nothing else: it can
//! neither pin a certificate nor trust a private CA. So a node that uses a remote executor
//! runs this forwarder on loopback: the off-chain worker talks plain HTTP to it with a token
//! drawn at the node's start, and it forwards each request over TLS with the trust the
//! operator chose, adding the remote executor's own token. The remote token never enters the
//! node's off-chain storage.

use crate::tls::{ServerTrust, TlsError};
use axum::{
	body::Body,
	extract::{Request, State},
	http::{header, uri::PathAndQuery, HeaderValue, StatusCode, Uri},
	response::{IntoResponse, Response},
	Json, Router,
};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client},
	rt::TokioExecutor,
};
use std::{
	future::{Future, IntoFuture},
	net::SocketAddr,
	sync::Arc,
	time::Duration,
};
use tokio::net::TcpListener;

/// A request forwarded and not answered by then is answered 504: the off-chain worker's own
/// deadlines are shorter, this only bounds what a stuck link holds.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(120);

/// Why the link could not start.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
	/// The remote URL is not an `https://` URL.
	#[error("{0}")]
	BadUrl(String),
	/// The trust settings could not be made.
	#[error(transparent)]
	Tls(#[from] TlsError),
	/// The loopback listener could not be opened.
	#[error("listening on loopback: {0}")]
	Listen(std::io::Error),
}

/// Where the link forwards to, and how.
struct Remote {
	/// `https://host:port/prefix`, without a trailing slash.
	base: String,
	/// `Authorization` header value for the remote executor, if it has a token.
	authorization: Option<HeaderValue>,
	/// Token the off-chain worker must present to this link.
	local_token: String,
	client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>,
}

/// A link listening on loopback.
pub struct Link {
	/// Loopback address of the link: the off-chain worker's executor URL is `http://` this.
	pub address: SocketAddr,
	/// Token the off-chain worker presents to the link.
	pub local_token: String,
	listener: TcpListener,
	remote: Arc<Remote>,
}

impl Link {
	/// Opens a link on a free loopback port to the executor at `url` (`https://` only),
	/// trusting `trust`, presenting `remote_token` there and requiring `local_token` here.
	/// Must be called inside a tokio runtime.
	pub fn open(
		url: &str,
		trust: &ServerTrust,
		remote_token: Option<&str>,
		local_token: String,
	) -> Result<Self, LinkError> {
		let parsed = url::Url::parse(url).map_err(|e| LinkError::BadUrl(format!("{url}: {e}")))?;
		if parsed.scheme() != "https" || parsed.host_str().is_none() {
			return Err(LinkError::BadUrl(format!("{url}: a link needs an https:// URL")));
		}
		if parsed.query().is_some() || parsed.fragment().is_some() {
			return Err(LinkError::BadUrl(format!("{url}: no query or fragment, please")));
		}
		let authorization = remote_token
			.filter(|token| !token.is_empty())
			.map(|token| HeaderValue::from_str(&format!("Bearer {token}")))
			.transpose()
			.map_err(|_| LinkError::BadUrl("the remote token is not a header value".into()))?;
		let connector = hyper_rustls::HttpsConnectorBuilder::new()
			.with_tls_config(trust.client_config()?)
			.https_only()
			.enable_http1()
			.build();
		let client = Client::builder(TokioExecutor::new()).build(connector);
		let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
			.and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
			.and_then(TcpListener::from_std)
			.map_err(LinkError::Listen)?;
		let address = listener.local_addr().map_err(LinkError::Listen)?;
		let remote = Arc::new(Remote {
			base: parsed.as_str().trim_end_matches('/').to_string(),
			authorization,
			local_token: local_token.clone(),
			client,
		});
		Ok(Self { address, local_token, listener, remote })
	}

	/// Forwards requests until `shutdown` resolves.
	pub fn serve(
		self,
		shutdown: impl Future<Output = ()> + Send + 'static,
	) -> impl Future<Output = std::io::Result<()>> + Send {
		let routes = Router::new().fallback(forward).with_state(self.remote);
		axum::serve(self.listener, routes).with_graceful_shutdown(shutdown).into_future()
	}
}

/// A JSON error in the executor's own shape, so the off-chain worker reads it like one.
fn link_error(status: StatusCode, kind: &str, message: String) -> Response {
	(status, Json(serde_json::json!({ "error": { "kind": kind, "message": message } })))
		.into_response()
}

/// Constant-time comparison of a presented bearer token with the expected one.
fn token_matches(presented: Option<&HeaderValue>, expected: &str) -> bool {
	let presented = presented
		.and_then(|value| value.to_str().ok())
		.and_then(|value| value.strip_prefix("Bearer "))
		.unwrap_or("");
	presented.len() == expected.len()
		&& presented.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Whether the request names a loopback host (a page that rebinds a name to 127.0.0.1 names
/// its own host).
fn addressed_to_loopback(request: &Request) -> bool {
	let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
	let name = match host.strip_prefix('[') {
		Some(rest) => rest.split(']').next().unwrap_or(""),
		None => host.split(':').next().unwrap_or(""),
	};
	name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Sends one request on to the remote executor and its answer back.
async fn forward(State(remote): State<Arc<Remote>>, request: Request) -> Response {
	if !addressed_to_loopback(&request) {
		return link_error(
			StatusCode::MISDIRECTED_REQUEST,
			"bad_input",
			"this link answers requests addressed to loopback only".into(),
		);
	}
	if !token_matches(request.headers().get(header::AUTHORIZATION), &remote.local_token) {
		return link_error(
			StatusCode::UNAUTHORIZED,
			"unauthorized",
			"a bearer token is required".into(),
		);
	}
	let (mut parts, body) = request.into_parts();
	let path = parts.uri.path_and_query().map(PathAndQuery::as_str).unwrap_or("/");
	let Ok(uri) = format!("{}{path}", remote.base).parse::<Uri>() else {
		return link_error(StatusCode::BAD_REQUEST, "bad_input", format!("bad path {path}"));
	};
	parts.uri = uri;
	for hop_by_hop in [header::HOST, header::CONNECTION, header::UPGRADE, header::TE] {
		parts.headers.remove(hop_by_hop);
	}
	parts.headers.remove(header::AUTHORIZATION);
	if let Some(authorization) = &remote.authorization {
		parts.headers.insert(header::AUTHORIZATION, authorization.clone());
	}
	let sent = Request::from_parts(parts, body);
	match tokio::time::timeout(FORWARD_TIMEOUT, remote.client.request(sent)).await {
		Ok(Ok(answer)) => answer.map(Body::new),
		Ok(Err(error)) => {
			// hyper's own message is terse ("client error (Connect)"): the cause says what.
			let mut message = error.to_string();
			let mut source = std::error::Error::source(&error);
			while let Some(cause) = source {
				message = format!("{message}: {cause}");
				source = cause.source();
			}
			log::warn!("executor link to {}: {message}", remote.base);
			link_error(StatusCode::BAD_GATEWAY, "executor_unreachable", message)
		}
		Err(_) => link_error(
			StatusCode::GATEWAY_TIMEOUT,
			"executor_unreachable",
			format!("{} did not answer in {} s", remote.base, FORWARD_TIMEOUT.as_secs()),
		),
	}
}
