//! Dispatches the command line to the node or to a subcommand.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE};
use sc_cli::SubstrateCli;
use sc_network::config::NetworkBackendType;
use sc_service::PartialComponents;
use sp_runtime::traits::HashingFor;
use veritensor_runtime::opaque::Block;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Veritensor Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/veritensor/veritensor/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" | "development" => Box::new(chain_spec::development()?),
			"" | "local" | "local_testnet" => Box::new(chain_spec::local_testnet()?),
			path => {
				Box::new(chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path))?)
			}
		})
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		}
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		}
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		}
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		}
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let revert_consensus_data =
					Box::new(|client: std::sync::Arc<service::FullClient>, backend, blocks| {
						sc_consensus_babe::revert(client.clone(), backend, blocks)?;
						sc_consensus_grandpa::revert(client, blocks)?;
						Ok(())
					});
				Ok((cmd.run(client, backend, Some(revert_consensus_data)), task_manager))
			})
		}
		Some(Subcommand::Benchmark(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => {
					// A runtime given with `--runtime` carries its own benchmarks (built with
					// `--features runtime-benchmarks`); the node's own runtime only does if the
					// node was built with the feature.
					if cmd.runtime.is_none() && !cfg!(feature = "runtime-benchmarks") {
						return Err("pallet benchmarks need a runtime built with \
							`--features runtime-benchmarks`: give one with --runtime, or build \
							the node with the feature (see scripts/benchmark-pallet.sh)"
							.into());
					}
					// With `--runtime`, genesis comes from the runtime's own preset
					// (`--genesis-builder-preset`), not from the node's chain spec.
					let chain_spec = cmd.runtime.is_none().then_some(config.chain_spec);
					cmd.run_with_spec::<HashingFor<Block>, ()>(chain_spec)
				}
				BenchmarkCmd::Machine(cmd) => {
					cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone())
				}
				// The base weights of a block and of an extrinsic: blocks full of remarks built
				// and executed on the runtime's genesis state (the node's chain spec, or
				// `--runtime`).
				BenchmarkCmd::Overhead(cmd) => {
					let chain_spec = cmd.params.runtime.is_none().then_some(config.chain_spec);
					cmd.run_with_default_builder_and_spec::<Block, ()>(chain_spec)
				}
				BenchmarkCmd::Storage(cmd) => benchmark_storage(cmd, config),
				// Blocks already in the database executed again, timed, beside the weight they
				// used: whether the weights the chain charges cover what its blocks take here.
				BenchmarkCmd::Block(cmd) => {
					let PartialComponents { client, .. } = service::new_partial(&config)?;
					cmd.run(client)
				}
				_ => Err("this node supports `benchmark pallet`, `benchmark overhead`, \
					`benchmark storage`, `benchmark block` and `benchmark machine`"
					.into()),
			})
		}
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		}
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let mut executor = cli.executor.clone();
			// A development node runs models itself unless told otherwise; any other node
			// only when asked to (`--executor embedded`).
			executor.embedded_by_default = cli.run.shared_params.is_dev();
			// Workers need not validate: off-chain workers run on every node unless
			// `--offchain-worker never` turns them off.
			let offchain_workers = !matches!(
				cli.run.offchain_worker_params.enabled,
				sc_cli::OffchainWorkerEnabled::Never
			);
			runner.run_node_until_exit(|mut config| async move {
				config.offchain_worker.enabled = offchain_workers;
				match config.network.network_backend {
					NetworkBackendType::Libp2p => service::new_full::<
						sc_network::NetworkWorker<
							Block,
							<Block as sp_runtime::traits::Block>::Hash,
						>,
					>(config, &executor),
					NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(config, &executor)
					}
				}
				.map_err(sc_cli::Error::Service)
			})
		}
	}
}

/// Reads and writes of the keys in a node's database, timed: the database weights to put in
/// place of the defaults. The handles it needs are exposed by the client database only in a
/// node built with `--features runtime-benchmarks`.
#[cfg(feature = "runtime-benchmarks")]
fn benchmark_storage(
	cmd: &frame_benchmarking_cli::StorageCmd,
	config: sc_service::Configuration,
) -> sc_cli::Result<()> {
	let PartialComponents { client, backend, .. } = service::new_partial(&config)?;
	let db = backend.expose_db();
	let storage = backend.expose_storage();
	let shared_trie_cache = backend.expose_shared_trie_cache();
	cmd.run(config, client, db, storage, shared_trie_cache)
}

#[cfg(not(feature = "runtime-benchmarks"))]
fn benchmark_storage(
	_: &frame_benchmarking_cli::StorageCmd,
	_: sc_service::Configuration,
) -> sc_cli::Result<()> {
	Err("`benchmark storage` needs the node built with `--features runtime-benchmarks` \
		(see scripts/benchmark-storage.sh)"
		.into())
}
