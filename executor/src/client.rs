//! A client of the service's HTTP API for programs that drive an executor they do not embed
//! in-process: the node asks its executor (embedded, or remote through the node's TLS link) to
//! fetch the models its workers serve before any job needs them. Plain HTTP only, to loopback
//! or a link: the service's TLS is the link's business.

use crate::store::hash_hex;
use http_body_util::{BodyExt, Full};
use hyper::{
	body::Bytes,
	header::{AUTHORIZATION, CONTENT_TYPE},
	Request,
};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client},
	rt::TokioExecutor,
};
use sp_core::H256;
use std::time::Duration;

/// Why a call to the service did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
	/// The base URL is not `http://…`.
	#[error("{0} is not an http:// URL")]
	BadUrl(String),
	/// No answer: connection refused or reset.
	#[error("the executor did not answer: {0}")]
	Unreachable(String),
	/// No answer within the caller's deadline.
	#[error("the executor did not answer within {0:?}")]
	TimedOut(Duration),
	/// The service answered with an error.
	#[error("the executor refused ({status} {kind}): {message}")]
	Refused {
		/// The HTTP status.
		status: u16,
		/// The error's kind, as the service names it (`fetch_failed`, `unauthorized`, …).
		kind: String,
		/// The service's message.
		message: String,
	},
}

/// A client of one executor service.
pub struct ApiClient {
	base: String,
	authorization: Option<String>,
	http: Client<HttpConnector, Full<Bytes>>,
}

impl ApiClient {
	/// A client of the service at `base_url` (`http://host:port`), sending `token` as its
	/// bearer token if given.
	pub fn new(base_url: &str, token: Option<&str>) -> Result<Self, ApiError> {
		let base = base_url.trim_end_matches('/');
		if !base.starts_with("http://") {
			return Err(ApiError::BadUrl(base_url.to_string()));
		}
		Ok(Self {
			base: base.to_string(),
			authorization: token.filter(|t| !t.is_empty()).map(|t| format!("Bearer {t}")),
			http: Client::builder(TokioExecutor::new()).build_http(),
		})
	}

	/// Asks the service to fetch the model `hash` from `uris` unless its store has it
	/// (`POST /v1/models/fetch`); returns whether this call downloaded it. The service's
	/// download goes on if `timeout` passes first, and the next call finds it stored.
	pub async fn fetch_model(
		&self,
		hash: &H256,
		uris: &[String],
		timeout: Duration,
	) -> Result<bool, ApiError> {
		let body = serde_json::json!({ "hash": hash_hex(hash), "uris": uris }).to_string();
		let answer = self.post("/v1/models/fetch", body, timeout).await?;
		Ok(answer["fetched"].as_bool().unwrap_or(false))
	}

	async fn post(
		&self,
		path: &str,
		body: String,
		timeout: Duration,
	) -> Result<serde_json::Value, ApiError> {
		let mut request =
			Request::post(format!("{}{path}", self.base)).header(CONTENT_TYPE, "application/json");
		if let Some(authorization) = &self.authorization {
			request = request.header(AUTHORIZATION, authorization);
		}
		let request = request
			.body(Full::new(Bytes::from(body)))
			.map_err(|e| ApiError::BadUrl(format!("{}{path}: {e}", self.base)))?;
		let exchange = async {
			let response = self.http.request(request).await.map_err(|e| e.to_string())?;
			let status = response.status().as_u16();
			let bytes = response.into_body().collect().await.map_err(|e| e.to_string())?;
			Ok::<_, String>((status, bytes.to_bytes()))
		};
		let (status, bytes) = tokio::time::timeout(timeout, exchange)
			.await
			.map_err(|_| ApiError::TimedOut(timeout))?
			.map_err(ApiError::Unreachable)?;
		let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
		if (200..300).contains(&status) {
			return Ok(answer);
		}
		let text = |field: &str| answer["error"][field].as_str().unwrap_or_default().to_string();
		Err(ApiError::Refused { status, kind: text("kind"), message: text("message") })
	}
}

impl ApiError {
	/// Whether the call ran out of time rather than failed: the caller's deadline, or a
	/// deadline on the way (the service's or a link's 504). Work the service started, such as
	/// a download, may still be going on.
	pub fn timed_out(&self) -> bool {
		matches!(self, Self::TimedOut(_) | Self::Refused { status: 504, .. })
	}
}
