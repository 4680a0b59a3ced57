#!/usr/bin/env bash
# Records what ffprobe reads from every committed segment, for the tests that compare the
# core's sample sink with it (conformance/src/probe.rs). Run by make.sh; rerun by hand after
# changing the media. Output: ffprobe.csv, one line per packet:
#   file,pts,dts,duration,keyframe,size
# Times are in the stream's time base as ffprobe prints them: the fMP4 track's timescale
# (init segment + media segment read together), 90 kHz for MPEG-TS.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/ffprobe.csv"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "file,pts,dts,duration,keyframe,size" > "$out"
for d in a v/144p v/270p v/360p; do
  for n in 0 1 2 3 4 5 6 7; do
    cat "$here/$d/init.mp4" "$here/$d/$n.m4s" > "$tmp/seg.mp4"
    for f in "$d/$n.m4s:$tmp/seg.mp4" "$d/$n.ts:$here/$d/$n.ts"; do
      name="${f%%:*}"
      ffprobe -v error -show_packets -of csv=p=0 \
        -show_entries packet=pts,dts,duration,flags,size "${f#*:}" |
        awk -F, -v name="$name" '$1 != "" { k = (index($5, "K") > 0) ? 1 : 0; print name "," $1 "," $2 "," $3 "," k "," $4 }' >> "$out"
    done
  done
done
wc -l "$out"
