//! Serde for byte strings that hold text (names, URIs, versions): they are written as strings,
//! not arrays of numbers, so that a chain spec stays readable. Use `#[serde(with =
//! "serde_text")]` on a `BoundedVec<u8, S>`, and `#[serde(with = "serde_text::list")]` on a
//! bounded list of them.
//!
//! Reading refuses text that is not UTF-8 or longer than its bound, naming the limit; writing
//! refuses bytes that are not UTF-8.

use alloc::{format, string::String, vec::Vec};
use core::{fmt, marker::PhantomData};
use serde::{de, ser, Deserialize, Deserializer, Serialize, Serializer};
use sp_core::Get;
use sp_runtime::BoundedVec;

/// Writes `text` as a string; fails if it is not UTF-8.
pub fn serialize<S, Ser>(text: &BoundedVec<u8, S>, serializer: Ser) -> Result<Ser::Ok, Ser::Error>
where
	S: Get<u32>,
	Ser: Serializer,
{
	let text = core::str::from_utf8(text)
		.map_err(|error| ser::Error::custom(format!("text is not UTF-8: {error}")))?;
	serializer.serialize_str(text)
}

/// Reads a string of at most `S` bytes.
pub fn deserialize<'de, S, D>(deserializer: D) -> Result<BoundedVec<u8, S>, D::Error>
where
	S: Get<u32>,
	D: Deserializer<'de>,
{
	deserializer.deserialize_string(TextVisitor::<S>(PhantomData))
}

/// Accepts a string, or bytes that are UTF-8 (for formats without strings).
struct TextVisitor<S>(PhantomData<S>);

impl<S: Get<u32>> de::Visitor<'_> for TextVisitor<S> {
	type Value = BoundedVec<u8, S>;

	fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
		write!(formatter, "UTF-8 text of at most {} bytes", S::get())
	}

	fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
		bounded(text.as_bytes().to_vec())
	}

	fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
		bounded(text.into_bytes())
	}

	fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
		self.visit_byte_buf(bytes.to_vec())
	}

	fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
		let text = String::from_utf8(bytes)
			.map_err(|error| E::custom(format!("text is not UTF-8: {error}")))?;
		self.visit_string(text)
	}
}

fn bounded<S: Get<u32>, E: de::Error>(bytes: Vec<u8>) -> Result<BoundedVec<u8, S>, E> {
	let len = bytes.len();
	BoundedVec::try_from(bytes).map_err(|_| {
		E::custom(format!("text of {len} bytes is longer than its limit of {} bytes", S::get()))
	})
}

/// One text inside a list, written through [`serialize`].
struct AsText<'a, S>(&'a BoundedVec<u8, S>);

impl<S: Get<u32>> Serialize for AsText<'_, S> {
	fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
		serialize(self.0, serializer)
	}
}

/// One text inside a list, read through [`deserialize`].
struct Text<S>(BoundedVec<u8, S>);

impl<'de, S: Get<u32>> Deserialize<'de> for Text<S> {
	fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
		deserialize(deserializer).map(Text)
	}
}

/// Serde for a bounded list of texts (`BoundedVec<BoundedVec<u8, S>, L>`): an array of strings.
pub mod list {
	use super::*;

	/// Writes every text as a string; fails if one is not UTF-8.
	pub fn serialize<S, L, Ser>(
		texts: &BoundedVec<BoundedVec<u8, S>, L>,
		serializer: Ser,
	) -> Result<Ser::Ok, Ser::Error>
	where
		S: Get<u32>,
		L: Get<u32>,
		Ser: Serializer,
	{
		serializer.collect_seq(texts.iter().map(AsText))
	}

	/// Reads an array of at most `L` strings of at most `S` bytes each.
	pub fn deserialize<'de, S, L, D>(
		deserializer: D,
	) -> Result<BoundedVec<BoundedVec<u8, S>, L>, D::Error>
	where
		S: Get<u32>,
		L: Get<u32>,
		D: Deserializer<'de>,
	{
		deserializer.deserialize_seq(ListVisitor::<S, L>(PhantomData))
	}

	struct ListVisitor<S, L>(PhantomData<(S, L)>);

	impl<'de, S: Get<u32>, L: Get<u32>> de::Visitor<'de> for ListVisitor<S, L> {
		type Value = BoundedVec<BoundedVec<u8, S>, L>;

		fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
			write!(
				formatter,
				"a list of at most {} texts of at most {} bytes each",
				L::get(),
				S::get()
			)
		}

		fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
			let max = L::get() as usize;
			// The hint comes from the input, so it must not size the allocation beyond the bound.
			let mut texts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(max));
			while let Some(Text(text)) = seq.next_element::<Text<S>>()? {
				if texts.len() == max {
					return Err(de::Error::custom(format!(
						"more than {max} texts in a list that holds at most {max}"
					)));
				}
				texts.push(text);
			}
			BoundedVec::try_from(texts)
				.map_err(|_| de::Error::custom(format!("a list of texts holds at most {max}")))
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::ConstU32;

	#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
	struct Named {
		#[serde(with = "super")]
		name: BoundedVec<u8, ConstU32<5>>,
		#[serde(with = "super::list")]
		uris: BoundedVec<BoundedVec<u8, ConstU32<5>>, ConstU32<2>>,
	}

	fn named(name: &[u8], uris: &[&[u8]]) -> Named {
		Named {
			name: name.to_vec().try_into().unwrap(),
			uris: uris
				.iter()
				.map(|uri| uri.to_vec().try_into().unwrap())
				.collect::<Vec<_>>()
				.try_into()
				.unwrap(),
		}
	}

	#[test]
	fn text_is_written_as_strings_and_read_back() {
		let value = named(b"digit", &[b"a://b", b"c"]);
		let json = serde_json::to_string(&value).unwrap();
		assert_eq!(json, r#"{"name":"digit","uris":["a://b","c"]}"#);
		assert_eq!(serde_json::from_str::<Named>(&json).unwrap(), value);
	}

	#[test]
	fn reading_refuses_what_does_not_fit() {
		let error = |json: &str| serde_json::from_str::<Named>(json).unwrap_err().to_string();
		assert!(error(r#"{"name":"digits","uris":[]}"#)
			.contains("text of 6 bytes is longer than its limit of 5 bytes"));
		assert!(error(r#"{"name":"d","uris":["a","b","c"]}"#)
			.contains("more than 2 texts in a list that holds at most 2"));
		assert!(error(r#"{"name":[100],"uris":[]}"#).contains("UTF-8 text of at most 5 bytes"));
	}

	#[test]
	fn writing_refuses_bytes_that_are_not_utf8() {
		let error = serde_json::to_string(&named(&[0xff], &[])).unwrap_err().to_string();
		assert!(error.contains("text is not UTF-8"), "{error}");
	}
}
