//! A parsed model made ready to run: every value's slot, element type and static shape; every
//! node checked against the subset and turned into a step; the cost of a run.

use crate::{
	onnx::{read_model, Attribute, Declared, Node},
	ops,
	tensor::{check_shape, element_count, ElemType, Tensor, MAX_ELEMENTS, MAX_RANK},
	Error,
};
use alloc::{collections::BTreeMap, string::String, vec, vec::Vec};

/// The element type and shape of a value.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Meta {
	pub elem: ElemType,
	pub shape: Vec<usize>,
}

/// The arithmetic of an element-wise op of two inputs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Arith {
	Add,
	Sub,
	Mul,
	Div,
}

/// What a step computes, with everything its shapes fix.
#[derive(Clone, Debug)]
pub(crate) enum Op {
	/// `(A − a_zero) × (B − b_zero)` in 32 bits; inputs A, B, optional scalar zero points.
	MatMulInteger { batch: usize, m: usize, k: usize, n: usize },
	/// `A × B` in the inputs' type.
	MatMul { batch: usize, m: usize, k: usize, n: usize },
	/// `op(A) × op(B) + C` (C optional, broadcast to `[m, n]`).
	Gemm { m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool },
	/// Two inputs, broadcast.
	Arith(Arith),
	/// The largest (`max`) or smallest of any number of inputs, broadcast.
	Extremum { max: bool },
	/// `max(x, 0)`.
	Relu,
	/// `min(max(x, low), high)`, bounds optional scalar inputs.
	Clip,
	/// To the step's output type.
	Cast,
	/// The index of the largest element along `axis`.
	ArgMax { axis: usize, last: bool },
	/// The input's elements under the output's shape (Reshape, Flatten, Squeeze, Unsqueeze,
	/// Identity).
	Reshape,
	/// A constant.
	Constant(Tensor),
}

/// One node, ready to run.
#[derive(Clone, Debug)]
pub(crate) struct Step {
	pub name: String,
	pub op: Op,
	/// Input slots; `None` for an omitted optional input.
	pub inputs: Vec<Option<usize>>,
	pub output: usize,
	pub out: Meta,
}

/// A model the interpreter can run: parsed, checked and planned.
#[derive(Clone, Debug)]
pub struct Model {
	slots: usize,
	constants: Vec<(usize, Tensor)>,
	inputs: Vec<(usize, Declared)>,
	outputs: Vec<(usize, Declared)>,
	steps: Vec<Step>,
	cost: u64,
	memory: u64,
}

impl Model {
	/// Parses an ONNX model and plans it; refuses anything outside the subset, naming it.
	pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
		let graph = read_model(bytes)?;
		let mut planner = Planner { opset: graph.opset, ..Planner::default() };
		let mut constants = Vec::new();
		// Every run copies the constants and the inputs in and the outputs out: one operation
		// an element, on top of the nodes' work.
		let mut cost = 0u64;
		for (name, tensor) in graph.initializers {
			let slot =
				planner.define(&name, Meta { elem: tensor.elem, shape: tensor.shape.clone() })?;
			planner.known.insert(slot, tensor.clone());
			cost = cost.checked_add(tensor.data.len() as u64).ok_or(Error::TooLarge)?;
			constants.push((slot, tensor));
		}
		let mut inputs = Vec::new();
		for declared in graph.inputs {
			let elements = check_shape(&declared.shape)?;
			cost = cost.checked_add(elements as u64).ok_or(Error::TooLarge)?;
			let meta = Meta { elem: declared.elem, shape: declared.shape.clone() };
			inputs.push((planner.define(&declared.name, meta)?, declared));
		}
		let mut steps = Vec::new();
		for node in &graph.nodes {
			let (step, step_cost) = planner.plan(node)?;
			cost = cost.checked_add(step_cost).ok_or(Error::TooLarge)?;
			steps.push(step);
		}
		let mut outputs = Vec::new();
		for declared in graph.outputs {
			let slot = planner.slot(&declared.name)?;
			let meta = &planner.metas[slot];
			let elements = check_shape(&meta.shape)?;
			cost = cost.checked_add(elements as u64).ok_or(Error::TooLarge)?;
			if meta.elem != declared.elem || meta.shape != declared.shape {
				return Err(Error::Node {
					node: declared.name.clone(),
					op: String::from("output"),
					why: "the declared output differs from what the graph computes",
				});
			}
			outputs.push((slot, declared));
		}
		let memory = memory_bound(&planner.metas, &constants, &inputs, &outputs, &steps)?;
		Ok(Self { slots: planner.metas.len(), constants, inputs, outputs, steps, cost, memory })
	}

	/// The cost of one run: multiply-accumulates plus element operations (see
	/// `docs/interpreter.md`), the same for every input.
	pub fn cost(&self) -> u64 {
		self.cost
	}

	/// The most bytes of tensor data the parsed model and one run of it hold at once (see
	/// `docs/interpreter.md`), the same for every input: the caller can bound a run's memory
	/// before it starts, as [`Self::cost`] bounds its time.
	pub fn memory(&self) -> u64 {
		self.memory
	}

	/// The inputs a run takes, in order: name, element type, shape.
	pub fn inputs(&self) -> impl ExactSizeIterator<Item = (&str, ElemType, &[usize])> {
		self.inputs.iter().map(|(_, d)| (d.name.as_str(), d.elem, d.shape.as_slice()))
	}

	/// The outputs a run gives, in order: name, element type, shape.
	pub fn outputs(&self) -> impl ExactSizeIterator<Item = (&str, ElemType, &[usize])> {
		self.outputs.iter().map(|(_, d)| (d.name.as_str(), d.elem, d.shape.as_slice()))
	}

	/// Runs the model on `inputs` (in the order of [`Self::inputs`]), if its cost is within
	/// `budget`; returns the outputs in the order of [`Self::outputs`].
	pub fn run(&self, inputs: &[Tensor], budget: u64) -> Result<Vec<Tensor>, Error> {
		if self.cost > budget {
			return Err(Error::OverBudget { cost: self.cost, budget });
		}
		if inputs.len() != self.inputs.len() {
			return Err(Error::Input { name: String::from("*"), why: "wrong number of inputs" });
		}
		let mut values: Vec<Option<Tensor>> = vec![None; self.slots];
		for (slot, tensor) in &self.constants {
			values[*slot] = Some(tensor.clone());
		}
		for ((slot, declared), tensor) in self.inputs.iter().zip(inputs) {
			if tensor.elem != declared.elem {
				return Err(Error::Input {
					name: declared.name.clone(),
					why: "wrong element type",
				});
			}
			if tensor.shape != declared.shape {
				return Err(Error::Input { name: declared.name.clone(), why: "wrong shape" });
			}
			let checked = Tensor::new(tensor.elem, tensor.shape.clone(), tensor.data.clone())
				.map_err(|_| Error::Input { name: declared.name.clone(), why: "malformed data" })?;
			values[*slot] = Some(checked);
		}
		for step in &self.steps {
			let args: Vec<Option<&Tensor>> = step
				.inputs
				.iter()
				.map(|slot| slot.and_then(|slot| values[slot].as_ref()))
				.collect();
			// An empty output takes no work, however large its inputs' other dimensions: the
			// loops of an op over them would cost time its cost (counted by output) never charged.
			let result = if step.out.shape.contains(&0) {
				Tensor::new(step.out.elem, step.out.shape.clone(), Vec::new())?
			} else {
				ops::run(step, &args)?
			};
			values[step.output] = Some(result);
		}
		self.outputs
			.iter()
			.map(|(slot, declared)| {
				values[*slot].clone().ok_or_else(|| Error::UnknownValue(declared.name.clone()))
			})
			.collect()
	}
}

/// The attributes each op may carry; any other is refused, as ONNX Runtime refuses an
/// attribute it does not know (an ignored one could change the meaning).
fn allowed_attributes(op: &str) -> &'static [&'static str] {
	match op {
		"Gemm" => &["alpha", "beta", "transA", "transB"],
		"Cast" => &["to"],
		"ArgMax" => &["axis", "keepdims", "select_last_index"],
		"Reshape" => &["allowzero"],
		"Flatten" => &["axis"],
		"Constant" => &["value"],
		_ => &[],
	}
}

/// The most inputs each op takes.
fn max_inputs(op: &str) -> usize {
	match op {
		"MatMulInteger" => 4,
		"Gemm" | "Clip" => 3,
		"MatMul" | "Add" | "Sub" | "Mul" | "Div" | "Reshape" | "Squeeze" | "Unsqueeze" => 2,
		"Max" | "Min" => usize::MAX,
		"Constant" => 0,
		_ => 1,
	}
}

/// Value slots by name, their metas, and the constants known while planning.
#[derive(Default)]
struct Planner {
	opset: i64,
	names: BTreeMap<String, usize>,
	metas: Vec<Meta>,
	known: BTreeMap<usize, Tensor>,
}

impl Planner {
	fn define(&mut self, name: &str, meta: Meta) -> Result<usize, Error> {
		if self.names.contains_key(name) {
			return Err(Error::Malformed("a value defined twice"));
		}
		let slot = self.metas.len();
		self.names.insert(String::from(name), slot);
		self.metas.push(meta);
		Ok(slot)
	}

	fn slot(&self, name: &str) -> Result<usize, Error> {
		self.names.get(name).copied().ok_or_else(|| Error::UnknownValue(String::from(name)))
	}

	/// The slots of `node`'s inputs, `None` for omitted ones.
	fn input_slots(&self, node: &Node) -> Result<Vec<Option<usize>>, Error> {
		node.inputs
			.iter()
			.map(|name| if name.is_empty() { Ok(None) } else { self.slot(name).map(Some) })
			.collect()
	}

	/// The constant tensor at `slot`, which a shape-defining input must be: a list of at most
	/// [`MAX_RANK`] `INT64` values.
	fn constant(&self, node: &Node, slot: Option<usize>) -> Result<Option<&Tensor>, Error> {
		let Some(slot) = slot else { return Ok(None) };
		let tensor = self
			.known
			.get(&slot)
			.ok_or_else(|| node.refuse("a shape or axes input that is not a constant"))?;
		if tensor.elem != ElemType::I64 || tensor.shape.len() != 1 || tensor.data.len() > MAX_RANK {
			return Err(node.refuse("a shape or axes input must be a short INT64 list"));
		}
		Ok(Some(tensor))
	}

	/// Checks `node`, infers its output's meta, and returns its step and cost.
	fn plan(&mut self, node: &Node) -> Result<(Step, u64), Error> {
		if node.outputs.len() != 1 {
			return Err(node.refuse("the interpreter's ops have exactly one output"));
		}
		if node.inputs.len() > max_inputs(&node.op) {
			return Err(node.refuse("more inputs than the op takes"));
		}
		let allowed = allowed_attributes(&node.op);
		if node.attributes.iter().any(|(name, _)| !allowed.contains(&name.as_str())) {
			return Err(node.refuse("an attribute the op does not take in this opset"));
		}
		let slots = self.input_slots(node)?;
		let metas: Vec<Option<Meta>> =
			slots.iter().map(|slot| slot.map(|slot| self.metas[slot].clone())).collect();
		let need = |index: usize| -> Result<&Meta, Error> {
			metas
				.get(index)
				.and_then(|meta| meta.as_ref())
				.ok_or_else(|| node.refuse("a required input is missing"))
		};
		let count = |meta: &Meta| element_count(&meta.shape).unwrap_or(usize::MAX) as u64;
		let opset = self.opset;
		let (op, out, cost) = match node.op.as_str() {
			"MatMulInteger" => {
				let (a, b) = (need(0)?, need(1)?);
				for (index, meta) in [a, b].into_iter().enumerate() {
					if !matches!(meta.elem, ElemType::U8 | ElemType::I8) {
						return Err(node.refuse("MatMulInteger takes 8-bit integers"));
					}
					if let Some(Some(zero)) = metas.get(index + 2) {
						if zero.elem != meta.elem || count(zero) != 1 {
							return Err(
								node.refuse("zero points must be scalars of the input's type")
							);
						}
					}
				}
				let (batch, m, k, n, shape) = matmul_shape(node, a, b)?;
				// An empty inner dimension still writes every output element.
				let macs = mul3(batch, m, k.max(1), n)?;
				(Op::MatMulInteger { batch, m, k, n }, Meta { elem: ElemType::I32, shape }, macs)
			}
			"MatMul" => {
				let (a, b) = (need(0)?, need(1)?);
				same_type(node, &[a, b], &[ElemType::I32, ElemType::I64, ElemType::U32])?;
				let (batch, m, k, n, shape) = matmul_shape(node, a, b)?;
				let macs = mul3(batch, m, k.max(1), n)?;
				(Op::MatMul { batch, m, k, n }, Meta { elem: a.elem, shape }, macs)
			}
			"Gemm" => {
				let (a, b) = (need(0)?, need(1)?);
				same_type(node, &[a, b], &[ElemType::I32, ElemType::I64, ElemType::U32])?;
				for scale in ["alpha", "beta"] {
					match node.attribute(scale) {
						None => {}
						// 1.0 as an IEEE 754 single: the only scale integer arithmetic honours.
						Some(Attribute::FloatBits(0x3f80_0000)) => {}
						Some(_) => return Err(node.refuse("alpha and beta must be 1.0")),
					}
				}
				let (trans_a, trans_b) = (node.int("transA", 0)? != 0, node.int("transB", 0)? != 0);
				if a.shape.len() != 2 || b.shape.len() != 2 {
					return Err(node.refuse("Gemm takes matrices"));
				}
				let (m, k) =
					if trans_a { (a.shape[1], a.shape[0]) } else { (a.shape[0], a.shape[1]) };
				let (kb, n) =
					if trans_b { (b.shape[1], b.shape[0]) } else { (b.shape[0], b.shape[1]) };
				if k != kb {
					return Err(node.refuse("inner dimensions differ"));
				}
				let mut cost = mul3(1, m, k.max(1), n)?;
				if let Some(Some(c)) = metas.get(2) {
					if c.elem != a.elem {
						return Err(node.refuse("C must be of A's type"));
					}
					let target = vec![m, n];
					if broadcast(&[&c.shape, &target]).as_deref() != Some(&target[..]) {
						return Err(node.refuse("C does not broadcast to the product's shape"));
					}
					let bias = (m as u64).checked_mul(n as u64).ok_or(Error::TooLarge)?;
					cost = cost.checked_add(bias).ok_or(Error::TooLarge)?;
				}
				(
					Op::Gemm { m, k, n, trans_a, trans_b },
					Meta { elem: a.elem, shape: vec![m, n] },
					cost,
				)
			}
			"Add" | "Sub" | "Mul" | "Div" => {
				let (a, b) = (need(0)?, need(1)?);
				// 8- and 16-bit types join these ops in opset 14.
				let types: &[ElemType] = if opset >= 14 {
					&NUMBERS
				} else {
					&[ElemType::I32, ElemType::I64, ElemType::U32]
				};
				same_type(node, &[a, b], types)?;
				let shape = broadcast(&[&a.shape, &b.shape])
					.ok_or_else(|| node.refuse("the inputs do not broadcast"))?;
				let arith = match node.op.as_str() {
					"Add" => Arith::Add,
					"Sub" => Arith::Sub,
					"Mul" => Arith::Mul,
					_ => Arith::Div,
				};
				let out = Meta { elem: a.elem, shape };
				let cost = count(&out);
				(Op::Arith(arith), out, cost)
			}
			"Max" | "Min" => {
				let inputs: Vec<&Meta> = (0..metas.len()).map(need).collect::<Result<_, _>>()?;
				if inputs.is_empty() {
					return Err(node.refuse("at least one input"));
				}
				same_type(node, &inputs, &NUMBERS)?;
				let shapes: Vec<&Vec<usize>> = inputs.iter().map(|meta| &meta.shape).collect();
				let shape =
					broadcast(&shapes).ok_or_else(|| node.refuse("the inputs do not broadcast"))?;
				let out = Meta { elem: inputs[0].elem, shape };
				let cost = count(&out).saturating_mul(inputs.len().max(2) as u64 - 1);
				(Op::Extremum { max: node.op == "Max" }, out, cost)
			}
			"Relu" => {
				let x = need(0)?;
				// Relu takes integers from opset 14.
				if opset < 14 {
					return Err(node.refuse("integer Relu needs opset 14"));
				}
				same_type(
					node,
					&[x],
					&[ElemType::I8, ElemType::I16, ElemType::I32, ElemType::I64],
				)?;
				(Op::Relu, x.clone(), count(x))
			}
			"Clip" => {
				let x = need(0)?;
				same_type(node, &[x], &NUMBERS)?;
				for bound in [metas.get(1), metas.get(2)].into_iter().flatten().flatten() {
					if bound.elem != x.elem || count(bound) != 1 {
						return Err(node.refuse("bounds must be scalars of the input's type"));
					}
				}
				(Op::Clip, x.clone(), count(x))
			}
			"Cast" => {
				let x = need(0)?;
				let to = node.int("to", -1)?;
				let elem = ElemType::from_onnx(to).ok_or_else(|| {
					if matches!(to, 1 | 10 | 11 | 16) {
						Error::FloatTensor(node.outputs[0].clone())
					} else {
						node.refuse("a cast to a type the interpreter does not run")
					}
				})?;
				let out = Meta { elem, shape: x.shape.clone() };
				(Op::Cast, out, count(x))
			}
			"ArgMax" => {
				let x = need(0)?;
				same_type(node, &[x], &NUMBERS)?;
				let axis = axis_index(node, node.int("axis", 0)?, x.shape.len())?;
				let keepdims = node.int("keepdims", 1)? != 0;
				let last = node.int("select_last_index", 0)? != 0;
				let mut shape = x.shape.clone();
				if x.shape[axis] == 0 {
					return Err(node.refuse("ArgMax over an empty axis"));
				}
				if keepdims {
					shape[axis] = 1;
				} else {
					shape.remove(axis);
				}
				(Op::ArgMax { axis, last }, Meta { elem: ElemType::I64, shape }, count(x))
			}
			"Reshape" => {
				let x = need(0)?;
				let target = self
					.constant(node, slots.get(1).copied().flatten())?
					.ok_or_else(|| node.refuse("Reshape needs a shape"))?;
				let allow_zero = node.int("allowzero", 0)? != 0;
				if node.attribute("allowzero").is_some() && opset < 14 {
					return Err(node.refuse("allowzero needs opset 14"));
				}
				let shape = reshape(node, &x.shape, &target.data, allow_zero)?;
				(Op::Reshape, Meta { elem: x.elem, shape }, count(x))
			}
			"Flatten" => {
				let x = need(0)?;
				let rank = x.shape.len();
				let axis = node.int("axis", 1)?;
				let axis = if axis < 0 { axis + rank as i64 } else { axis };
				if axis < 0 || axis > rank as i64 {
					return Err(node.refuse("axis out of range"));
				}
				let (outer, inner) = x.shape.split_at(axis as usize);
				let shape = vec![outer.iter().product(), inner.iter().product()];
				(Op::Reshape, Meta { elem: x.elem, shape }, count(x))
			}
			"Squeeze" => {
				let x = need(0)?;
				let axes = self.constant(node, slots.get(1).copied().flatten())?;
				let rank = x.shape.len();
				let mut drop = vec![false; rank];
				match axes {
					None => {
						for (index, dim) in x.shape.iter().enumerate() {
							drop[index] = *dim == 1;
						}
					}
					Some(axes) => {
						for axis in &axes.data {
							let axis = axis_index(node, *axis, rank)?;
							if x.shape[axis] != 1 {
								return Err(node.refuse("squeezing a dimension that is not 1"));
							}
							drop[axis] = true;
						}
					}
				}
				let shape =
					x.shape.iter().zip(&drop).filter(|(_, d)| !**d).map(|(dim, _)| *dim).collect();
				(Op::Reshape, Meta { elem: x.elem, shape }, count(x))
			}
			"Unsqueeze" => {
				let x = need(0)?;
				let axes = self
					.constant(node, slots.get(1).copied().flatten())?
					.ok_or_else(|| node.refuse("Unsqueeze needs axes"))?;
				let rank = x.shape.len() + axes.data.len();
				let mut inserted = vec![false; rank];
				for axis in &axes.data {
					let axis = axis_index(node, *axis, rank)?;
					if inserted[axis] {
						return Err(node.refuse("an axis named twice"));
					}
					inserted[axis] = true;
				}
				let mut dims = x.shape.iter();
				let shape = inserted
					.iter()
					.map(|new| if *new { 1 } else { dims.next().copied().unwrap_or(1) })
					.collect();
				(Op::Reshape, Meta { elem: x.elem, shape }, count(x))
			}
			"Identity" => {
				let x = need(0)?;
				(Op::Reshape, x.clone(), count(x))
			}
			"Constant" => {
				let tensor = match node.attribute("value") {
					Some(Attribute::Tensor(tensor)) => tensor.clone(),
					_ => return Err(node.refuse("only a `value` tensor constant is supported")),
				};
				let meta = Meta { elem: tensor.elem, shape: tensor.shape.clone() };
				let cost = count(&meta);
				(Op::Constant(tensor), meta, cost)
			}
			_ => return Err(Error::UnsupportedOp { node: node.name.clone(), op: node.op.clone() }),
		};
		check_shape(&out.shape)?;
		// Every step also handles its inputs and its output's shape.
		let base = 1u64 + node.inputs.len() as u64 + out.shape.len() as u64;
		let cost = cost.checked_add(base).ok_or(Error::TooLarge)?;
		let output = self.define(&node.outputs[0], out.clone())?;
		if let Op::Constant(tensor) = &op {
			self.known.insert(output, tensor.clone());
		}
		Ok((Step { name: node.name.clone(), op, inputs: slots, output, out }, cost))
	}
}

/// Bytes a value slot or a step takes besides its elements (a tensor's vectors and shape, a
/// step's argument list): a generous allowance, so that the bound stays a bound.
const OVERHEAD_BYTES: u64 = 128;

/// Bytes an element takes in a run: every value is held as an `i64`.
const ELEMENT_BYTES: u64 = 8;

/// The most bytes [`Model::run`] and the model it runs hold at once. A run keeps every value
/// until it returns, so the bound adds up:
/// - the model's own constants (initializers and `Constant` nodes);
/// - every value slot (constants, inputs and step outputs, each filled once);
/// - the caller's inputs and the outputs copied out;
/// - the largest step's temporaries: an element-wise op of two inputs broadcasts both to its
///   output's shape, `Max`/`Min` and a `Gemm` bias broadcast one at a time.
fn memory_bound(
	metas: &[Meta],
	constants: &[(usize, Tensor)],
	inputs: &[(usize, Declared)],
	outputs: &[(usize, Declared)],
	steps: &[Step],
) -> Result<u64, Error> {
	let elements = |shape: &[usize]| element_count(shape).map(|count| count as u64);
	let mut total = 0u64;
	let mut add = |count: Option<u64>| -> Result<(), Error> {
		let count = count.ok_or(Error::TooLarge)?;
		total = total.checked_add(count).ok_or(Error::TooLarge)?;
		Ok(())
	};
	for (_, tensor) in constants {
		add(Some(tensor.data.len() as u64))?;
	}
	for step in steps {
		if let Op::Constant(tensor) = &step.op {
			add(Some(tensor.data.len() as u64))?;
		}
	}
	for meta in metas {
		add(elements(&meta.shape))?;
	}
	for (_, declared) in inputs.iter().chain(outputs) {
		add(elements(&declared.shape))?;
	}
	let mut temporaries = 0u64;
	for step in steps {
		let copies = match step.op {
			Op::Arith(_) => 2,
			Op::Extremum { .. } | Op::Gemm { .. } => 1,
			_ => 0,
		};
		let output = elements(&step.out.shape).ok_or(Error::TooLarge)?;
		temporaries = temporaries.max(output.checked_mul(copies).ok_or(Error::TooLarge)?);
	}
	add(Some(temporaries))?;
	let overheads = (metas.len() as u64).saturating_add(steps.len() as u64);
	total
		.checked_mul(ELEMENT_BYTES)
		.and_then(|bytes| bytes.checked_add(overheads.checked_mul(OVERHEAD_BYTES)?))
		.ok_or(Error::TooLarge)
}

/// Integer types other than booleans.
const NUMBERS: [ElemType; 7] = [
	ElemType::U8,
	ElemType::I8,
	ElemType::U16,
	ElemType::I16,
	ElemType::I32,
	ElemType::I64,
	ElemType::U32,
];

/// Checks that `metas` share one type, among `allowed`.
fn same_type(node: &Node, metas: &[&Meta], allowed: &[ElemType]) -> Result<(), Error> {
	let elem = metas[0].elem;
	if !allowed.contains(&elem) {
		return Err(node.refuse("an input type the op does not take"));
	}
	if metas.iter().any(|meta| meta.elem != elem) {
		return Err(node.refuse("inputs of different types"));
	}
	Ok(())
}

/// `axis` (negative counts from the end) as an index below `rank`.
fn axis_index(node: &Node, axis: i64, rank: usize) -> Result<usize, Error> {
	let axis = if axis < 0 { axis + rank as i64 } else { axis };
	usize::try_from(axis)
		.ok()
		.filter(|axis| *axis < rank)
		.ok_or_else(|| node.refuse("axis out of range"))
}

/// `batch × m × k × n` as a cost.
fn mul3(batch: usize, m: usize, k: usize, n: usize) -> Result<u64, Error> {
	[batch, m, k, n]
		.iter()
		.try_fold(1u64, |total, dim| total.checked_mul(*dim as u64))
		.ok_or(Error::TooLarge)
}

/// The shapes of a matrix product of A (rank 1, or rank ≥ 2 with leading batch dimensions)
/// and B (a matrix): `(batch, m, k, n, output shape)`.
fn matmul_shape(
	node: &Node,
	a: &Meta,
	b: &Meta,
) -> Result<(usize, usize, usize, usize, Vec<usize>), Error> {
	if b.shape.len() != 2 {
		return Err(node.refuse("B must be a matrix"));
	}
	let (k, n) = (b.shape[0], b.shape[1]);
	match a.shape.len() {
		0 => Err(node.refuse("A must have at least one dimension")),
		1 => {
			if a.shape[0] != k {
				return Err(node.refuse("inner dimensions differ"));
			}
			Ok((1, 1, k, n, vec![n]))
		}
		rank => {
			if a.shape[rank - 1] != k {
				return Err(node.refuse("inner dimensions differ"));
			}
			let m = a.shape[rank - 2];
			let batch = a.shape[..rank - 2].iter().product();
			let mut shape = a.shape[..rank - 1].to_vec();
			shape.push(n);
			Ok((batch, m, k, n, shape))
		}
	}
}

/// The shape `shapes` broadcast to, numpy style, if they do.
pub(crate) fn broadcast(shapes: &[&Vec<usize>]) -> Option<Vec<usize>> {
	let rank = shapes.iter().map(|shape| shape.len()).max()?;
	let mut out = vec![1usize; rank];
	for shape in shapes {
		let offset = rank - shape.len();
		for (index, dim) in shape.iter().enumerate() {
			let slot = &mut out[offset + index];
			if *slot == 1 {
				*slot = *dim;
			} else if *dim != 1 && *dim != *slot {
				return None;
			}
		}
	}
	Some(out)
}

/// The shape a Reshape to `target` gives `shape` (0 copies a dimension unless `allow_zero`,
/// −1 is inferred).
fn reshape(
	node: &Node,
	shape: &[usize],
	target: &[i64],
	allow_zero: bool,
) -> Result<Vec<usize>, Error> {
	let total = element_count(shape).ok_or(Error::TooLarge)?;
	let mut out = Vec::with_capacity(target.len());
	let mut inferred = None;
	for (index, dim) in target.iter().enumerate() {
		match *dim {
			-1 if inferred.is_none() => {
				inferred = Some(index);
				out.push(1);
			}
			0 if !allow_zero => out.push(
				*shape.get(index).ok_or_else(|| node.refuse("0 copies a missing dimension"))?,
			),
			dim if (0..=MAX_ELEMENTS as i64).contains(&dim) => out.push(dim as usize),
			dim if dim > MAX_ELEMENTS as i64 => return Err(Error::TooLarge),
			_ => return Err(node.refuse("a negative dimension other than one -1")),
		}
	}
	let known = element_count(&out).ok_or(Error::TooLarge)?;
	if let Some(index) = inferred {
		if known == 0 || total % known != 0 {
			return Err(node.refuse("the -1 dimension cannot be inferred"));
		}
		out[index] = total / known;
	} else if known != total {
		return Err(node.refuse("the new shape holds a different number of elements"));
	}
	Ok(out)
}
