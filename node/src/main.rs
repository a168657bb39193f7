//! The Veritensor node.

mod chain_spec;
mod cli;
mod command;
mod embedded_executor;
mod equivocation;
mod model_prefetch;
mod rpc;
mod service;
mod worker_keys;
mod worker_metrics;

use veritensor_executor::isolation::{self, limits::LimitAwareAllocator};

/// A model that breaks its memory limit ends the embedded executor's child process with a code
/// the node reads, instead of an abort.
#[global_allocator]
static ALLOCATOR: LimitAwareAllocator = LimitAwareAllocator;

fn main() -> sc_cli::Result<()> {
	// The embedded executor's children are this binary: they run models and nothing else.
	if std::env::args_os().nth(1).is_some_and(|a| a == isolation::CHILD_SUBCOMMAND) {
		isolation::child::run_child_and_exit();
	}
	command::run()
}
