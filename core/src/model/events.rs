//! Timed events the manifest carries or announces: DASH `EventStream`s, in-band event
//! schemes, HLS `EXT-X-DATERANGE` (with raw SCTE-35).

use super::Bytes;
use crate::time::{Micros, Timescale, UnixMicros};

/// A scheme reference (`InbandEventStream`, `Role`-like descriptors).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SchemeRef {
    /// `@schemeIdUri`.
    pub scheme_id_uri: String,
    /// `@value`.
    pub value: Option<String>,
}

/// A DASH `EventStream`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EventStream {
    /// `@schemeIdUri`.
    pub scheme_id_uri: String,
    /// `@value`.
    pub value: Option<String>,
    /// `@timescale`.
    pub timescale: Timescale,
    /// `@presentationTimeOffset` in ticks.
    pub presentation_time_offset: u64,
    /// Events.
    pub events: Vec<Event>,
}

/// One DASH `Event`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Event {
    /// `@id`.
    pub id: Option<String>,
    /// `@presentationTime` in ticks of the stream's timescale.
    pub presentation_time: u64,
    /// `@duration` in ticks.
    pub duration: Option<u64>,
    /// `@messageData`, or the element's text content.
    pub message: Option<String>,
    /// SCTE-35 `splice_info_section` bytes (from `scte35:Binary` or base64 content).
    pub scte35: Option<Bytes>,
}

/// An HLS `EXT-X-DATERANGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct DateRange {
    /// `ID`.
    pub id: String,
    /// `CLASS`.
    pub class: Option<String>,
    /// `START-DATE`.
    pub start_date: UnixMicros,
    /// `END-DATE`.
    pub end_date: Option<UnixMicros>,
    /// `DURATION`.
    pub duration: Option<Micros>,
    /// `PLANNED-DURATION`.
    pub planned_duration: Option<Micros>,
    /// `END-ON-NEXT=YES`.
    pub end_on_next: bool,
    /// `SCTE35-CMD` bytes.
    pub scte35_cmd: Option<Bytes>,
    /// `SCTE35-OUT` bytes.
    pub scte35_out: Option<Bytes>,
    /// `SCTE35-IN` bytes.
    pub scte35_in: Option<Bytes>,
    /// Client attributes (`X-...`) as written.
    pub client_attributes: Vec<NameValue>,
}

impl DateRange {
    /// This range updated by a later tag of the same ID: the later tag's attributes win,
    /// the ones it leaves out are kept.
    pub fn merged_with(self, later: DateRange) -> DateRange {
        let mut client_attributes = self.client_attributes;
        for a in later.client_attributes {
            match client_attributes.iter_mut().find(|x| x.name == a.name) {
                Some(x) => x.value = a.value,
                None => client_attributes.push(a),
            }
        }
        DateRange {
            id: later.id,
            class: later.class.or(self.class),
            start_date: later.start_date,
            end_date: later.end_date.or(self.end_date),
            duration: later.duration.or(self.duration),
            planned_duration: later.planned_duration.or(self.planned_duration),
            end_on_next: later.end_on_next || self.end_on_next,
            scte35_cmd: later.scte35_cmd.or(self.scte35_cmd),
            scte35_out: later.scte35_out.or(self.scte35_out),
            scte35_in: later.scte35_in.or(self.scte35_in),
            client_attributes,
        }
    }
}

/// A name and its value as written (HLS `EXT-X-DEFINE` variables, DATERANGE `X-` attributes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NameValue {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A raw SCTE-35 cue tag of an HLS media playlist (`EXT-X-CUE-OUT`, `EXT-X-SCTE35`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CueTag {
    /// Media sequence number of the segment the tag precedes.
    pub segment_number: u64,
    /// The tag line as written.
    pub line: String,
}
