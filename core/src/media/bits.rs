//! The NAL unit layer that H.264 and H.265 share: Annex B start codes, emulation prevention
//! and the exp-Golomb bit reader.
//!
//! ITU-T H.264 and H.265 frame their NAL units the same way (Annex B byte streams with
//! `00 00 01` start codes), escape them the same way (an emulation prevention byte `03` after
//! two zero bytes, 7.4.1 / 7.4.2) and code parameter sets with the same exp-Golomb codes
//! (9.1 / 9.2). [`avc`](super::avc), [`hevc`](super::hevc), [`es`](super::es),
//! [`mux`](super::mux), [`smooth`](super::smooth) and the AAC helpers all read through here.

use std::ops::Range;

use super::{MediaError, Result};

/// The NAL units of an Annex B byte stream (ITU-T H.264 / H.265 Annex B): the bytes after
/// each 3- or 4-byte start code up to the next, trailing zero bytes removed. Bytes before
/// the first start code and empty units are skipped.
pub fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    NalScan::new(data).filter_map(move |(_, range)| data.get(range))
}

/// Offset of the first start code (`00 00 01`) at or after `from`.
fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let rest = data.get(from..)?;
    let mut i = 0;
    // Looks at the third byte first: unless it is 0 or 1, no start code begins in the
    // three bytes that end there.
    while let Some(&b) = rest.get(i + 2) {
        if b > 1 {
            i += 3;
        } else if b == 1 && rest.get(i) == Some(&0) && rest.get(i + 1) == Some(&0) {
            return Some(from + i);
        } else {
            i += 1;
        }
    }
    None
}

/// The NAL units of an Annex B byte stream as (offset of the start code, range of the NAL
/// unit), with the rules of [`nal_units`].
pub(crate) struct NalScan<'a> {
    data: &'a [u8],
    next: Option<usize>,
}

impl<'a> NalScan<'a> {
    /// Scans `data` from its start.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        NalScan {
            data,
            next: find_start_code(data, 0),
        }
    }
}

impl Iterator for NalScan<'_> {
    type Item = (usize, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let at = self.next?;
            let start = at + 3;
            self.next = find_start_code(self.data, start);
            let end = self.next.unwrap_or(self.data.len());
            let nal = self.data.get(start..end)?;
            let len = nal.len() - nal.iter().rev().take_while(|b| **b == 0).count();
            if len > 0 {
                return Some((at, start..start + len));
            }
        }
    }
}

/// Appends `nal` behind its 16-bit length, as `avcC` and `hvcC` store parameter sets.
pub(crate) fn push_u16_prefixed(out: &mut Vec<u8>, nal: &[u8]) -> Result<()> {
    let len = u16::try_from(nal.len()).map_err(|_| MediaError::Limit {
        what: "parameter set over 65535 bytes",
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(nal);
    Ok(())
}

/// The RBSP of a NAL unit (or of its payload): the emulation prevention bytes (the `03` of
/// `00 00 03`) removed.
pub(crate) fn rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// A big-endian bit reader with the exp-Golomb codes of H.264 9.1 / H.265 9.2. Reading
/// past the end is [`MediaError::Truncated`] of `what`.
pub(crate) struct Bits<'a> {
    data: &'a [u8],
    /// Position in bits.
    pos: usize,
    /// The structure read, for errors (`H.264 SPS`).
    what: &'static str,
}

impl<'a> Bits<'a> {
    /// A reader at the first bit of `data`.
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Bits { data, pos: 0, what }
    }

    fn truncated(&self) -> MediaError {
        MediaError::Truncated { what: self.what }
    }

    /// [`MediaError::BadStream`] of `what` with `reason`.
    pub(crate) fn bad(&self, reason: &'static str) -> MediaError {
        MediaError::BadStream {
            codec: self.what,
            reason,
        }
    }

    /// One bit, 0 or 1.
    pub(crate) fn bit(&mut self) -> Result<u32> {
        let byte = self
            .data
            .get(self.pos / 8)
            .ok_or_else(|| self.truncated())?;
        let bit = byte >> (7 - self.pos % 8) & 1;
        self.pos += 1;
        Ok(u32::from(bit))
    }

    /// One bit as a flag.
    pub(crate) fn flag(&mut self) -> Result<bool> {
        Ok(self.bit()? == 1)
    }

    /// `n` bits as an unsigned number; more than 32 is an error.
    pub(crate) fn bits(&mut self, n: u32) -> Result<u32> {
        if n > 32 {
            return Err(self.bad("more than 32 bits in one field"));
        }
        let mut v = 0u64;
        for _ in 0..n {
            v = v << 1 | u64::from(self.bit()?);
        }
        // At most 32 bits: fits.
        Ok(v as u32)
    }

    /// Eight bits.
    pub(crate) fn byte(&mut self) -> Result<u8> {
        Ok(self.bits(8)? as u8)
    }

    /// Skips `n` bits.
    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        let end = self.pos.checked_add(n);
        let end = end.filter(|&e| e <= self.data.len().saturating_mul(8));
        self.pos = end.ok_or_else(|| self.truncated())?;
        Ok(())
    }

    /// ue(v): an unsigned exp-Golomb code of at most 32 bits of value.
    pub(crate) fn ue(&mut self) -> Result<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(self.bad("exp-Golomb code longer than 32 bits"));
            }
        }
        // At most 2^31 - 1 + 2^31 - 1: fits.
        Ok(((1u64 << zeros) - 1 + u64::from(self.bits(zeros)?)) as u32)
    }

    /// se(v): a signed exp-Golomb code (every ue(v) maps into `i32`).
    pub(crate) fn se(&mut self) -> Result<i32> {
        let k = i64::from(self.ue()?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        // |v| <= 2^31 - 1: fits.
        Ok(v as i32)
    }

    /// ue(v) no greater than `max`, else [`MediaError::BadStream`] with `reason`.
    pub(crate) fn ue_max(&mut self, max: u32, reason: &'static str) -> Result<u32> {
        let v = self.ue()?;
        if v > max {
            return Err(self.bad(reason));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_codes_give_offsets_and_ranges() {
        // The offset is the 3-byte code's: a 4-byte code's leading zero ends the unit before.
        let stream = [0xaa, 0, 0, 1, 9, 0xf0, 0, 0, 0, 1, 0x67, 1, 0, 0, 1];
        let got: Vec<_> = NalScan::new(&stream).collect();
        assert_eq!(got, [(1, 4..6), (7, 10..12)]);
        // Back-to-back start codes leave an empty unit, which is skipped, as are trailing
        // zero bytes.
        let got: Vec<&[u8]> = nal_units(&[0, 0, 1, 0, 0, 1, 0x41, 0, 0]).collect();
        assert_eq!(got, [&[0x41][..]]);
        assert_eq!(NalScan::new(&[0, 0]).count(), 0);
    }

    #[test]
    fn rbsp_drops_emulation_prevention() {
        assert_eq!(rbsp(&[0, 0, 3, 1, 0, 0, 3]), [0, 0, 1, 0, 0]);
        // The byte after an emulation prevention byte starts a new count of zeros.
        assert_eq!(rbsp(&[0, 0, 3, 0, 3, 0, 0, 3, 3]), [0, 0, 0, 3, 0, 0, 3]);
    }

    #[test]
    fn exp_golomb_codes() {
        let mut b = Bits::new(&[0b1010_0110, 0b0100_0000], "test");
        // ue: 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3; se of code 1 -> 1.
        assert_eq!(
            (b.ue(), b.ue(), b.ue(), b.ue()),
            (Ok(0), Ok(1), Ok(2), Ok(3))
        );
        assert_eq!(Bits::new(&[0x40], "test").se(), Ok(1));
        assert_eq!(Bits::new(&[0x60], "test").se(), Ok(-1));
        assert!(matches!(
            Bits::new(&[0, 0, 0, 0, 0], "test").ue(),
            Err(MediaError::BadStream { codec: "test", .. })
        ));
        assert_eq!(
            Bits::new(&[0, 0], "test").ue(),
            Err(MediaError::Truncated { what: "test" })
        );
        // The longest codes: 31 zeros, then 32 bits.
        let mut max = [0u8; 8];
        max[3] = 1;
        max[4..].fill(0xff);
        assert_eq!(Bits::new(&max, "test").ue(), Ok(u32::MAX - 1));
        assert_eq!(Bits::new(&max, "test").se(), Ok(-i32::MAX));
        let mut b = Bits::new(&[0xa5, 0xff, 0x01], "test");
        assert_eq!(
            (b.bits(4), b.flag(), b.bits(0)),
            (Ok(0xa), Ok(false), Ok(0))
        );
        assert_eq!(b.skip(3), Ok(()));
        assert_eq!(b.byte(), Ok(0xff));
        assert!(b.bits(33).is_err());
        assert_eq!(
            b.skip(9),
            Err(MediaError::Truncated { what: "test" }),
            "8 bits are left"
        );
        assert_eq!(b.bits(8), Ok(1));
        assert!(b.bit().is_err());
        let mut b = Bits::new(&[0b0001_0000], "test");
        assert_eq!(
            b.ue_max(6, "above 6"),
            Err(MediaError::BadStream {
                codec: "test",
                reason: "above 6"
            })
        );
    }
}
