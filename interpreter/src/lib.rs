//! # An exact integer ONNX interpreter
//!
//! Runs ONNX graphs whose every tensor is an integer, with exact, written-down semantics, in
//! `no_std` without floats or unsafe code, so that the same bytes give the same outputs on any
//! machine, the chain's runtime included.
//!
//! ```text
//! let model = Model::parse(&onnx_bytes)?;        // refuses anything outside the subset
//! let cost = model.cost();                        // exact worst case, before running
//! let outputs = model.run(&inputs, budget)?;      // refuses a run above `budget`
//! ```
//!
//! - [`Model::parse`] reads the protobuf, checks every op against the subset and every tensor
//!   against the integer types, and infers every value's static shape: a float tensor, an op
//!   outside the subset or a shape that depends on data is refused, with an error naming it.
//! - [`Model::cost`] is the number of multiply-accumulates and element operations of a run, the
//!   same for every input: the caller can bound a run's time before it starts.
//! - [`Model::run`] allocates only the tensors the graph declares, and computes every op with
//!   the semantics in `docs/interpreter.md` (integer division truncates toward zero; results
//!   wrap to their type as two's complement hardware does).

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod onnx;
mod ops;
mod plan;
mod proto;
mod tensor;
#[cfg(feature = "writer")]
pub mod writer;

pub use onnx::{MAX_NODE_ATTRIBUTES, OPSETS};
pub use plan::Model;
pub use tensor::{element_count, ElemType, Tensor, MAX_ELEMENTS, MAX_RANK};

use alloc::string::String;

/// The interpreter's version, as the chain pins the engine: bumped whenever the models it
/// accepts or the outputs it computes change.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a model is refused or a run fails.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Error {
	/// The bytes are not a well-formed ONNX protobuf.
	Malformed(&'static str),
	/// A feature the interpreter does not support (named).
	Unsupported(String),
	/// An op outside the subset.
	UnsupportedOp {
		/// The node.
		node: String,
		/// Its op.
		op: String,
	},
	/// A tensor of a float type (named).
	FloatTensor(String),
	/// A tensor of another type the interpreter does not run (strings, `UINT64`, ...).
	UnsupportedType {
		/// The tensor.
		tensor: String,
		/// Its ONNX data type code.
		code: i64,
	},
	/// A value whose shape is not static (named).
	DynamicShape(String),
	/// A node the interpreter cannot run as written.
	Node {
		/// The node.
		node: String,
		/// Its op.
		op: String,
		/// Why.
		why: &'static str,
	},
	/// A value no node or input produces (named).
	UnknownValue(String),
	/// A tensor above [`MAX_ELEMENTS`], or a cost that overflows.
	TooLarge,
	/// The run would cost more than the budget allows.
	OverBudget {
		/// The model's cost.
		cost: u64,
		/// The budget.
		budget: u64,
	},
	/// An input that does not match its declaration.
	Input {
		/// The input.
		name: String,
		/// Why.
		why: &'static str,
	},
	/// An integer division by zero.
	DivisionByZero {
		/// The node.
		node: String,
	},
}

impl core::fmt::Display for Error {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Error::Malformed(why) => write!(f, "malformed model: {why}"),
			Error::Unsupported(what) => write!(f, "unsupported: {what}"),
			Error::UnsupportedOp { node, op } => {
				write!(f, "node {node}: op {op} is outside the interpreter's subset")
			}
			Error::FloatTensor(name) => write!(f, "tensor {name} is a float tensor"),
			Error::UnsupportedType { tensor, code } => {
				write!(f, "tensor {tensor} has an unsupported element type ({code})")
			}
			Error::DynamicShape(name) => write!(f, "value {name} has no static shape"),
			Error::Node { node, op, why } => write!(f, "node {node} ({op}): {why}"),
			Error::UnknownValue(name) => write!(f, "value {name} is never produced"),
			Error::TooLarge => write!(f, "a tensor or the cost is too large"),
			Error::OverBudget { cost, budget } => {
				write!(f, "the run costs {cost}, above the budget of {budget}")
			}
			Error::Input { name, why } => write!(f, "input {name}: {why}"),
			Error::DivisionByZero { node } => write!(f, "node {node}: division by zero"),
		}
	}
}
