//! A small big-endian ISO BMFF box writer: boxes are opened with [`BoxWriter::begin`] (or
//! [`BoxWriter::full`]) and closed with [`BoxWriter::end`], which patches the 32-bit size.
//! A box of 4 GiB or more is a [`MediaError::Limit`], never a wrapped size.

use super::{MediaError, Result};

/// A growing buffer of boxes.
#[derive(Debug, Default, Clone)]
pub(crate) struct BoxWriter {
    buf: Vec<u8>,
}

impl BoxWriter {
    /// An empty writer.
    pub(crate) fn new() -> Self {
        BoxWriter::default()
    }

    /// An empty writer with room for `n` bytes (the caller caps `n`).
    pub(crate) fn with_capacity(n: usize) -> Self {
        BoxWriter {
            buf: Vec::with_capacity(n),
        }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// The bytes written.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Opens a box: writes a placeholder size and `fourcc`; returns the mark for [`end`](Self::end).
    pub(crate) fn begin(&mut self, fourcc: &[u8; 4]) -> usize {
        let mark = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.extend_from_slice(fourcc);
        mark
    }

    /// Opens a full box (ISO/IEC 14496-12, 4.2.2): header, version and 24-bit flags.
    pub(crate) fn full(&mut self, fourcc: &[u8; 4], version: u8, flags: u32) -> usize {
        let mark = self.begin(fourcc);
        self.u8(version);
        self.u24(flags);
        mark
    }

    /// Closes the box opened at `mark`: its size is everything written since.
    pub(crate) fn end(&mut self, mark: usize) -> Result<()> {
        let size =
            self.buf
                .len()
                .checked_sub(mark)
                .filter(|&s| s >= 8)
                .ok_or(MediaError::Limit {
                    what: "box writer: end without begin",
                })?;
        let size = u32::try_from(size).map_err(|_| MediaError::Limit {
            what: "box of 4 GiB or more",
        })?;
        self.set_u32(mark, size)
    }

    /// A whole box: `begin`, the body `f` writes, `end`.
    pub(crate) fn boxed(
        &mut self,
        fourcc: &[u8; 4],
        f: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let mark = self.begin(fourcc);
        f(self)?;
        self.end(mark)
    }

    /// A whole full box: `full`, the body `f` writes, `end`.
    pub(crate) fn full_boxed(
        &mut self,
        fourcc: &[u8; 4],
        version: u8,
        flags: u32,
        f: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let mark = self.full(fourcc, version, flags);
        f(self)?;
        self.end(mark)
    }

    /// Overwrites the four bytes at `at` (a size or an offset written earlier).
    pub(crate) fn set_u32(&mut self, at: usize, v: u32) -> Result<()> {
        let field = at
            .checked_add(4)
            .and_then(|end| self.buf.get_mut(at..end))
            .ok_or(MediaError::Limit {
                what: "box writer: patch outside the buffer",
            })?;
        field.copy_from_slice(&v.to_be_bytes());
        Ok(())
    }

    /// One byte.
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Big-endian 16 bits.
    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// The low 24 bits, big-endian (full-box flags).
    pub(crate) fn u24(&mut self, v: u32) {
        let [_, a, b, c] = v.to_be_bytes();
        self.buf.extend_from_slice(&[a, b, c]);
    }

    /// Big-endian 32 bits.
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Big-endian 32 bits, two's complement.
    pub(crate) fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Big-endian 64 bits.
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// Bytes as they are.
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// `n` zero bytes.
    pub(crate) fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len().saturating_add(n), 0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::media::boxes;

    #[test]
    fn nested_boxes_read_back() {
        let mut w = BoxWriter::new();
        let outer = w.begin(b"moov");
        w.full_boxed(b"mvhd", 1, 0x0203, |w| {
            w.u16(0x0a0b);
            w.u64(7);
            w.i32(-2);
            w.zeros(3);
            Ok(())
        })
        .unwrap();
        w.boxed(b"free", |w| {
            w.bytes(b"xy");
            Ok(())
        })
        .unwrap();
        w.end(outer).unwrap();
        let data = w.into_bytes();
        let moov = boxes(&data).next().unwrap().unwrap();
        assert_eq!((&moov.fourcc, moov.body.len() + 8), (b"moov", data.len()));
        let kids: Vec<_> = moov.children().map(Result::unwrap).collect();
        assert_eq!(kids.len(), 2);
        let (version, flags, rest) = kids[0].full_header().unwrap();
        assert_eq!((version, flags), (1, 0x0203));
        assert_eq!(
            rest,
            [
                0x0a, 0x0b, 0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0
            ]
        );
        assert_eq!((&kids[1].fourcc, kids[1].body), (b"free", &b"xy"[..]));
    }

    #[test]
    fn bad_marks_are_errors() {
        let mut w = BoxWriter::new();
        assert!(w.end(0).is_err());
        assert!(w.end(usize::MAX).is_err());
        assert!(w.set_u32(usize::MAX - 1, 1).is_err());
        w.u8(1);
        assert!(w.set_u32(0, 1).is_err());
        assert_eq!(w.len(), 1);
        assert_eq!(BoxWriter::with_capacity(8).len(), 0);
    }
}
