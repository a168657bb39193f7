//! Fetching models from the URIs in chain data. Those URIs are written by strangers, so the
//! policy is strict by default: HTTPS only, public addresses only (checked on the addresses a
//! name resolves to, and those are the addresses connected to), a size limit enforced while
//! reading, no redirects, a deadline, and the hash verified before the store keeps anything.

use crate::error::{Error, Result};
use http_body_util::{BodyExt, Empty};
use hyper::{body::Bytes, Request, StatusCode, Uri};
use hyper_util::{
	client::legacy::{
		connect::{dns::Name, HttpConnector},
		Client,
	},
	rt::TokioExecutor,
};
use std::{
	future::Future,
	net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
	pin::Pin,
	sync::{Arc, OnceLock},
	task::{Context, Poll},
	time::Duration,
};
use tokio::sync::mpsc::Sender;

/// What the executor may fetch.
#[derive(Clone, Debug)]
pub struct FetchPolicy {
	/// Allowed URI schemes (`https`, and `http` only when configured).
	pub schemes: Vec<String>,
	/// If set, only these host names (exact, case-insensitive) may be fetched from.
	pub hosts: Option<Vec<String>>,
	/// Whether loopback, private, link-local and other non-public addresses are allowed.
	pub allow_private: bool,
	/// The whole fetch, connection to last byte.
	pub timeout: Duration,
	/// The HTTP clients fetches use, made at the first fetch and shared by clones of this
	/// policy, so that root certificates are loaded once and connections are kept for the
	/// next fetch from the same host.
	pub clients: FetchClients,
}

/// See [`FetchPolicy::clients`].
#[derive(Clone, Default)]
pub struct FetchClients(Arc<OnceLock<std::result::Result<[FetchClient; 2], String>>>);

impl std::fmt::Debug for FetchClients {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(if self.0.get().is_some() { "FetchClients(made)" } else { "FetchClients" })
	}
}

impl Default for FetchPolicy {
	fn default() -> Self {
		Self {
			schemes: vec!["https".into()],
			hosts: None,
			allow_private: false,
			timeout: Duration::from_secs(60),
			clients: FetchClients::default(),
		}
	}
}

/// Whether an address is outside the public internet: loopback, private, shared (CGNAT),
/// link-local, unspecified, broadcast, multicast, documentation, benchmarking and IETF protocol
/// ranges, and their IPv6 counterparts. IPv6 forms that carry an IPv4 address (IPv4-mapped,
/// IPv4-translated, 6to4, the NAT64 well-known prefix) are judged by that address; the forms whose IPv4
/// address is hidden or local (IPv4-compatible, Teredo, local-use NAT64) and the deprecated
/// site-local range are refused whole.
pub fn is_non_public(ip: IpAddr) -> bool {
	match ip {
		IpAddr::V4(v4) => is_non_public_v4(v4),
		IpAddr::V6(v6) => is_non_public_v6(v6),
	}
}

fn is_non_public_v6(v6: Ipv6Addr) -> bool {
	if let Some(v4) = v6.to_ipv4_mapped() {
		return is_non_public_v4(v4);
	}
	let s = v6.segments();
	let embedded = |high: u16, low: u16| {
		Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
	};
	match s {
		// IPv4-compatible ::a.b.c.d (deprecated; `::` and `::1` among them).
		[0, 0, 0, 0, 0, 0, _, _] => true,
		// IPv4-translated ::ffff:0:a.b.c.d (SIIT): the IPv4 address it stands for.
		[0, 0, 0, 0, 0xffff, 0, high, low] => is_non_public_v4(embedded(high, low)),
		// NAT64 well-known prefix 64:ff9b::/96: the IPv4 address it translates to.
		[0x64, 0xff9b, 0, 0, 0, 0, high, low] => is_non_public_v4(embedded(high, low)),
		// Local-use NAT64 64:ff9b:1::/48: translates to whatever the local network chose.
		[0x64, 0xff9b, 1, ..] => true,
		// 6to4 2002::/16: the IPv4 address of the relay in bits 16 to 48.
		[0x2002, high, low, ..] => is_non_public_v4(embedded(high, low)),
		// Teredo 2001::/32 (an obfuscated IPv4 client), benchmarking 2001:2::/48,
		// documentation 2001:db8::/32.
		[0x2001, 0, ..] | [0x2001, 2, 0, ..] | [0x2001, 0x0db8, ..] => true,
		[first, ..] => {
			v6.is_loopback() ||
				v6.is_unspecified() ||
				v6.is_multicast() ||
				(first & 0xfe00) == 0xfc00 || // unique local fc00::/7
				(first & 0xffc0) == 0xfe80 || // link-local fe80::/10
				(first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
		}
	}
}

fn is_non_public_v4(ip: Ipv4Addr) -> bool {
	let [a, b, c, _] = ip.octets();
	ip.is_loopback() ||
		ip.is_private() ||
		ip.is_link_local() ||
		ip.is_unspecified() ||
		ip.is_broadcast() ||
		ip.is_multicast() ||
		ip.is_documentation() ||
		a == 0 ||
		(a == 100 && (64..128).contains(&b)) || // shared address space 100.64/10
		(a == 192 && b == 0 && c == 0) || // IETF protocol assignments 192.0.0/24
		(a == 192 && b == 88 && c == 99) || // 6to4 relay anycast 192.88.99/24 (deprecated)
		(a == 198 && (b == 18 || b == 19)) || // benchmarking 198.18/15
		a >= 240 // reserved
}

/// A resolver that only returns addresses the policy allows, so the connection goes exactly
/// where the check looked.
#[derive(Clone)]
struct CheckedResolver {
	allow_private: bool,
}

impl tower_service::Service<Name> for CheckedResolver {
	type Response = std::vec::IntoIter<SocketAddr>;
	type Error = std::io::Error;
	type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

	fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
		Poll::Ready(Ok(()))
	}

	fn call(&mut self, name: Name) -> Self::Future {
		let allow_private = self.allow_private;
		Box::pin(async move {
			let host = name.as_str().to_string();
			let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
			let allowed: Vec<SocketAddr> =
				all.iter().copied().filter(|a| allow_private || !is_non_public(a.ip())).collect();
			if allowed.is_empty() {
				return Err(std::io::Error::new(
					std::io::ErrorKind::PermissionDenied,
					format!("{host} resolves only to non-public addresses {all:?}"),
				));
			}
			Ok(allowed.into_iter())
		})
	}
}

impl FetchPolicy {
	/// Also allows plain HTTP and loopback, private and link-local addresses: a private
	/// network's mirror, or a test.
	pub fn open_to_private_networks(&mut self) {
		self.schemes = vec!["https".into(), "http".into()];
		self.allow_private = true;
	}

	/// Checks a URI against the scheme and host rules, and a literal IP host against the
	/// address rule (literal addresses are never resolved, so the resolver cannot check them).
	pub fn check_uri(&self, uri: &str) -> Result<Uri> {
		let parsed = url::Url::parse(uri)
			.map_err(|e| Error::FetchRefused(format!("`{uri}` is not a URI: {e}")))?;
		if !self.schemes.iter().any(|s| s.eq_ignore_ascii_case(parsed.scheme())) {
			return Err(Error::FetchRefused(format!(
				"scheme `{}` is not allowed (allowed: {})",
				parsed.scheme(),
				self.schemes.join(", ")
			)));
		}
		if !parsed.username().is_empty() || parsed.password().is_some() {
			return Err(Error::FetchRefused("URIs with credentials are not fetched".into()));
		}
		let host =
			parsed.host().ok_or_else(|| Error::FetchRefused(format!("`{uri}` has no host")))?;
		let host_name = match &host {
			url::Host::Domain(domain) => domain.to_string(),
			url::Host::Ipv4(ip) => ip.to_string(),
			url::Host::Ipv6(ip) => ip.to_string(),
		};
		if let Some(hosts) = &self.hosts {
			if !hosts.iter().any(|h| h.eq_ignore_ascii_case(&host_name)) {
				return Err(Error::FetchRefused(format!(
					"host `{host_name}` is not on the allow list"
				)));
			}
		}
		let literal: Option<IpAddr> = match host {
			url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
			url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
			url::Host::Domain(_) => None,
		};
		if let Some(ip) = literal {
			if !self.allow_private && is_non_public(ip) {
				return Err(Error::FetchRefused(format!("address {ip} is not public")));
			}
		}
		parsed
			.as_str()
			.parse::<Uri>()
			.map_err(|e| Error::FetchRefused(format!("`{uri}` is not a URI: {e}")))
	}

	/// Downloads `uri` within the policy, refusing bodies above `max_bytes`.
	pub async fn fetch(&self, uri: &str, max_bytes: u64) -> Result<Vec<u8>> {
		let mut bytes = Vec::new();
		self.fetch_into(uri, max_bytes, &mut Sink::Memory(&mut bytes)).await?;
		Ok(bytes)
	}

	/// Downloads `uri` within the policy chunk by chunk into `chunks`, refusing bodies above
	/// `max_bytes`, so that a large model never sits in memory whole. Fails with
	/// [`Error::Storage`] if the receiving end stops taking chunks.
	pub async fn stream(&self, uri: &str, max_bytes: u64, chunks: Sender<Bytes>) -> Result<()> {
		self.fetch_into(uri, max_bytes, &mut Sink::Channel(chunks)).await
	}

	async fn fetch_into(&self, uri: &str, max_bytes: u64, sink: &mut Sink<'_>) -> Result<()> {
		let uri = self.check_uri(uri)?;
		let timeout_ms = self.timeout.as_millis() as u64;
		tokio::time::timeout(self.timeout, self.download(uri, max_bytes, sink))
			.await
			.map_err(|_| Error::FetchFailed(format!("no complete answer within {timeout_ms} ms")))?
	}

	async fn download(&self, uri: Uri, max_bytes: u64, sink: &mut Sink<'_>) -> Result<()> {
		let request = Request::get(uri.clone())
			.header(hyper::header::USER_AGENT, "veritensor-executor")
			.body(Empty::new())
			.map_err(|e| Error::FetchFailed(e.to_string()))?;
		let response =
			self.clients.get(self.allow_private)?.request(request).await.map_err(|e| {
				// The resolver's refusal arrives wrapped as a connection error.
				let mut source: Option<&dyn std::error::Error> = Some(&e);
				while let Some(err) = source {
					if let Some(io) = err.downcast_ref::<std::io::Error>() {
						if io.kind() == std::io::ErrorKind::PermissionDenied {
							return Error::FetchRefused(io.to_string());
						}
					}
					source = err.source();
				}
				Error::FetchFailed(format!("{uri}: {e:?}"))
			})?;
		let status = response.status();
		if status.is_redirection() {
			let target = response
				.headers()
				.get(hyper::header::LOCATION)
				.and_then(|v| v.to_str().ok())
				.unwrap_or("?");
			return Err(Error::FetchFailed(format!(
				"{uri} redirects to {target}; redirects are not followed, list the final URI"
			)));
		}
		if status != StatusCode::OK {
			return Err(Error::FetchFailed(format!("{uri} answered {status}")));
		}
		if let Some(length) = response
			.headers()
			.get(hyper::header::CONTENT_LENGTH)
			.and_then(|v| v.to_str().ok())
			.and_then(|v| v.parse::<u64>().ok())
		{
			if length > max_bytes {
				return Err(Error::ModelTooLarge { size: length, limit: max_bytes });
			}
		}
		let mut body = response.into_body();
		let mut received = 0u64;
		while let Some(frame) = body.frame().await {
			let frame = frame.map_err(|e| Error::FetchFailed(format!("{uri}: {e}")))?;
			if let Ok(chunk) = frame.into_data() {
				received = received.saturating_add(chunk.len() as u64);
				if received > max_bytes {
					return Err(Error::ModelTooLarge { size: received, limit: max_bytes });
				}
				sink.push(chunk).await?;
			}
		}
		Ok(())
	}
}

/// Where a download goes.
enum Sink<'a> {
	Memory(&'a mut Vec<u8>),
	Channel(Sender<Bytes>),
}

impl Sink<'_> {
	async fn push(&mut self, chunk: Bytes) -> Result<()> {
		match self {
			Sink::Memory(bytes) => {
				bytes.extend_from_slice(&chunk);
				Ok(())
			}
			Sink::Channel(sender) => sender
				.send(chunk)
				.await
				.map_err(|_| Error::Storage("the store stopped taking the download".into())),
		}
	}
}

type FetchClient =
	Client<hyper_rustls::HttpsConnector<HttpConnector<CheckedResolver>>, Empty<Bytes>>;

impl FetchClients {
	/// The client for public addresses only, or for any address.
	fn get(&self, allow_private: bool) -> Result<&FetchClient> {
		let build = |allow_private: bool| {
			let mut http = HttpConnector::new_with_resolver(CheckedResolver { allow_private });
			http.enforce_http(false);
			let https = hyper_rustls::HttpsConnectorBuilder::new()
				.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
				.map_err(|e| format!("no TLS root certificates: {e}"))?
				.https_or_http()
				.enable_http1()
				.wrap_connector(http);
			Ok::<_, String>(Client::builder(TokioExecutor::new()).build(https))
		};
		match self.0.get_or_init(|| Ok([build(false)?, build(true)?])) {
			Ok(clients) => Ok(&clients[usize::from(allow_private)]),
			Err(error) => Err(Error::FetchFailed(error.clone())),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn non_public_ranges_are_recognised() {
		for ip in [
			"127.0.0.1",
			"10.1.2.3",
			"172.16.0.1",
			"192.168.1.1",
			"169.254.169.254",
			"0.0.0.0",
			"100.64.0.1",
			"255.255.255.255",
			"224.0.0.1",
			"::1",
			"::",
			"fc00::1",
			"fd12::1",
			"fe80::1",
			"::ffff:127.0.0.1",
			"::ffff:10.0.0.1",
		] {
			assert!(is_non_public(ip.parse().unwrap()), "{ip} should be non-public");
		}
		for ip in ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"] {
			assert!(!is_non_public(ip.parse().unwrap()), "{ip} should be public");
		}
	}

	#[test]
	fn ipv6_forms_that_carry_an_ipv4_address_are_judged_by_it() {
		for ip in [
			// IPv4-compatible, whatever the address.
			"::127.0.0.1",
			"::10.0.0.1",
			"::8.8.8.8",
			// NAT64 well-known prefix to a private, loopback or metadata address.
			"64:ff9b::7f00:1",
			"64:ff9b::10.1.2.3",
			"64:ff9b::169.254.169.254",
			// IPv4-translated to a private address.
			"::ffff:0:10.0.0.1",
			"::ffff:0:127.0.0.1",
			// Local-use NAT64, whatever it translates to.
			"64:ff9b:1::1",
			"64:ff9b:1:ffff::8.8.8.8",
			// 6to4 of a private or loopback relay.
			"2002:7f00:1::1",
			"2002:0a00:0001::1",
			"2002:c0a8:0101::1",
			// Teredo, benchmarking, site-local.
			"2001::1",
			"2001:0:4136:e378:8000:63bf:3fff:fdd2",
			"2001:2::1",
			"fec0::1",
			"feff::1",
			// IPv4 IETF protocol assignments and the deprecated 6to4 relay anycast.
			"192.0.0.1",
			"192.0.0.170",
			"192.88.99.1",
		] {
			assert!(is_non_public(ip.parse().unwrap()), "{ip} should be non-public");
		}
		for ip in
			["64:ff9b::8.8.8.8", "2002:0808:0808::1", "192.0.2.0", "192.1.0.1", "2001:4860::1"]
		{
			let public = !is_non_public(ip.parse().unwrap());
			// 192.0.2.0/24 is documentation: non-public for its own reason.
			assert_eq!(public, ip != "192.0.2.0", "{ip}");
		}
	}

	#[test]
	fn uris_outside_the_policy_are_refused() {
		let policy = FetchPolicy::default();
		let refused = |uri: &str| matches!(policy.check_uri(uri), Err(Error::FetchRefused(_)));
		assert!(refused("http://example.com/model.onnx"), "plain HTTP is off by default");
		assert!(refused("ftp://example.com/model.onnx"));
		assert!(refused("file:///etc/passwd"));
		assert!(refused("https://127.0.0.1/model.onnx"));
		assert!(refused("https://[::1]/model.onnx"));
		assert!(refused("https://169.254.169.254/latest/meta-data"));
		assert!(refused("https://user:secret@example.com/model.onnx"));
		assert!(refused("not a uri"));
		assert!(policy.check_uri("https://example.com/model.onnx").is_ok());

		let listed = FetchPolicy { hosts: Some(vec!["models.example.org".into()]), ..policy };
		assert!(listed.check_uri("https://models.example.org/a.onnx").is_ok());
		assert!(matches!(
			listed.check_uri("https://example.com/a.onnx"),
			Err(Error::FetchRefused(_))
		));
	}
}
