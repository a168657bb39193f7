//! `Model::memory` bounds what a run allocates: measured with a counting allocator on graphs
//! whose steps allocate the most temporaries (broadcasts of two inputs, many-input `Max`, a
//! `Gemm` bias), on a chain of values that all stay alive, and on the integer demo model.

use std::{
	alloc::{GlobalAlloc, Layout, System},
	sync::atomic::{AtomicUsize, Ordering},
};
use veritensor_interpreter::{
	writer,
	ElemType::{self, *},
	Model, Tensor,
};

/// The system allocator, counting the bytes live now and the most live since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
	unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
		let pointer = unsafe { System.alloc(layout) };
		if !pointer.is_null() {
			let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
			PEAK.fetch_max(live, Ordering::SeqCst);
		}
		pointer
	}

	unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
		unsafe { System.dealloc(pointer, layout) };
		LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
	}
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes a run of `model` on `inputs` held above what was live before it, outputs
/// included (they are dropped only after the peak is read).
fn run_peak(model: &Model, inputs: &[Tensor]) -> usize {
	let before = LIVE.load(Ordering::SeqCst);
	PEAK.store(before, Ordering::SeqCst);
	let outputs = model.run(inputs, model.cost()).expect("the run succeeds");
	let peak = PEAK.load(Ordering::SeqCst) - before;
	drop(outputs);
	peak
}

fn filled(elem: ElemType, shape: &[usize]) -> Tensor {
	let count = shape.iter().product::<usize>();
	Tensor::new(elem, shape.to_vec(), (0..count).map(|i| (i % 7) as i64 + 1).collect()).unwrap()
}

/// Checks that a run of `bytes` on inputs of `shapes` stays within the model's bound, and that
/// the bound is not loose by more than `slack` times (so that it still admits real models).
fn check(name: &str, bytes: &[u8], shapes: &[(ElemType, &[usize])], slack: usize) {
	let model = Model::parse(bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
	let inputs: Vec<Tensor> = shapes.iter().map(|(elem, shape)| filled(*elem, shape)).collect();
	let peak = run_peak(&model, &inputs);
	let bound = model.memory() as usize;
	assert!(peak <= bound, "{name}: a run held {peak} bytes, above the bound of {bound}");
	assert!(bound <= peak * slack, "{name}: the bound {bound} is over {slack}x the peak {peak}");
}

// One test only: the counter sees every thread's allocations, so nothing may run beside it.
#[test]
fn runs_stay_within_the_memory_bound() {
	// Both inputs broadcast to a 600 x 600 output: two full copies and the output at once.
	let add = writer::model(
		14,
		&[writer::node("Add", &["a", "b"], &["y"], &[])],
		&[],
		&[writer::declared("a", I32, &[600, 1]), writer::declared("b", I32, &[1, 600])],
		&[writer::declared("y", I32, &[600, 600])],
	);
	check("broadcast Add", &add, &[(I32, &[600, 1]), (I32, &[1, 600])], 3);

	// A Max of eight broadcast inputs.
	let names: Vec<String> = (0..8).map(|i| format!("x{i}")).collect();
	let refs: Vec<&str> = names.iter().map(String::as_str).collect();
	let declared: Vec<Vec<u8>> = names
		.iter()
		.enumerate()
		.map(|(i, name)| {
			writer::declared(name, I32, if i % 2 == 0 { &[400, 1] } else { &[1, 400] })
		})
		.collect();
	let shapes: Vec<(ElemType, &[usize])> = (0..8)
		.map(|i| (I32, if i % 2 == 0 { &[400usize, 1][..] } else { &[1usize, 400][..] }))
		.collect();
	let max = writer::model(
		14,
		&[writer::node("Max", &refs, &["y"], &[])],
		&[],
		&declared,
		&[writer::declared("y", I32, &[400, 400])],
	);
	check("many-input Max", &max, &shapes, 3);

	// A Gemm whose bias row broadcasts to the product.
	let gemm = writer::model(
		14,
		&[writer::node("Gemm", &["a", "b", "c"], &["y"], &[])],
		&[],
		&[
			writer::declared("a", I32, &[300, 8]),
			writer::declared("b", I32, &[8, 300]),
			writer::declared("c", I32, &[1, 300]),
		],
		&[writer::declared("y", I32, &[300, 300])],
	);
	check("Gemm with a bias", &gemm, &[(I32, &[300, 8]), (I32, &[8, 300]), (I32, &[1, 300])], 3);

	// A chain of element-wise steps: every intermediate value stays alive until the run ends.
	let steps: Vec<Vec<u8>> = (0..6)
		.map(|i| {
			let input = if i == 0 { String::from("x") } else { format!("v{}", i - 1) };
			let output = if i == 5 { String::from("y") } else { format!("v{i}") };
			writer::node("Relu", &[&input], &[&output], &[])
		})
		.collect();
	let chain = writer::model(
		14,
		&steps,
		&[],
		&[writer::declared("x", I32, &[200, 200])],
		&[writer::declared("y", I32, &[200, 200])],
	);
	check("a chain of values", &chain, &[(I32, &[200, 200])], 3);

	// The integer demo model, whose constants dominate.
	let demo = std::fs::read(concat!(
		env!("CARGO_MANIFEST_DIR"),
		"/../executor/demo-models/mlp_digits_int.onnx"
	))
	.unwrap();
	check("the integer demo model", &demo, &[(U8, &[1, 64])], 8);
	// Known before any run, and stated in docs/interpreter.md.
	assert_eq!(Model::parse(&demo).unwrap().memory(), 85_712);
}
