//! The explicit segment list of HLS media playlists and DASH `SegmentList`: one 32-byte
//! entry per segment, URIs in one shared string, byte ranges and program-date-time anchors
//! kept sparse, key sets and init segments de-duplicated.

use super::drm::HlsKey;
use super::events::{CueTag, DateRange};
use super::live::{PartInfo, PreloadHint, RenditionReport, ServerControl};
use super::segments::{ByteRange, InitSegment, Segment};
use crate::time::{Micros, Timescale, UnixMicros};
use crate::url::resolve_lenient;

/// One entry of a [`ListIndex`]: 32 bytes. URIs live in the index's shared string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListEntry {
    uri_end: u32,
    /// Start in ticks.
    start: u64,
    /// Duration in ticks.
    duration: u64,
    /// Bits: see the `FLAG_` constants.
    flags: u8,
    /// 1-based index into `keys` (0: none).
    key: u32,
    /// 1-based index into `maps` (0: none).
    map: u32,
}

const FLAG_DISCONTINUITY: u8 = 1;
const FLAG_GAP: u8 = 2;
const FLAG_BYTE_RANGE: u8 = 4;
const FLAG_PDT: u8 = 8;

/// An explicit segment list: HLS media playlists and DASH `SegmentList`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListIndex {
    timescale: Option<Timescale>,
    base: String,
    pub(crate) first_number: u64,
    uris: String,
    entries: Vec<ListEntry>,
    /// Sparse: (entry index, range) for entries with `FLAG_BYTE_RANGE`.
    byte_ranges: Vec<(u32, ByteRange)>,
    /// Sparse: (entry index, time) for entries with `FLAG_PDT`: where the written
    /// program-date-time differs from the extrapolated one.
    /// `None` marks a discontinuity that breaks extrapolation.
    pdt: Vec<(u32, Option<UnixMicros>)>,
    /// Entries before the first anchor get its time extrapolated backwards (as hls.js does).
    pdt_backfill: bool,
    /// Key sets: all `EXT-X-KEY`s in effect together (one per KEYFORMAT).
    keys: Vec<Vec<HlsKey>>,
    maps: Vec<InitSegment>,
    /// HLS media playlist details (target duration, server control, parts, ...).
    pub hls: Option<Box<HlsPlaylistInfo>>,
}

/// Details of an HLS media playlist beyond its segments.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct HlsPlaylistInfo {
    /// `EXT-X-VERSION`.
    pub version: Option<u32>,
    /// `EXT-X-TARGETDURATION` in microseconds.
    pub target_duration: Micros,
    /// `EXT-X-MEDIA-SEQUENCE`.
    pub media_sequence: u64,
    /// `EXT-X-DISCONTINUITY-SEQUENCE`.
    pub discontinuity_sequence: u64,
    /// `EXT-X-PLAYLIST-TYPE` (`EVENT` or `VOD`).
    pub playlist_type: Option<String>,
    /// `EXT-X-ENDLIST` seen.
    pub ended: bool,
    /// `EXT-X-I-FRAMES-ONLY`.
    pub iframes_only: bool,
    /// `EXT-X-SERVER-CONTROL`.
    pub server_control: Option<ServerControl>,
    /// `EXT-X-PART-INF`.
    pub part_info: Option<PartInfo>,
    /// LL-HLS partial segments (`EXT-X-PART`), of the last segments and the one in progress.
    pub parts: Vec<PartialSegment>,
    /// Segments listed before the first `EXT-X-KEY` / `EXT-X-MAP` tag: in a delta update
    /// those inherit the key and map of the skipped segments.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) listed_before_first_key: Option<usize>,
    #[cfg_attr(feature = "serde", serde(skip))]
    pub(crate) listed_before_first_map: Option<usize>,
    /// The segment being published (LL-HLS), when parts or hints point past the last full
    /// segment: what its parts inherit from the tags before them.
    pub next_segment: Option<NextSegment>,
    /// `EXT-X-PRELOAD-HINT`s.
    pub preload_hints: Vec<PreloadHint>,
    /// `EXT-X-RENDITION-REPORT`s.
    pub rendition_reports: Vec<RenditionReport>,
    /// `EXT-X-SKIP:SKIPPED-SEGMENTS` of a delta update.
    pub skipped_segments: Option<u64>,
    /// `EXT-X-SKIP:RECENTLY-REMOVED-DATERANGES`: ids the client must forget.
    pub recently_removed_dateranges: Vec<String>,
    /// `EXT-X-DATERANGE`s.
    pub date_ranges: Vec<DateRange>,
    /// Raw SCTE-35 cue tags (`EXT-X-CUE-OUT`, `EXT-X-CUE-IN`, `EXT-X-SCTE35`, ...) as
    /// (media sequence number, tag line).
    pub cues: Vec<CueTag>,
}

/// The LL-HLS segment in progress: the tags that apply to its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NextSegment {
    /// Its media sequence number.
    pub number: u64,
    /// A discontinuity precedes it.
    pub discontinuity: bool,
    /// `EXT-X-GAP`.
    pub gap: bool,
    /// Its program-date-time (written, or extrapolated from the last segment).
    pub program_date_time: Option<UnixMicros>,
    /// Keys in effect.
    pub keys: Vec<HlsKey>,
    /// Initialization segment in effect.
    pub init: Option<InitSegment>,
}

/// An LL-HLS partial segment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PartialSegment {
    /// Media sequence number of the parent segment.
    pub segment_number: u64,
    /// Absolute URL.
    pub url: String,
    /// Duration in microseconds.
    pub duration: Micros,
    /// `INDEPENDENT=YES`.
    pub independent: bool,
    /// `BYTERANGE`.
    pub byte_range: Option<ByteRange>,
    /// `GAP=YES`.
    pub gap: bool,
}

/// Everything a list entry can carry, for [`ListIndex::push`].
#[derive(Debug, Clone, Default)]
pub struct NewEntry<'a> {
    /// URI as written (resolved against the index base on materialization).
    pub uri: &'a str,
    /// Duration in ticks.
    pub duration: u64,
    /// Byte range.
    pub byte_range: Option<ByteRange>,
    /// Discontinuity before this entry.
    pub discontinuity: bool,
    /// Gap.
    pub gap: bool,
    /// Program date time written on this entry.
    pub program_date_time: Option<UnixMicros>,
    /// 1-based key index (0: none).
    pub key: u32,
    /// 1-based map index (0: none).
    pub map: u32,
}

impl ListIndex {
    /// An empty list whose relative URIs resolve against `base`.
    pub fn new(timescale: Timescale, base: String, first_number: u64) -> Self {
        ListIndex {
            timescale: Some(timescale),
            base,
            first_number,
            ..Default::default()
        }
    }

    /// Ticks per second.
    pub fn timescale(&self) -> Timescale {
        self.timescale.unwrap_or(Timescale::MICROS)
    }

    /// Base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Number of the first entry.
    pub fn first_number(&self) -> u64 {
        self.first_number
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Key sets referenced by entries.
    pub fn key_sets(&self) -> &[Vec<HlsKey>] {
        &self.keys
    }

    /// Init segments referenced by entries.
    pub fn maps(&self) -> &[InitSegment] {
        &self.maps
    }

    /// Adds a key set and returns its 1-based index (reusing an equal last set); an empty
    /// set is index 0.
    pub fn add_key_set(&mut self, key: Vec<HlsKey>) -> u32 {
        if key.is_empty() {
            return 0;
        }
        if self.keys.last() == Some(&key) {
            return u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        }
        self.keys.push(key);
        u32::try_from(self.keys.len()).unwrap_or(u32::MAX)
    }

    /// Adds an init segment and returns its 1-based index (reusing an equal last one).
    pub fn add_map(&mut self, map: InitSegment) -> u32 {
        if self.maps.last() == Some(&map) {
            return u32::try_from(self.maps.len()).unwrap_or(u32::MAX);
        }
        self.maps.push(map);
        u32::try_from(self.maps.len()).unwrap_or(u32::MAX)
    }

    /// End time (start + duration of the last entry) in ticks, or 0.
    pub fn end_time(&self) -> u64 {
        self.entries
            .last()
            .map_or(0, |e| e.start.saturating_add(e.duration))
    }

    /// Appends an entry starting where the previous one ended.
    pub fn push(&mut self, e: NewEntry<'_>) {
        let start = self.end_time();
        self.push_at(start, e);
    }

    /// Appends an entry at an explicit start time (DASH `SegmentList` with a timeline).
    pub fn push_at(&mut self, start: u64, e: NewEntry<'_>) {
        let idx = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let mut flags = 0;
        if e.discontinuity {
            flags |= FLAG_DISCONTINUITY;
        }
        if e.gap {
            flags |= FLAG_GAP;
        }
        if let Some(r) = e.byte_range {
            flags |= FLAG_BYTE_RANGE;
            self.byte_ranges.push((idx, r));
        }
        match e.program_date_time {
            // Keep an anchor only where the written time is not the extrapolated one.
            Some(pdt)
                if e.discontinuity
                    || self.extrapolated_pdt(self.entries.len(), start) != Some(pdt) =>
            {
                flags |= FLAG_PDT;
                self.pdt.push((idx, Some(pdt)));
            }
            Some(_) => {}
            None => {}
        }
        self.uris.push_str(e.uri);
        self.entries.push(ListEntry {
            uri_end: u32::try_from(self.uris.len()).unwrap_or(u32::MAX),
            start,
            duration: e.duration,
            flags,
            key: e.key,
            map: e.map,
        });
        if flags & FLAG_PDT != 0 && self.pdt.len() == 1 {
            self.note_first_anchor();
        }
    }

    /// The program-date-time of entry `i` (starting at `start`) extrapolated from the last
    /// anchor before it; `None` without one or after a discontinuity break.
    fn extrapolated_pdt(&self, i: usize, start: u64) -> Option<UnixMicros> {
        let k = self.pdt.partition_point(|(a, _)| (*a as usize) < i);
        let Some(before) = k.checked_sub(1) else {
            return self.backfilled_pdt(start);
        };
        let (ai, at) = *self.pdt.get(before)?;
        let at = at?;
        let anchor_start = self.entries.get(ai as usize)?.start;
        let delta = start.checked_sub(anchor_start)?;
        let delta_us = crate::time::rescale(delta, self.timescale(), Timescale::MICROS);
        Some(UnixMicros(
            at.0.saturating_add(i64::try_from(delta_us).ok()?),
        ))
    }

    /// The time of an entry before the first anchor, counted back from it.
    fn backfilled_pdt(&self, start: u64) -> Option<UnixMicros> {
        if !self.pdt_backfill {
            return None;
        }
        let (ai, at) = *self.pdt.first()?;
        let delta = self.entries.get(ai as usize)?.start.checked_sub(start)?;
        let delta_us = crate::time::rescale(delta, self.timescale(), Timescale::MICROS);
        Some(UnixMicros(
            at?.0.saturating_sub(i64::try_from(delta_us).ok()?),
        ))
    }

    /// Decides `pdt_backfill` from the first anchor (once, when it appears).
    fn note_first_anchor(&mut self) {
        self.pdt_backfill = matches!(self.pdt.first(), Some((_, Some(_))));
    }

    fn uri(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.entries[i - 1].uri_end as usize
        };
        let end = self.entries[i].uri_end as usize;
        self.uris.get(start..end).unwrap_or("")
    }

    /// Materializes entry `i`.
    /// Start and duration (ticks) of segment `i`, without materializing it.
    pub fn span(&self, i: usize) -> Option<(u64, u64)> {
        self.entries.get(i).map(|e| (e.start, e.duration))
    }

    /// Index of the first segment that ends after `tick` (entries are in time order).
    pub fn first_ending_after(&self, tick: u64) -> usize {
        self.entries
            .partition_point(|e| e.start.saturating_add(e.duration) <= tick)
    }

    pub fn get(&self, i: usize) -> Option<Segment> {
        let e = self.entries.get(i)?;
        let idx = u32::try_from(i).ok()?;
        let byte_range = if e.flags & FLAG_BYTE_RANGE != 0 {
            self.byte_ranges
                .binary_search_by_key(&idx, |(k, _)| *k)
                .ok()
                .map(|k| self.byte_ranges[k].1)
        } else {
            None
        };
        let program_date_time = if e.flags & FLAG_PDT != 0 {
            self.pdt
                .binary_search_by_key(&idx, |(k, _)| *k)
                .ok()
                .and_then(|k| self.pdt[k].1)
        } else {
            self.extrapolated_pdt(i, e.start)
        };
        Some(Segment {
            number: self.first_number.saturating_add(i as u64),
            url: resolve_lenient(&self.base, self.uri(i)),
            byte_range,
            start: e.start,
            duration: e.duration,
            timescale: self.timescale(),
            discontinuity: e.flags & FLAG_DISCONTINUITY != 0,
            gap: e.flags & FLAG_GAP != 0,
            program_date_time,
            keys: (e.key as usize)
                .checked_sub(1)
                .and_then(|k| self.keys.get(k))
                .cloned()
                .unwrap_or_default(),
            init: (e.map as usize)
                .checked_sub(1)
                .and_then(|k| self.maps.get(k))
                .cloned(),
        })
    }

    /// Drops the first `n` entries (a sliding live window), keeping every other entry as it was.
    pub fn drop_front(&mut self, n: usize) {
        let n = n.min(self.entries.len());
        if n == 0 {
            return;
        }
        // Re-anchor program-date-time of the new first entry if it was extrapolated.
        let first_pdt = self.get(n).and_then(|s| s.program_date_time);
        let uri_cut = self.entries[n - 1].uri_end;
        self.uris.drain(..uri_cut as usize);
        self.entries.drain(..n);
        for e in &mut self.entries {
            e.uri_end -= uri_cut;
        }
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        self.byte_ranges.retain(|(k, _)| *k >= n32);
        self.byte_ranges.iter_mut().for_each(|(k, _)| *k -= n32);
        self.pdt.retain(|(k, _)| *k >= n32);
        self.pdt.iter_mut().for_each(|(k, _)| *k -= n32);
        if let (Some(pdt), Some(e0)) = (first_pdt, self.entries.first_mut()) {
            if e0.flags & FLAG_PDT == 0 {
                e0.flags |= FLAG_PDT;
                self.pdt.insert(0, (0, Some(pdt)));
            }
        }
        self.first_number = self.first_number.saturating_add(n as u64);
        self.compact();
    }

    /// Drops key sets and init segments no entry refers to any more (after the window
    /// slid), renumbering the references: a long live session keeps only what it lists.
    pub fn compact(&mut self) {
        let mut key_used = vec![0u32; self.keys.len()];
        let mut map_used = vec![0u32; self.maps.len()];
        for e in &self.entries {
            if let Some(k) = (e.key as usize)
                .checked_sub(1)
                .and_then(|k| key_used.get_mut(k))
            {
                *k = 1;
            }
            if let Some(m) = (e.map as usize)
                .checked_sub(1)
                .and_then(|m| map_used.get_mut(m))
            {
                *m = 1;
            }
        }
        fn renumber<T>(items: &mut Vec<T>, used: &mut [u32]) {
            let mut next = 0u32;
            for u in used.iter_mut() {
                if *u == 1 {
                    next += 1;
                    *u = next;
                }
            }
            let mut i = 0;
            items.retain(|_| {
                let keep = used.get(i).is_some_and(|&u| u != 0);
                i += 1;
                keep
            });
        }
        renumber(&mut self.keys, &mut key_used);
        renumber(&mut self.maps, &mut map_used);
        for e in &mut self.entries {
            e.key = (e.key as usize)
                .checked_sub(1)
                .and_then(|k| key_used.get(k))
                .copied()
                .unwrap_or(0);
            e.map = (e.map as usize)
                .checked_sub(1)
                .and_then(|m| map_used.get(m))
                .copied()
                .unwrap_or(0);
        }
    }

    /// Keeps the first `n` entries.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.entries.len() {
            return;
        }
        let uri_end = if n == 0 {
            0
        } else {
            self.entries[n - 1].uri_end as usize
        };
        self.uris.truncate(uri_end);
        self.entries.truncate(n);
        let n32 = u32::try_from(n).unwrap_or(u32::MAX);
        self.byte_ranges.retain(|(k, _)| *k < n32);
        self.pdt.retain(|(k, _)| *k < n32);
    }

    /// Appends all entries of `other`, shifting their times by `time_offset` ticks (same
    /// timescale); keys and init segments are re-indexed.
    pub fn append_list(&mut self, other: &ListIndex, time_offset: u64) {
        let rebase = other.base != self.base;
        let mut key_map: Vec<u32> = Vec::with_capacity(other.keys.len());
        for k in &other.keys {
            key_map.push(self.add_key_set(k.clone()));
        }
        let mut map_map: Vec<u32> = Vec::with_capacity(other.maps.len());
        for m in &other.maps {
            map_map.push(self.add_map(m.clone()));
        }
        let remap = |table: &[u32], i: u32| {
            (i as usize)
                .checked_sub(1)
                .and_then(|k| table.get(k).copied())
                .unwrap_or(0)
        };
        let mut ranges = other.byte_ranges.iter().peekable();
        let mut pdts = other.pdt.iter().peekable();
        for (i, e) in other.entries.iter().enumerate() {
            let i32_ = u32::try_from(i).unwrap_or(u32::MAX);
            let byte_range = match ranges.peek() {
                Some((k, r)) if *k == i32_ => {
                    let r = *r;
                    ranges.next();
                    Some(r)
                }
                _ => None,
            };
            let anchor = match pdts.peek() {
                Some((k, p)) if *k == i32_ => {
                    let p = *p;
                    pdts.next();
                    Some(p)
                }
                _ => None,
            };
            let idx = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
            let mut flags = e.flags & !(FLAG_BYTE_RANGE | FLAG_PDT);
            if let Some(r) = byte_range {
                flags |= FLAG_BYTE_RANGE;
                self.byte_ranges.push((idx, r));
            }
            if let Some(p) = anchor {
                flags |= FLAG_PDT;
                self.pdt.push((idx, p));
            }
            // Entries of a list fetched from another URL (a redirect, another CDN or
            // pathway) keep resolving against it: store them absolute.
            if rebase {
                self.uris
                    .push_str(&resolve_lenient(&other.base, other.uri(i)));
            } else {
                self.uris.push_str(other.uri(i));
            }
            self.entries.push(ListEntry {
                uri_end: u32::try_from(self.uris.len()).unwrap_or(u32::MAX),
                start: e.start.saturating_add(time_offset),
                duration: e.duration,
                flags,
                key: remap(&key_map, e.key),
                map: remap(&map_map, e.map),
            });
        }
        self.note_first_anchor();
    }

    /// Marks entry `i` as following a discontinuity.
    pub fn mark_discontinuity(&mut self, i: usize) {
        if let Some(e) = self.entries.get_mut(i) {
            e.flags |= FLAG_DISCONTINUITY;
        }
    }

    /// Gives entries `from..` that carry no key (map) the key (map) of entry `from - 1`, up
    /// to `keys_until` (`maps_until`): a delta update omits the tags of the segments it skips.
    pub(crate) fn inherit_refs(&mut self, from: usize, keys_until: usize, maps_until: usize) {
        let Some(prev) = from
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .copied()
        else {
            return;
        };
        for (i, e) in self.entries.iter_mut().enumerate().skip(from) {
            if i < keys_until && e.key == 0 {
                e.key = prev.key;
            }
            if i < maps_until && e.map == 0 {
                e.map = prev.map;
            }
        }
    }

    /// Start time (ticks) of the entry numbered `number`, if listed.
    pub fn start_of(&self, number: u64) -> Option<u64> {
        let i = usize::try_from(number.checked_sub(self.first_number)?).ok()?;
        self.entries.get(i).map(|e| e.start)
    }

    /// Heap bytes this index retains (for the memory benchmark).
    pub fn heap_bytes(&self) -> usize {
        self.uris.capacity()
            + self.base.capacity()
            + self.entries.capacity() * size_of::<ListEntry>()
            + self.byte_ranges.capacity() * size_of::<(u32, ByteRange)>()
            + self.pdt.capacity() * size_of::<(u32, Option<UnixMicros>)>()
    }

    /// Releases spare capacity after parsing.
    pub fn shrink_to_fit(&mut self) {
        self.uris.shrink_to_fit();
        self.entries.shrink_to_fit();
        self.byte_ranges.shrink_to_fit();
        self.pdt.shrink_to_fit();
        self.keys.shrink_to_fit();
        self.maps.shrink_to_fit();
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ListIndex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let segments: Vec<Segment> = (0..self.len()).filter_map(|i| self.get(i)).collect();
        let mut st = s.serialize_struct("ListIndex", 4)?;
        st.serialize_field("timescale", &self.timescale())?;
        st.serialize_field("first_number", &self.first_number)?;
        st.serialize_field("segments", &segments)?;
        st.serialize_field("hls", &self.hls)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_key_sets_stay_exact_and_sliding_compacts_them() {
        use crate::model::{KeyMethod, KeySystem};
        let key = |i: u32| HlsKey {
            method: KeyMethod::Aes128,
            uri: Some(format!("https://k.example/{i}")),
            iv: None,
            system: KeySystem::Identity,
            keyformat: None,
            keyformat_versions: None,
            kid: None,
        };
        let mut l = ListIndex::new(Timescale::MICROS, "https://a.example/".into(), 0);
        for i in 0..70_000u32 {
            let k = l.add_key_set(vec![key(i)]);
            l.push(NewEntry {
                uri: "s.ts",
                duration: 1,
                key: k,
                ..Default::default()
            });
        }
        let uri = |l: &ListIndex, i: usize| l.get(i).unwrap().keys[0].uri.clone().unwrap();
        assert_eq!(
            uri(&l, 69_999),
            "https://k.example/69999",
            "no saturation past 65,535 sets"
        );
        l.drop_front(60_000);
        assert_eq!(l.key_sets().len(), 10_000, "unreferenced sets dropped");
        assert_eq!(uri(&l, 0), "https://k.example/60000");
        assert_eq!(uri(&l, 9_999), "https://k.example/69999");
    }

    #[test]
    fn pdt_extrapolates_backwards_and_through_discontinuities() {
        let mut l = ListIndex::new(Timescale::MICROS, String::new(), 0);
        for i in 0..3i64 {
            let pdt = (i == 2).then_some(UnixMicros(10_000_000));
            l.push(NewEntry {
                uri: "s",
                duration: 2_000_000,
                program_date_time: pdt,
                ..Default::default()
            });
        }
        assert_eq!(
            l.get(0).unwrap().program_date_time,
            Some(UnixMicros(6_000_000))
        );
        let mut d = ListIndex::new(Timescale::MICROS, String::new(), 0);
        d.push(NewEntry {
            uri: "s",
            duration: 2_000_000,
            ..Default::default()
        });
        d.push(NewEntry {
            uri: "s",
            duration: 2_000_000,
            discontinuity: true,
            program_date_time: Some(UnixMicros(10_000_000)),
            ..Default::default()
        });
        // Across a discontinuity the wall clock goes on: extrapolated, as hls.js does.
        assert_eq!(
            d.get(0).unwrap().program_date_time,
            Some(UnixMicros(8_000_000))
        );
        d.push(NewEntry {
            uri: "s",
            duration: 2_000_000,
            discontinuity: true,
            ..Default::default()
        });
        assert_eq!(
            d.get(2).unwrap().program_date_time,
            Some(UnixMicros(12_000_000))
        );
    }

    #[test]
    fn list_entries_are_32_bytes() {
        assert_eq!(size_of::<ListEntry>(), 32);
    }

    fn list() -> ListIndex {
        let mut l = ListIndex::new(Timescale::MICROS, "https://cdn.example/live/".into(), 100);
        for i in 0..5u64 {
            let uri = format!("seg{i}.ts");
            l.push(NewEntry {
                uri: &uri,
                duration: 2_000_000,
                program_date_time: Some(UnixMicros(1_000_000_000 + i as i64 * 2_000_000)),
                discontinuity: i == 3,
                ..Default::default()
            });
        }
        l
    }

    #[test]
    fn list_materializes_and_extrapolates_pdt() {
        let l = list();
        // Only the first anchor and the one after the discontinuity are stored.
        assert_eq!(l.pdt.len(), 2);
        let s = l.get(2).unwrap();
        assert_eq!(s.number, 102);
        assert_eq!(s.url, "https://cdn.example/live/seg2.ts");
        assert_eq!(s.start, 4_000_000);
        assert_eq!(s.program_date_time, Some(UnixMicros(1_004_000_000)));
        assert!(l.get(3).unwrap().discontinuity);
        assert_eq!(
            l.get(4).unwrap().program_date_time,
            Some(UnixMicros(1_008_000_000))
        );
        assert!(l.get(5).is_none());
    }

    #[test]
    fn drop_front_keeps_the_rest_exact() {
        let mut l = list();
        let before: Vec<_> = (2..5).map(|i| l.get(i).unwrap()).collect();
        l.drop_front(2);
        let after: Vec<_> = (0..3).map(|i| l.get(i).unwrap()).collect();
        assert_eq!(before, after);
    }
}
