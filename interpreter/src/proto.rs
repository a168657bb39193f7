//! A minimal reader of the protobuf wire format: varints, fixed-width fields and length-delimited
//! fields, borrowed from the input without copying. Every read checks its bounds; a malformed
//! or truncated message is an error, never a panic.

use crate::Error;

/// One field of a message: its number and its value.
pub(crate) struct Field<'a> {
	pub number: u32,
	pub value: Value<'a>,
}

/// A field's value, by wire type.
pub(crate) enum Value<'a> {
	Varint(u64),
	/// Read and skipped: no field the interpreter reads is 64-bit fixed.
	Fixed64,
	Bytes(&'a [u8]),
	Fixed32([u8; 4]),
}

impl<'a> Value<'a> {
	/// The value as a varint-encoded integer.
	pub fn varint(&self) -> Result<u64, Error> {
		match self {
			Value::Varint(value) => Ok(*value),
			_ => Err(Error::Malformed("a varint field of another wire type")),
		}
	}

	/// The value as length-delimited bytes.
	pub fn bytes(&self) -> Result<&'a [u8], Error> {
		match self {
			Value::Bytes(bytes) => Ok(bytes),
			_ => Err(Error::Malformed("a length-delimited field of another wire type")),
		}
	}

	/// The value as UTF-8 text.
	pub fn text(&self) -> Result<&'a str, Error> {
		core::str::from_utf8(self.bytes()?).map_err(|_| Error::Malformed("text that is not UTF-8"))
	}

	/// A repeated int64 field's values, packed or not, appended to `into`.
	pub fn int64s(&self, into: &mut alloc::vec::Vec<i64>) -> Result<(), Error> {
		match self {
			Value::Varint(value) => into.push(*value as i64),
			Value::Bytes(mut packed) => {
				while !packed.is_empty() {
					into.push(read_varint(&mut packed)? as i64);
				}
			}
			_ => return Err(Error::Malformed("a repeated integer of another wire type")),
		}
		Ok(())
	}
}

/// Reads a varint from the front of `input`.
pub(crate) fn read_varint(input: &mut &[u8]) -> Result<u64, Error> {
	let mut value = 0u64;
	for index in 0..10 {
		let (&byte, rest) = input.split_first().ok_or(Error::Malformed("a truncated varint"))?;
		*input = rest;
		value |= u64::from(byte & 0x7f) << (7 * index);
		if byte & 0x80 == 0 {
			return Ok(value);
		}
	}
	Err(Error::Malformed("a varint longer than ten bytes"))
}

/// The fields of a message, in order.
pub(crate) struct Fields<'a> {
	rest: &'a [u8],
}

impl<'a> Fields<'a> {
	pub fn new(message: &'a [u8]) -> Self {
		Self { rest: message }
	}

	fn take(&mut self, length: usize) -> Result<&'a [u8], Error> {
		if length > self.rest.len() {
			return Err(Error::Malformed("a field longer than its message"));
		}
		let (taken, rest) = self.rest.split_at(length);
		self.rest = rest;
		Ok(taken)
	}
}

impl<'a> Iterator for Fields<'a> {
	type Item = Result<Field<'a>, Error>;

	fn next(&mut self) -> Option<Self::Item> {
		if self.rest.is_empty() {
			return None;
		}
		let field = (|| {
			let key = read_varint(&mut self.rest)?;
			let number = u32::try_from(key >> 3).map_err(|_| Error::Malformed("a field number"))?;
			let value = match key & 7 {
				0 => Value::Varint(read_varint(&mut self.rest)?),
				1 => {
					self.take(8)?;
					Value::Fixed64
				}
				2 => {
					let length = usize::try_from(read_varint(&mut self.rest)?)
						.map_err(|_| Error::Malformed("a length"))?;
					Value::Bytes(self.take(length)?)
				}
				5 => Value::Fixed32(
					self.take(4)?.try_into().map_err(|_| Error::Malformed("fixed32"))?,
				),
				_ => return Err(Error::Malformed("an unsupported wire type")),
			};
			Ok(Field { number, value })
		})();
		if field.is_err() {
			// Nothing more can be read after an error.
			self.rest = &[];
		}
		Some(field)
	}
}
