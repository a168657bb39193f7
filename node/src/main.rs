//! The Veritensor node.

mod chain_spec;
mod cli;
mod command;
mod embedded_executor;
mod equivocation;
mod rpc;
mod service;
mod worker_keys;

fn main() -> sc_cli::Result<()> {
	command::run()
}
