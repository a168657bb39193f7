//! Malformed and hostile bytes are refused, never a panic: every truncation of the demo model,
//! and seeded random mutations of it (a bounded fuzz run; `INTERPRETER_FUZZ_ITERATIONS` runs
//! longer).

use veritensor_interpreter::{Model, Tensor};

const MODEL: &[u8] = include_bytes!("../../executor/demo-models/mlp_digits_int.onnx");

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	fn below(&mut self, n: usize) -> usize {
		(self.next() % n as u64) as usize
	}
}

/// Parses `bytes`; if they parse, runs them on zero inputs within their own cost.
fn try_everything(bytes: &[u8]) -> bool {
	let Ok(model) = Model::parse(bytes) else { return false };
	let inputs: Vec<Tensor> = model
		.inputs()
		.map(|(_, elem, shape)| {
			let count = shape.iter().product();
			Tensor::new(elem, shape.to_vec(), vec![0; count]).unwrap()
		})
		.collect();
	let _ = model.run(&inputs, model.cost());
	true
}

#[test]
fn every_truncation_of_the_model_is_refused_or_harmless() {
	let mut parsed = 0;
	for length in 0..MODEL.len() {
		if try_everything(&MODEL[..length]) {
			parsed += 1;
		}
	}
	// A cut inside a field is always an error; a model cut at a field boundary loses its graph,
	// outputs or opset and is refused too.
	assert_eq!(parsed, 0, "a truncated model parsed");
}

#[test]
fn random_mutations_of_the_model_never_panic() {
	let iterations = std::env::var("INTERPRETER_FUZZ_ITERATIONS")
		.ok()
		.and_then(|value| value.parse().ok())
		.unwrap_or(20_000usize);
	let mut rng = Rng(0x005e_ed0f_f00d);
	let mut parsed = 0;
	for _ in 0..iterations {
		let mut bytes = MODEL.to_vec();
		for _ in 0..1 + rng.below(4) {
			let at = rng.below(bytes.len());
			match rng.below(4) {
				0 => bytes[at] = rng.next() as u8,
				1 => bytes[at] ^= 1 << rng.below(8),
				2 => bytes.insert(at, rng.next() as u8),
				_ => {
					bytes.remove(at);
				}
			}
		}
		if try_everything(&bytes) {
			parsed += 1;
		}
	}
	// Many mutations land in weights, which stay valid models.
	assert!(parsed > 0 && parsed < iterations, "{parsed} of {iterations} mutations parsed");
}
