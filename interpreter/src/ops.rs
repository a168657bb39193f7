//! The ops' arithmetic. Every result is computed in 128 bits and wrapped to the output type
//! (two's complement), so overflow is defined and the same everywhere. Sums of products wrap in
//! 128 bits too (only 64-bit products can reach that), which leaves the low 64 bits exact; see
//! `docs/interpreter.md` for each op.

use crate::{
	plan::{Arith, Op, Step},
	tensor::{element_count, ElemType, Tensor},
	Error,
};
use alloc::{vec, vec::Vec};

/// Runs `step` on its inputs (`None` for omitted optional ones).
pub(crate) fn run(step: &Step, args: &[Option<&Tensor>]) -> Result<Tensor, Error> {
	let arg = |index: usize| -> Result<&Tensor, Error> {
		args.get(index).copied().flatten().ok_or(Error::Node {
			node: step.name.clone(),
			op: alloc::string::String::from("(step)"),
			why: "an input was not computed",
		})
	};
	let out = &step.out;
	let data = match &step.op {
		Op::MatMulInteger { batch, m, k, n } => {
			let (a, b) = (arg(0)?, arg(1)?);
			let zero = |index: usize| args.get(index).copied().flatten().map_or(0, |t| t.data[0]);
			let (a_zero, b_zero) = (zero(2), zero(3));
			matmul(&a.data, &b.data, *batch, *m, *k, *n, a_zero, b_zero, out.elem)
		}
		Op::MatMul { batch, m, k, n } => {
			matmul(&arg(0)?.data, &arg(1)?.data, *batch, *m, *k, *n, 0, 0, out.elem)
		}
		Op::Gemm { m, k, n, trans_a, trans_b } => {
			let (a, b) = (arg(0)?, arg(1)?);
			let c = args.get(2).copied().flatten().map(|c| broadcast_to(c, &out.shape));
			let mut data = Vec::with_capacity(m * n);
			for row in 0..*m {
				for col in 0..*n {
					let mut sum: i128 = 0;
					for inner in 0..*k {
						let x = if *trans_a {
							a.data[inner * m + row]
						} else {
							a.data[row * k + inner]
						};
						let y = if *trans_b {
							b.data[col * k + inner]
						} else {
							b.data[inner * n + col]
						};
						sum = sum.wrapping_add(i128::from(x).wrapping_mul(i128::from(y)));
					}
					if let Some(c) = &c {
						sum = sum.wrapping_add(i128::from(c[row * n + col]));
					}
					data.push(out.elem.wrap(sum));
				}
			}
			data
		}
		Op::Arith(arith) => {
			let (a, b) = (broadcast_to(arg(0)?, &out.shape), broadcast_to(arg(1)?, &out.shape));
			let mut data = Vec::with_capacity(a.len());
			for (x, y) in a.iter().zip(&b) {
				let (x, y) = (i128::from(*x), i128::from(*y));
				let value = match arith {
					Arith::Add => x + y,
					Arith::Sub => x - y,
					Arith::Mul => x * y,
					Arith::Div => {
						if y == 0 {
							return Err(Error::DivisionByZero { node: step.name.clone() });
						}
						// Rust's integer division truncates toward zero, as ONNX's does.
						x / y
					}
				};
				data.push(out.elem.wrap(value));
			}
			data
		}
		Op::Extremum { max } => {
			let mut data = broadcast_to(arg(0)?, &out.shape);
			for index in 1..args.len() {
				let other = broadcast_to(arg(index)?, &out.shape);
				for (value, candidate) in data.iter_mut().zip(other) {
					if (*max && candidate > *value) || (!*max && candidate < *value) {
						*value = candidate;
					}
				}
			}
			data
		}
		Op::Relu => arg(0)?.data.iter().map(|x| (*x).max(0)).collect(),
		Op::Clip => {
			let x = arg(0)?;
			let bound = |index: usize| args.get(index).copied().flatten().map(|t| t.data[0]);
			let (low, high) = (bound(1), bound(2));
			x.data
				.iter()
				.map(|value| {
					let value = low.map_or(*value, |low| (*value).max(low));
					high.map_or(value, |high| value.min(high))
				})
				.collect()
		}
		Op::Cast => arg(0)?.data.iter().map(|x| out.elem.wrap(i128::from(*x))).collect(),
		Op::ArgMax { axis, last } => {
			let x = arg(0)?;
			let outer: usize = x.shape[..*axis].iter().product();
			let len = x.shape[*axis];
			let inner: usize = x.shape[axis + 1..].iter().product();
			let mut data = Vec::with_capacity(outer * inner);
			for o in 0..outer {
				for i in 0..inner {
					let mut best = 0usize;
					for index in 1..len {
						let value = x.data[(o * len + index) * inner + i];
						let current = x.data[(o * len + best) * inner + i];
						if value > current || (*last && value == current) {
							best = index;
						}
					}
					data.push(best as i64);
				}
			}
			data
		}
		Op::Reshape => arg(0)?.data.clone(),
		Op::Constant(tensor) => tensor.data.clone(),
	};
	Ok(Tensor { elem: out.elem, shape: out.shape.clone(), data })
}

/// `(A − a_zero) × (B − b_zero)` for `batch` matrices A of `m × k` and one B of `k × n`,
/// each sum exact and wrapped to `elem`.
#[allow(clippy::too_many_arguments)]
fn matmul(
	a: &[i64],
	b: &[i64],
	batch: usize,
	m: usize,
	k: usize,
	n: usize,
	a_zero: i64,
	b_zero: i64,
	elem: ElemType,
) -> Vec<i64> {
	let mut data = Vec::with_capacity(batch * m * n);
	for matrix in 0..batch {
		let a = &a[matrix * m * k..(matrix + 1) * m * k];
		for row in 0..m {
			for col in 0..n {
				let mut sum: i128 = 0;
				for inner in 0..k {
					let x = i128::from(a[row * k + inner]) - i128::from(a_zero);
					let y = i128::from(b[inner * n + col]) - i128::from(b_zero);
					sum = sum.wrapping_add(x.wrapping_mul(y));
				}
				data.push(elem.wrap(sum));
			}
		}
	}
	data
}

/// `tensor`'s elements broadcast to `shape` (numpy style; the planner checked they broadcast).
fn broadcast_to(tensor: &Tensor, shape: &[usize]) -> Vec<i64> {
	if tensor.shape == shape {
		return tensor.data.clone();
	}
	let total = element_count(shape).unwrap_or(0);
	let offset = shape.len() - tensor.shape.len();
	// Each output dimension longer than one, with its stride in the input (zero where the input
	// is broadcast). Dimensions of one never move, so they are left out: an element then costs
	// a constant number of steps on average, whatever the rank, as the cost model assumes.
	let mut dims: Vec<(usize, usize)> = Vec::with_capacity(shape.len());
	let mut stride = 1usize;
	for index in (0..shape.len()).rev() {
		let input = index.checked_sub(offset).map(|index| tensor.shape[index]);
		if shape[index] > 1 {
			dims.push((shape[index], if input.unwrap_or(1) == 1 { 0 } else { stride }));
		}
		stride *= input.unwrap_or(1);
	}
	let mut data = Vec::with_capacity(total);
	let mut position = vec![0usize; dims.len()];
	let mut source = 0usize;
	for _ in 0..total {
		data.push(tensor.data[source]);
		// Innermost first: `dims` runs from the last output dimension to the first.
		for (position, (extent, stride)) in position.iter_mut().zip(&dims) {
			*position += 1;
			source += stride;
			if *position < *extent {
				break;
			}
			source -= stride * extent;
			*position = 0;
		}
	}
	data
}
