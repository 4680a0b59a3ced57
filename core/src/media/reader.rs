//! A bounds-checked big-endian cursor: every read past the end is [`MediaError::Truncated`].

use super::{MediaError, Result};

pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the structure in the error when the data ends early.
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, pos: 0, what }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or(MediaError::Truncated { what: self.what })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn skip(&mut self, n: usize) -> Result<()> {
        self.bytes(n).map(|_| ())
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_be_bytes)
    }

    /// A `u32` if `present`, else `default` (the optional fields of `tfhd` and `trun`).
    pub(crate) fn u32_or(&mut self, present: bool, default: u32) -> Result<u32> {
        if present { self.u32() } else { Ok(default) }
    }

    /// A `u32` when `wide` is false, else a `u64` (the version 0 / 1 fields of full boxes).
    pub(crate) fn u32_or_u64(&mut self, wide: bool) -> Result<u64> {
        if wide {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }
}
