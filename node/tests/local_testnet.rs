//! Four validators (Alice, Bob, Charlie, Dave) of the `local_testnet` preset, on loopback, reach
//! a common finalised block.

mod common;

use common::{wait_until, Node};
use serde_json::json;
use std::time::Duration;

const TARGET: u64 = 5;

#[test]
fn four_validators_finalise_a_common_block() {
	// Validators of a live chain must be given their network key; any fixed one will do here.
	let node_key = |index: u8| format!("{index:064x}");
	let alice =
		Node::start("alice", &["--chain", "local", "--alice", "--tmp", "--node-key", &node_key(1)]);
	let bootnode = alice.multiaddr();
	let mut nodes = vec![alice];
	for (index, name) in (2..).zip(["bob", "charlie", "dave"]) {
		nodes.push(Node::start(
			name,
			&[
				"--chain",
				"local",
				&format!("--{name}"),
				"--tmp",
				"--node-key",
				&node_key(index),
				"--bootnodes",
				&bootnode,
			],
		));
	}
	for node in &nodes {
		node.rpc_when_up("system_health", json!([]), Duration::from_secs(120));
	}

	let all_finalised = wait_until(Duration::from_secs(300), || {
		nodes.iter().all(|node| {
			node.assert_running();
			node.finalized_number().is_some_and(|number| number >= TARGET)
		})
	});
	let report: Vec<String> = nodes
		.iter()
		.map(|node| format!("{}: finalised {:?}", node.name, node.finalized_number()))
		.collect();
	assert!(
		all_finalised,
		"not every validator finalised #{TARGET} within 300 s: {report:?}\nalice's log:\n{}",
		nodes[0].log_tail()
	);

	let hashes: Vec<_> = nodes
		.iter()
		.map(|node| node.rpc("chain_getBlockHash", json!([TARGET])).expect("block hash"))
		.collect();
	assert!(
		hashes.iter().all(|hash| *hash == hashes[0]),
		"validators disagree on #{TARGET}: {hashes:?}"
	);

	for node in &nodes {
		let peers = node.rpc("system_health", json!([])).expect("health")["peers"].as_u64();
		assert!(peers.is_some_and(|peers| peers >= 1), "{} has no peers", node.name);
	}
}
