//! Every reader of this module run on arbitrary bytes: the body of the media fuzz targets
//! (`fuzz/fuzz_targets/bmff.rs`, `ts.rs`) and of the replay of their regressions. Each call
//! must return (a value or a typed error), never panic, hang or allocate beyond the input.

use super::InitInfo;

/// ISO BMFF: the input as an init segment, as a fragment of itself and of `init` (give a
/// real one, so that random fragments reach `trun` and `senc`), and through the box
/// readers, the Smooth rewriter and the fMP4 writer; also as SCTE-35 and ID3 payloads.
pub fn boxes(data: &[u8], init: Option<&InitInfo>) {
    if let Ok(init) = super::parse_init(data) {
        let _ = super::fragment_samples(data, &init);
        let configs: Vec<_> = init.tracks.iter().map(|t| t.config.clone()).collect();
        let _ = super::mux::init_segment(&configs);
    }
    if let Some(init) = init {
        if let Ok(samples) = super::fragment_samples(data, init) {
            let fragment = super::mux::TrackFragment {
                track_id: 1,
                units: &samples.units,
            };
            let _ = super::mux::media_segment(1, &[fragment]);
        }
    }
    let _ = super::sidx::find_sidx(data);
    let _ = super::protection::parse_pssh_boxes(data);
    let _ = super::emsg::emsg_boxes(data);
    let _ = super::smooth::fragment_time(data);
    let _ = super::smooth::rewrite_fragment(data, 1, 1 << 40);
    let _ = super::scte35::parse_splice_info(data);
    let _ = super::id3::parse_id3(data);
}

/// MPEG-TS: the input as one segment and as two (split in the middle, so timestamp
/// unwrapping and carried-over state are exercised), then remuxed to fMP4.
pub fn ts(data: &[u8]) {
    let mut reader = super::es::TsReader::new();
    let half = (data.len() / 2) / super::ts::PACKET_LEN * super::ts::PACKET_LEN;
    let _ = reader.read(data.get(..half).unwrap_or_default());
    if let Ok(samples) = reader.read(data.get(half..).unwrap_or_default()) {
        let _ = super::mux::init_segment(&samples.configs);
    }
    let _ = super::demux(data);
    let _ = super::adts_frames(data);
}
