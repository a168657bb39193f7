//! Each op's exact semantics, and the refusals of what is outside the subset, on small graphs.

use veritensor_interpreter::{
	writer::{self, Dim},
	ElemType::{self, *},
	Error, Model, Tensor,
};

fn t(elem: ElemType, shape: &[usize], data: &[i64]) -> Tensor {
	Tensor::new(elem, shape.to_vec(), data.to_vec()).unwrap()
}

/// A graph of one node `op` over `inputs` (name, tensor), with constant `initializers`,
/// giving `output` of `out_elem` and `out_shape`.
fn one_node(
	op: &str,
	inputs: &[(&str, &Tensor)],
	initializers: &[(&str, &Tensor)],
	node_inputs: &[&str],
	attributes: &[Vec<u8>],
	out_elem: ElemType,
	out_shape: &[usize],
) -> Vec<u8> {
	let node = writer::node(op, node_inputs, &["y"], attributes);
	let inits: Vec<Vec<u8>> = initializers
		.iter()
		.map(|(name, tensor)| writer::int_tensor(name, tensor.elem, &tensor.shape, &tensor.data))
		.collect();
	let declared: Vec<Vec<u8>> = inputs
		.iter()
		.map(|(name, tensor)| writer::declared(name, tensor.elem, &tensor.shape))
		.collect();
	writer::model(14, &[node], &inits, &declared, &[writer::declared("y", out_elem, out_shape)])
}

fn run(model: &[u8], inputs: &[&Tensor]) -> Result<Tensor, Error> {
	let model = Model::parse(model)?;
	let inputs: Vec<Tensor> = inputs.iter().map(|tensor| (*tensor).clone()).collect();
	Ok(model.run(&inputs, model.cost())?.remove(0))
}

#[test]
fn broadcasting_pairs_every_element_across_ranks_and_unit_dimensions() {
	// a: [1, 2, 1, 1, 3] and b: [4, 1, 1] give [1, 2, 4, 1, 3]: out[0][i][j][0][k] = a[i][k] + b[j].
	let a_data: Vec<i64> = (0..6).map(|v| v * 10).collect();
	let b_data: Vec<i64> = (0..4).map(|v| v * 1000).collect();
	let a = t(I32, &[1, 2, 1, 1, 3], &a_data);
	let b = t(I32, &[4, 1, 1], &b_data);
	let add =
		one_node("Add", &[("a", &a), ("b", &b)], &[], &["a", "b"], &[], I32, &[1, 2, 4, 1, 3]);
	let mut expected = Vec::new();
	for i in 0..2 {
		for b_value in &b_data {
			for k in 0..3 {
				expected.push(a_data[i * 3 + k] + b_value);
			}
		}
	}
	assert_eq!(run(&add, &[&a, &b]).unwrap().data, expected);
}

#[test]
fn integer_division_truncates_toward_zero_and_refuses_zero() {
	let a = t(I32, &[4], &[7, -7, 7, -7]);
	let b = t(I32, &[4], &[2, 2, -2, -2]);
	let model = one_node("Div", &[("a", &a), ("b", &b)], &[], &["a", "b"], &[], I32, &[4]);
	assert_eq!(run(&model, &[&a, &b]).unwrap().data, vec![3, -3, -3, 3]);
	let zero = t(I32, &[4], &[1, 1, 0, 1]);
	assert!(matches!(run(&model, &[&a, &zero]), Err(Error::DivisionByZero { .. })));
	// The one overflowing division wraps.
	let min = t(I32, &[4], &[i32::MIN as i64, 1, 1, 1]);
	let minus_one = t(I32, &[4], &[-1, 1, 1, 1]);
	assert_eq!(run(&model, &[&min, &minus_one]).unwrap().data[0], i32::MIN as i64);
}

#[test]
fn arithmetic_wraps_to_its_type_and_broadcasts() {
	let a = t(U8, &[2, 2], &[250, 1, 2, 3]);
	let b = t(U8, &[2], &[10, 255]);
	let add = one_node("Add", &[("a", &a), ("b", &b)], &[], &["a", "b"], &[], U8, &[2, 2]);
	assert_eq!(run(&add, &[&a, &b]).unwrap().data, vec![4, 0, 12, 2]);
	let sub = one_node("Sub", &[("a", &a), ("b", &b)], &[], &["a", "b"], &[], U8, &[2, 2]);
	assert_eq!(run(&sub, &[&a, &b]).unwrap().data, vec![240, 2, 248, 4]);
	let c = t(I8, &[2], &[100, -100]);
	let d = t(I8, &[1], &[3]);
	let mul = one_node("Mul", &[("c", &c), ("d", &d)], &[], &["c", "d"], &[], I8, &[2]);
	// 300 and −300 wrap to 44 and −44.
	assert_eq!(run(&mul, &[&c, &d]).unwrap().data, vec![44, -44]);
}

#[test]
fn casts_between_integer_types_wrap_and_booleans_are_zero_or_one() {
	let x = t(I32, &[4], &[300, -1, 0, 65_536]);
	let to_u8 = one_node("Cast", &[("x", &x)], &[], &["x"], &[writer::attr_int("to", 2)], U8, &[4]);
	assert_eq!(run(&to_u8, &[&x]).unwrap().data, vec![44, 255, 0, 0]);
	let to_i16 =
		one_node("Cast", &[("x", &x)], &[], &["x"], &[writer::attr_int("to", 5)], I16, &[4]);
	assert_eq!(run(&to_i16, &[&x]).unwrap().data, vec![300, -1, 0, 0]);
	let to_bool =
		one_node("Cast", &[("x", &x)], &[], &["x"], &[writer::attr_int("to", 9)], Bool, &[4]);
	assert_eq!(run(&to_bool, &[&x]).unwrap().data, vec![1, 1, 0, 1]);
	let to_float =
		one_node("Cast", &[("x", &x)], &[], &["x"], &[writer::attr_int("to", 1)], I32, &[4]);
	assert!(matches!(Model::parse(&to_float), Err(Error::FloatTensor(name)) if name == "y"));
}

#[test]
fn max_min_relu_and_clip() {
	let a = t(I16, &[3], &[-5, 0, 9]);
	let b = t(I16, &[1], &[1]);
	let c = t(I16, &[3], &[2, -2, 20]);
	let max =
		one_node("Max", &[("a", &a), ("b", &b), ("c", &c)], &[], &["a", "b", "c"], &[], I16, &[3]);
	assert_eq!(run(&max, &[&a, &b, &c]).unwrap().data, vec![2, 1, 20]);
	let min =
		one_node("Min", &[("a", &a), ("b", &b), ("c", &c)], &[], &["a", "b", "c"], &[], I16, &[3]);
	assert_eq!(run(&min, &[&a, &b, &c]).unwrap().data, vec![-5, -2, 1]);
	let relu = one_node("Relu", &[("a", &a)], &[], &["a"], &[], I16, &[3]);
	assert_eq!(run(&relu, &[&a]).unwrap().data, vec![0, 0, 9]);
	let (low, high) = (t(I16, &[], &[-1]), t(I16, &[], &[5]));
	let clip = one_node(
		"Clip",
		&[("a", &a)],
		&[("lo", &low), ("hi", &high)],
		&["a", "lo", "hi"],
		&[],
		I16,
		&[3],
	);
	assert_eq!(run(&clip, &[&a]).unwrap().data, vec![-1, 0, 5]);
	let clip_high =
		one_node("Clip", &[("a", &a)], &[("hi", &high)], &["a", "", "hi"], &[], I16, &[3]);
	assert_eq!(run(&clip_high, &[&a]).unwrap().data, vec![-5, 0, 5]);
}

#[test]
fn argmax_takes_the_first_of_equal_maxima_unless_told_the_last() {
	let x = t(I32, &[2, 3], &[1, 7, 7, 4, 4, 2]);
	let first = one_node(
		"ArgMax",
		&[("x", &x)],
		&[],
		&["x"],
		&[writer::attr_int("axis", 1), writer::attr_int("keepdims", 0)],
		I64,
		&[2],
	);
	assert_eq!(run(&first, &[&x]).unwrap().data, vec![1, 0]);
	let last = one_node(
		"ArgMax",
		&[("x", &x)],
		&[],
		&["x"],
		&[writer::attr_int("axis", -1), writer::attr_int("select_last_index", 1)],
		I64,
		&[2, 1],
	);
	assert_eq!(run(&last, &[&x]).unwrap().data, vec![2, 1]);
	let columns = one_node("ArgMax", &[("x", &x)], &[], &["x"], &[], I64, &[1, 3]);
	assert_eq!(run(&columns, &[&x]).unwrap().data, vec![1, 0, 0]);
}

#[test]
fn matrix_products_with_zero_points_transposes_and_wrapping() {
	let a = t(U8, &[2, 3], &[1, 2, 3, 4, 5, 6]);
	let b = t(I8, &[3, 2], &[1, -1, 2, -2, 3, -3]);
	let zero = t(U8, &[], &[1]);
	let model = one_node(
		"MatMulInteger",
		&[("a", &a)],
		&[("b", &b), ("z", &zero)],
		&["a", "b", "z"],
		&[],
		I32,
		&[2, 2],
	);
	// (A − 1) × B: rows [0 1 2] and [3 4 5].
	assert_eq!(run(&model, &[&a]).unwrap().data, vec![8, -8, 26, -26]);

	let big = t(I32, &[1, 2], &[i32::MAX as i64, 1]);
	let ones = t(I32, &[2, 1], &[1, 1]);
	let matmul =
		one_node("MatMul", &[("a", &big), ("b", &ones)], &[], &["a", "b"], &[], I32, &[1, 1]);
	assert_eq!(run(&matmul, &[&big, &ones]).unwrap().data, vec![i32::MIN as i64]);

	let a = t(I64, &[3, 2], &[1, 4, 2, 5, 3, 6]);
	let b = t(I64, &[2, 3], &[1, 2, 3, -1, -2, -3]);
	let c = t(I64, &[3], &[10, 20, 30]);
	let gemm = one_node(
		"Gemm",
		&[("a", &a), ("b", &b)],
		&[("c", &c)],
		&["a", "b", "c"],
		&[
			writer::attr_int("transA", 1),
			writer::attr_int("transB", 1),
			writer::attr_float_bits("alpha", 0x3f80_0000),
		],
		I64,
		&[2, 2],
	);
	// Aᵀ = [[1 2 3] [4 5 6]], Bᵀ = [[1 −1] [2 −2] [3 −3]]; C broadcasts over rows... of [2, 2]
	// only if it has two columns: refused here, so use a two-element C.
	assert!(matches!(Model::parse(&gemm), Err(Error::Node { .. })));
	let c = t(I64, &[2], &[10, 20]);
	let gemm = one_node(
		"Gemm",
		&[("a", &a), ("b", &b)],
		&[("c", &c)],
		&["a", "b", "c"],
		&[writer::attr_int("transA", 1), writer::attr_int("transB", 1)],
		I64,
		&[2, 2],
	);
	assert_eq!(run(&gemm, &[&a, &b]).unwrap().data, vec![14 + 10, -14 + 20, 32 + 10, -32 + 20]);
	let scaled = one_node(
		"Gemm",
		&[("a", &a), ("b", &b)],
		&[],
		&["a", "b"],
		&[
			writer::attr_int("transA", 1),
			writer::attr_int("transB", 1),
			writer::attr_float_bits("alpha", 0x4000_0000),
		],
		I64,
		&[2, 2],
	);
	assert!(matches!(
		Model::parse(&scaled),
		Err(Error::Node { why: "alpha and beta must be 1.0", .. })
	));
}

#[test]
fn shape_ops_move_no_element() {
	let x = t(I32, &[2, 3], &[1, 2, 3, 4, 5, 6]);
	let shape = t(I64, &[3], &[0, -1, 1]);
	let reshape =
		one_node("Reshape", &[("x", &x)], &[("s", &shape)], &["x", "s"], &[], I32, &[2, 3, 1]);
	assert_eq!(run(&reshape, &[&x]).unwrap().shape, vec![2, 3, 1]);
	let flatten = one_node(
		"Flatten",
		&[("x", &x)],
		&[],
		&["x"],
		&[writer::attr_int("axis", 0)],
		I32,
		&[1, 6],
	);
	assert_eq!(run(&flatten, &[&x]).unwrap().data, x.data);
	let axes = t(I64, &[2], &[0, -1]);
	let unsqueeze = one_node(
		"Unsqueeze",
		&[("x", &x)],
		&[("axes", &axes)],
		&["x", "axes"],
		&[],
		I32,
		&[1, 2, 3, 1],
	);
	assert_eq!(run(&unsqueeze, &[&x]).unwrap().shape, vec![1, 2, 3, 1]);
	let z = t(I32, &[1, 3, 1], &[7, 8, 9]);
	let squeeze = one_node("Squeeze", &[("z", &z)], &[], &["z"], &[], I32, &[3]);
	assert_eq!(run(&squeeze, &[&z]).unwrap().data, vec![7, 8, 9]);
	let identity = one_node("Identity", &[("z", &z)], &[], &["z"], &[], I32, &[1, 3, 1]);
	assert_eq!(run(&identity, &[&z]).unwrap(), z);
	// A shape computed from data is a dynamic shape: refused.
	let dynamic =
		one_node("Reshape", &[("x", &x), ("s", &shape)], &[], &["x", "s"], &[], I32, &[2, 3, 1]);
	assert!(matches!(
		Model::parse(&dynamic),
		Err(Error::Node { why: "a shape or axes input that is not a constant", .. })
	));
}

#[test]
fn a_constant_node_feeds_the_graph() {
	let value = writer::int_tensor("c", I32, &[2], &[5, 6]);
	let nodes = [
		writer::node("Constant", &[], &["c"], &[writer::attr_tensor("value", &value)]),
		writer::node("Add", &["x", "c"], &["y"], &[]),
	];
	let model = writer::model(
		13,
		&nodes,
		&[],
		&[writer::declared("x", I32, &[2])],
		&[writer::declared("y", I32, &[2])],
	);
	assert_eq!(run(&model, &[&t(I32, &[2], &[1, 1])]).unwrap().data, vec![6, 7]);
}

#[test]
fn what_is_outside_the_subset_is_refused_by_name() {
	let x = t(I32, &[2], &[1, 2]);
	// An op outside the subset, named with its node.
	let conv = one_node("Conv", &[("x", &x)], &[], &["x"], &[], I32, &[2]);
	assert!(matches!(Model::parse(&conv), Err(Error::UnsupportedOp { op, .. }) if op == "Conv"));
	// A float input.
	let node = writer::node("Identity", &["f"], &["y"], &[]);
	let float_input = writer::model(
		13,
		&[node],
		&[],
		&[writer::value_info("f", 1, &[Dim::Value(2)])],
		&[writer::value_info("y", 1, &[Dim::Value(2)])],
	);
	assert_eq!(Model::parse(&float_input).unwrap_err(), Error::FloatTensor("f".into()));
	// A float initializer.
	let weights = writer::tensor("w", 1, &[2], &[0, 0], 4);
	let float_init = writer::model(
		13,
		&[writer::node("Add", &["x", "w"], &["y"], &[])],
		&[weights],
		&[writer::declared("x", I32, &[2])],
		&[writer::declared("y", I32, &[2])],
	);
	assert_eq!(Model::parse(&float_init).unwrap_err(), Error::FloatTensor("w".into()));
	// A dynamic batch dimension.
	let dynamic = writer::model(
		13,
		&[writer::node("Identity", &["x"], &["y"], &[])],
		&[],
		&[writer::value_info("x", 6, &[Dim::Param("batch".into()), Dim::Value(2)])],
		&[writer::declared("y", I32, &[2])],
	);
	assert_eq!(Model::parse(&dynamic).unwrap_err(), Error::DynamicShape("x".into()));
	// An opset older than the semantics implemented.
	let old = writer::model(
		11,
		&[writer::node("Identity", &["x"], &["y"], &[])],
		&[],
		&[writer::declared("x", I32, &[2])],
		&[writer::declared("y", I32, &[2])],
	);
	assert!(matches!(Model::parse(&old), Err(Error::Unsupported(_))));
	// Mixed types.
	let b = t(I64, &[2], &[1, 2]);
	let mixed = one_node("Add", &[("x", &x), ("b", &b)], &[], &["x", "b"], &[], I32, &[2]);
	assert!(matches!(
		Model::parse(&mixed),
		Err(Error::Node { why: "inputs of different types", .. })
	));
	// A declared output the graph does not compute.
	let lying = one_node("Identity", &[("x", &x)], &[], &["x"], &[], I64, &[2]);
	assert!(matches!(Model::parse(&lying), Err(Error::Node { .. })));
}

#[test]
fn hostile_shapes_are_refused_before_any_work() {
	// More dimensions than the rank limit.
	let deep = vec![1usize; veritensor_interpreter::MAX_RANK + 1];
	let model = writer::model(
		14,
		&[writer::node("Identity", &["x"], &["y"], &[])],
		&[],
		&[writer::declared("x", I32, &deep)],
		&[writer::declared("y", I32, &deep)],
	);
	assert_eq!(Model::parse(&model).unwrap_err(), Error::TooLarge);
	// A dimension above the element limit, even in an empty tensor.
	let huge = [0usize, 1 << 29];
	let model = writer::model(
		14,
		&[writer::node("Identity", &["x"], &["y"], &[])],
		&[],
		&[writer::declared("x", I32, &huge)],
		&[writer::declared("y", I32, &huge)],
	);
	assert_eq!(Model::parse(&model).unwrap_err(), Error::TooLarge);
	// A Reshape target that only a 32-bit machine would truncate to a valid shape.
	let x = t(I32, &[5], &[1, 2, 3, 4, 5]);
	let target = t(I64, &[1], &[(1i64 << 32) + 5]);
	let reshape = one_node("Reshape", &[("x", &x)], &[("s", &target)], &["x", "s"], &[], I32, &[5]);
	assert_eq!(Model::parse(&reshape).unwrap_err(), Error::TooLarge);
}

#[test]
fn an_empty_inner_dimension_still_costs_its_output() {
	let a = t(I32, &[3, 0], &[]);
	let b = t(I32, &[0, 4], &[]);
	let model = one_node("MatMul", &[("a", &a)], &[("b", &b)], &["a", "b"], &[], I32, &[3, 4]);
	let parsed = Model::parse(&model).unwrap();
	// 12 outputs written, plus the copies of the input, the constant and the output and the
	// node's base: never less than the output it allocates.
	assert!(parsed.cost() >= 12);
	assert_eq!(run(&model, &[&a]).unwrap().data, vec![0; 12]);
}

#[test]
fn empty_products_of_huge_dimensions_take_no_time() {
	// Each MatMul's output is empty, so its cost is a node's base, but an op that looped over
	// the batch would run 2^27 times per node: 24 nodes would take minutes.
	let huge = writer::int_tensor("a", I32, &[1 << 27, 0, 1], &[]);
	let one = writer::int_tensor("b", I32, &[1, 1], &[1]);
	let mut nodes: Vec<Vec<u8>> =
		(0..24).map(|i| writer::node("MatMul", &["a", "b"], &[&format!("e{i}")], &[])).collect();
	nodes.push(writer::node("Relu", &["x"], &["y"], &[]));
	let model = writer::model(
		14,
		&nodes,
		&[huge, one],
		&[writer::declared("x", I32, &[1])],
		&[writer::declared("y", I32, &[1])],
	);
	let parsed = Model::parse(&model).unwrap();
	assert!(parsed.cost() < 10_000, "cost {}", parsed.cost());
	let started = std::time::Instant::now();
	let x = t(I32, &[1], &[-3]);
	assert_eq!(parsed.run(&[x], parsed.cost()).unwrap()[0].data, vec![0]);
	assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn sixty_four_bit_products_wrap_without_overflowing() {
	let a = t(I64, &[1, 2], &[i64::MIN, i64::MIN]);
	let b = t(I64, &[2, 1], &[i64::MIN, i64::MIN]);
	let model = one_node("MatMul", &[("a", &a), ("b", &b)], &[], &["a", "b"], &[], I64, &[1, 1]);
	// 2 × 2^126 wraps to 0 in the low 64 bits.
	assert_eq!(run(&model, &[&a, &b]).unwrap().data, vec![0]);
}

#[test]
fn unknown_attributes_older_opsets_and_repeated_fields_are_refused() {
	let x = t(I32, &[1, 2], &[1, 2]);
	// `axes` as an attribute (opsets before 13) would be ignored if accepted.
	let squeeze =
		one_node("Squeeze", &[("x", &x)], &[], &["x"], &[writer::attr_int("axes", 0)], I32, &[2]);
	assert!(matches!(Model::parse(&squeeze), Err(Error::Node { .. })));
	// An attribute given twice.
	let twice = one_node(
		"Flatten",
		&[("x", &x)],
		&[],
		&["x"],
		&[writer::attr_int("axis", 1), writer::attr_int("axis", 0)],
		I32,
		&[1, 2],
	);
	assert_eq!(Model::parse(&twice).unwrap_err(), Error::Malformed("an attribute given twice"));
	// More attributes than any op takes: refused as they are read, before thousands of distinct
	// names could each be compared with all the others.
	let crowded: Vec<Vec<u8>> = (0..=veritensor_interpreter::MAX_NODE_ATTRIBUTES)
		.map(|index| writer::attr_int(&format!("a{index}"), 0))
		.collect();
	let crowded = one_node("Flatten", &[("x", &x)], &[], &["x"], &crowded, I32, &[1, 2]);
	assert_eq!(
		Model::parse(&crowded).unwrap_err(),
		Error::Malformed("a node with more attributes than any op takes")
	);
	// 8-bit arithmetic and integer Relu arrive in opset 14.
	let u = t(U8, &[2], &[1, 2]);
	let node = writer::node("Add", &["u", "u"], &["y"], &[]);
	let opset_13 = writer::model(
		13,
		std::slice::from_ref(&node),
		&[],
		&[writer::declared("u", U8, &[2])],
		&[writer::declared("y", U8, &[2])],
	);
	assert!(matches!(Model::parse(&opset_13), Err(Error::Node { .. })));
	let opset_14 = writer::model(
		14,
		&[node],
		&[],
		&[writer::declared("u", U8, &[2])],
		&[writer::declared("y", U8, &[2])],
	);
	assert_eq!(run(&opset_14, &[&u]).unwrap().data, vec![2, 4]);
	// A second graph field: protobuf would merge it, another reader might take either.
	let model = one_node("Identity", &[("x", &x)], &[], &["x"], &[], I32, &[1, 2]);
	let mut doubled = model.clone();
	doubled.extend_from_slice(&model);
	assert!(matches!(Model::parse(&doubled), Err(Error::Malformed(_))));
	// More inputs than the op takes.
	let extra = one_node("Relu", &[("x", &x)], &[], &["x", "x"], &[], I32, &[1, 2]);
	assert!(matches!(Model::parse(&extra), Err(Error::Node { .. })));
}
