//! Writing NumPy `.npy` files (format version 1.0) of little-endian f32, streaming:
//! the header is written first, then the caller appends values in C order.

use std::io::{self, Write};

/// Writes the header of an f32 array of `shape` (NumPy order: slowest dimension first).
pub fn write_f32_header(out: &mut impl Write, shape: &[u64]) -> io::Result<()> {
    let dims: Vec<String> = shape.iter().map(u64::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + header length (2) + dict + '\n' is a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    dict.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    let len = u16::try_from(dict.len()).map_err(|_| io::Error::other("npy header too long"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(dict.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_aligned_and_well_formed() {
        for shape in [&[5u64][..], &[3, 4], &[2, 2048, 7168]] {
            let mut v = Vec::new();
            write_f32_header(&mut v, shape).unwrap();
            assert_eq!(v.len() % 64, 0);
            assert!(v.ends_with(b"\n"));
            let text = String::from_utf8_lossy(&v[10..]);
            assert!(text.contains("'descr': '<f4'"), "{text}");
        }
    }
}
