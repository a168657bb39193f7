//! Fetching models from URIs: a real HTTP server on loopback plays the model host.

mod common;

use axum::{http::StatusCode, response::IntoResponse, routing::get, Router};
use common::*;
use sp_core::H256;
use std::{net::SocketAddr, time::Duration};
use veritensor_executor::{fetch::FetchPolicy, Error};

async fn model_host() -> SocketAddr {
	let router = Router::new()
		.route("/int.onnx", get(|| async { demo_model(INT_MODEL) }))
		.route("/float.onnx", get(|| async { demo_model(FLOAT_MODEL) }))
		.route("/missing.onnx", get(|| async { StatusCode::NOT_FOUND }))
		.route(
			"/moved.onnx",
			get(|| async { (StatusCode::FOUND, [("location", "/int.onnx")]).into_response() }),
		)
		.route(
			"/stalls.onnx",
			get(|| async {
				tokio::time::sleep(Duration::from_secs(30)).await;
				demo_model(INT_MODEL)
			}),
		);
	serve_on_loopback(router).await
}

fn int_hash() -> H256 {
	H256(sp_crypto_hashing::blake2_256(&demo_model(INT_MODEL)))
}

#[tokio::test]
async fn the_default_policy_refuses_loopback_and_plain_http() {
	let host = model_host().await;
	let setup = setup_with(false, |config| {
		config.fetch =
			FetchPolicy { schemes: vec!["http".into(), "https".into()], ..FetchPolicy::default() };
	});
	let dir = tempfile::tempdir().unwrap();
	let fresh =
		veritensor_executor::Executor::new(veritensor_executor::Config::new(dir.path())).unwrap();
	let hash = int_hash();
	let uri = format!("http://{host}/int.onnx");
	// Plain HTTP is refused by the default scheme list.
	let error = fresh.fetch_model(&hash, std::slice::from_ref(&uri)).await.unwrap_err();
	assert!(matches!(error, Error::FetchRefused(_)), "{error}");
	// With HTTP allowed, a loopback address is still refused...
	let other = H256::repeat_byte(1);
	let error = setup.executor.fetch_model(&other, &[uri]).await.unwrap_err();
	assert!(matches!(error, Error::FetchRefused(_)), "{error}");
	// ...and so is a name that resolves to loopback: the check runs on resolved addresses.
	let error = setup
		.executor
		.fetch_model(&other, &[format!("http://localhost:{}/int.onnx", host.port())])
		.await
		.unwrap_err();
	assert!(matches!(error, Error::FetchRefused(_)), "{error}");
	assert!(!setup.executor.store().contains(&other));
}

#[tokio::test]
async fn a_permitted_fetch_is_verified_before_it_is_stored() {
	let host = model_host().await;
	let dir = tempfile::tempdir().unwrap();
	let mut config = veritensor_executor::Config::new(dir.path());
	config.fetch = loopback_policy();
	let executor = veritensor_executor::Executor::new(config).unwrap();
	let hash = int_hash();

	// The float model's bytes under the int model's hash: refused, nothing stored.
	let error =
		executor.fetch_model(&hash, &[format!("http://{host}/float.onnx")]).await.unwrap_err();
	assert!(matches!(error, Error::HashMismatch { .. }), "{error}");
	assert!(!executor.store().contains(&hash));

	// Failing URIs are skipped; the first good one is kept.
	let uris = vec![
		format!("http://{host}/missing.onnx"),
		format!("http://{host}/moved.onnx"),
		format!("http://{host}/int.onnx"),
	];
	assert!(executor.fetch_model(&hash, &uris).await.unwrap());
	assert!(executor.store().read_verified(&hash).is_ok());
	// Already present: nothing fetched.
	assert!(!executor.fetch_model(&hash, &[]).await.unwrap());
}

#[tokio::test]
async fn fetch_failures_are_reported_by_kind() {
	let host = model_host().await;
	let dir = tempfile::tempdir().unwrap();
	let mut config = veritensor_executor::Config::new(dir.path());
	config.fetch = FetchPolicy { timeout: Duration::from_millis(500), ..loopback_policy() };
	config.max_model_bytes = 10_000;
	let executor = veritensor_executor::Executor::new(config).unwrap();
	let float_hash = H256(sp_crypto_hashing::blake2_256(&demo_model(FLOAT_MODEL)));
	let hash = int_hash();

	let error = executor
		.fetch_model(&float_hash, &[format!("http://{host}/float.onnx")])
		.await
		.unwrap_err();
	assert!(matches!(error, Error::ModelTooLarge { .. }), "{error}");
	let error =
		executor.fetch_model(&hash, &[format!("http://{host}/missing.onnx")]).await.unwrap_err();
	assert!(matches!(&error, Error::FetchFailed(m) if m.contains("404")), "{error}");
	let error =
		executor.fetch_model(&hash, &[format!("http://{host}/moved.onnx")]).await.unwrap_err();
	assert!(matches!(&error, Error::FetchFailed(m) if m.contains("redirect")), "{error}");
	let error =
		executor.fetch_model(&hash, &[format!("http://{host}/stalls.onnx")]).await.unwrap_err();
	assert!(matches!(&error, Error::FetchFailed(m) if m.contains("500 ms")), "{error}");
	let error = executor.fetch_model(&hash, &[]).await.unwrap_err();
	assert!(matches!(error, Error::BadInput(_)), "{error}");
	assert!(!executor.store().contains(&hash));
}
