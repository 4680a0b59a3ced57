//! ISO BMFF box iteration (ISO/IEC 14496-12, 4.2) with offsets absolute in the caller's buffer.

use super::reader::Reader;
use super::{MediaError, Result};

/// One box: its type, where it starts and its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp4Box<'a> {
    /// Box type (`moov`, `trak`, ...).
    pub fourcc: [u8; 4],
    /// Offset of the box's first byte in the top-level buffer.
    pub start: usize,
    /// Bytes of size and type (8, or 16 with a 64-bit `largesize`).
    pub header_len: usize,
    /// The box's content after the header (for `uuid`, it starts with the extended type).
    pub body: &'a [u8],
}

impl<'a> Mp4Box<'a> {
    /// Offset of the first body byte in the top-level buffer.
    pub fn body_start(&self) -> usize {
        self.start + self.header_len
    }

    /// The child boxes of a container box.
    pub fn children(&self) -> Boxes<'a> {
        Boxes {
            data: self.body,
            base: self.body_start(),
            pos: 0,
            done: false,
        }
    }

    /// The child boxes that follow `skip` bytes of fixed fields (`stsd`, sample entries).
    pub fn children_after(&self, skip: usize) -> Result<Boxes<'a>> {
        let data = self
            .body
            .get(skip..)
            .ok_or(self.bad("shorter than its fixed fields"))?;
        Ok(Boxes {
            data,
            base: self.body_start() + skip,
            pos: 0,
            done: false,
        })
    }

    /// The full-box header (4.2.2): version, 24-bit flags, and the rest of the body.
    pub fn full_header(&self) -> Result<(u8, u32, &'a [u8])> {
        match self.body {
            [version, f0, f1, f2, rest @ ..] => {
                Ok((*version, u32::from_be_bytes([0, *f0, *f1, *f2]), rest))
            }
            _ => Err(self.bad("shorter than a full-box header")),
        }
    }

    /// The first child of type `fourcc`, or `None`.
    pub fn child(&self, fourcc: &[u8; 4]) -> Result<Option<Mp4Box<'a>>> {
        self.children().first_of(fourcc)
    }

    /// A [`MediaError::BadBox`] for this box.
    pub fn bad(&self, reason: &'static str) -> MediaError {
        MediaError::BadBox {
            fourcc: self.fourcc,
            reason,
        }
    }
}

/// Iterator over consecutive boxes; it yields one error and then stops.
#[derive(Debug, Clone)]
pub struct Boxes<'a> {
    data: &'a [u8],
    base: usize,
    pos: usize,
    done: bool,
}

/// The boxes of `data`, a buffer that starts at a box boundary.
pub fn boxes(data: &[u8]) -> Boxes<'_> {
    Boxes {
        data,
        base: 0,
        pos: 0,
        done: false,
    }
}

impl<'a> Boxes<'a> {
    /// The remaining boxes of type `fourcc`, and any error.
    pub fn of_type(self, fourcc: &[u8; 4]) -> impl Iterator<Item = Result<Mp4Box<'a>>> {
        self.filter(move |b| b.as_ref().map_or(true, |b| &b.fourcc == fourcc))
    }

    /// The first remaining box of type `fourcc`, or `None`; an error met before it is returned.
    pub fn first_of(self, fourcc: &[u8; 4]) -> Result<Option<Mp4Box<'a>>> {
        self.of_type(fourcc).next().transpose()
    }

    fn next_box(&mut self) -> Result<Mp4Box<'a>> {
        let rest = &self.data[self.pos..];
        let mut r = Reader::new(rest, "box header");
        let size = r.u32()?;
        let fourcc = r.array()?;
        let size = match size {
            0 => rest.len() as u64,
            1 => r.u64()?,
            n => u64::from(n),
        };
        let header_len = r.pos();
        let bad = |reason| MediaError::BadBox { fourcc, reason };
        if size < header_len as u64 {
            return Err(bad("size smaller than its header"));
        }
        let size = usize::try_from(size).ok().filter(|&s| s <= rest.len());
        let size = size.ok_or(MediaError::Truncated { what: "box" })?;
        let found = Mp4Box {
            fourcc,
            start: self.base + self.pos,
            header_len,
            body: &rest[header_len..size],
        };
        self.pos += size;
        Ok(found)
    }
}

impl<'a> Iterator for Boxes<'a> {
    type Item = Result<Mp4Box<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let item = self.next_box();
        self.done = item.is_err();
        Some(item)
    }
}

/// The first box at `path` (e.g. `[*b"moov", *b"mvex", *b"trex"]`), descending through plain
/// container boxes; `None` when a step is absent.
pub fn find<'a>(data: &'a [u8], path: &[[u8; 4]]) -> Result<Option<Mp4Box<'a>>> {
    let Some((head, rest)) = path.split_first() else {
        return Ok(None);
    };
    let mut found = boxes(data).first_of(head)?;
    for fourcc in rest {
        found = match found {
            Some(parent) => parent.child(fourcc)?,
            None => return Ok(None),
        };
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testing::media;

    #[test]
    fn sizes_32_64_and_to_end() {
        let mut data = vec![0, 0, 0, 9, b'f', b'r', b'e', b'e', 7];
        data.extend([
            0, 0, 0, 1, b's', b'k', b'i', b'p', 0, 0, 0, 0, 0, 0, 0, 17, 42,
        ]);
        data.extend([0, 0, 0, 0, b'm', b'd', b'a', b't', 1, 2, 3]);
        let all: Vec<_> = boxes(&data).collect::<Result<_>>().unwrap();
        let got: Vec<_> = all
            .iter()
            .map(|b| (&b.fourcc, b.start, b.header_len, b.body))
            .collect();
        assert_eq!(
            got,
            [
                (b"free", 0, 8, &[7][..]),
                (b"skip", 9, 16, &[42]),
                (b"mdat", 26, 8, &[1, 2, 3])
            ]
        );
    }

    #[test]
    fn errors_stop_iteration() {
        let short = [0, 0, 0, 20, b'f', b'r', b'e', b'e', 0];
        let got: Vec<_> = boxes(&short).collect();
        assert_eq!(got, [Err(MediaError::Truncated { what: "box" })]);
        let tiny = [0, 0, 0, 4, b'f', b'r', b'e', b'e'];
        assert!(matches!(
            boxes(&tiny).next(),
            Some(Err(MediaError::BadBox { .. }))
        ));
        assert_eq!(boxes(&tiny).count(), 1);
        assert!(matches!(
            boxes(&[0, 0]).next(),
            Some(Err(MediaError::Truncated { .. }))
        ));
    }

    #[test]
    fn find_gives_absolute_offsets() {
        let init = media("a/init.mp4");
        let mdhd = find(&init, &[*b"moov", *b"trak", *b"mdia", *b"mdhd"])
            .unwrap()
            .unwrap();
        assert_eq!(&init[mdhd.start + 4..mdhd.start + 8], b"mdhd");
        assert_eq!(&init[mdhd.body_start()..][..mdhd.body.len()], mdhd.body);
        let (version, flags, _) = mdhd.full_header().unwrap();
        assert_eq!((version, flags), (0, 0));
        assert_eq!(find(&init, &[*b"moov", *b"nope"]).unwrap(), None);
        assert_eq!(find(&init, &[]).unwrap(), None);
    }
}
