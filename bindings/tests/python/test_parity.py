"""The conformance scenarios replayed through the Python binding: every recorded input is
fed to a binding `Player` and every output drained, and the transcript must equal the native
Rust run's line for line (`playhead-parity` writes both the recordings and the transcripts)."""

import pytest

import playhead as ph
from conftest import FIXTURES

NAMES = (FIXTURES / "index.txt").read_text().split()


def stamp(mono: int) -> str:
    return f"{mono // 1_000_000:>5}.{mono % 1_000_000 // 1000:03}"


def stats_line(s: ph.Stats) -> str:
    opt = lambda m: "-" if m is None else str(m)
    errors = ",".join(f"{e.error_class.name.lower().replace('_', '-')}:{e.count}" for e in s.errors)
    cdn_bytes = ",".join(f"{b.cdn}:{b.bytes}" for b in s.bytes_by_cdn)
    return (
        f"stats startup={opt(s.startup_time)} stalls={s.stall_count} "
        f"stall_time={s.stall_time} play_time={s.play_time} switches={s.switch_count} "
        f"average_bitrate={s.average_bitrate} retries={s.retries} "
        f"location_changes={s.location_changes} cdn={s.cdn or '-'} "
        f"errors=[{errors}] bytes=[{cdn_bytes}]"
    )


def replay(recording: ph.Recording) -> tuple[list[str], list[ph.Output]]:
    player = ph.Player(recording.config, None, ph.LogLevel.ERROR)
    lines, outputs = [], []
    for timed in recording.inputs:
        try:
            player.handle_input(timed.now, timed.input)
        except ph.PlayerError.InvalidInput as e:
            lines.append(f"{stamp(timed.now.mono)} input refused: {e.reason}")
        while True:
            out = player.poll_output()
            outputs.append(out)
            if out.is_timeout():
                break
            line = ph.describe_output(out)
            if line is not None:
                lines.append(f"{stamp(timed.now.mono)} {line}")
    lines.append(stats_line(player.stats()))
    return lines, outputs


@pytest.mark.parametrize("name", NAMES)
def test_transcript_equals_native(name):
    recording = ph.read_recording((FIXTURES / f"{name}.rec").read_bytes())
    want = (FIXTURES / f"{name}.txt").read_text().splitlines()
    got, outputs = replay(recording)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"line {k + 1}"
    # The outputs read as Python values, not opaque handles.
    requests = [o[0] for o in outputs if o.is_request()]
    assert requests and requests[0].kind == ph.RequestKind.MANIFEST
    assert requests[0].url.startswith("https://")
    assert isinstance(requests[0].id, int)


def test_fixture_set_is_complete():
    # Seven with the shared corpus (the DRM scenario plays one of its MPDs), six without.
    assert len(NAMES) >= 6
    assert sum("live" in n for n in NAMES) >= 3


def test_a_cut_recording_is_a_typed_error():
    data = (FIXTURES / f"{NAMES[0]}.rec").read_bytes()
    with pytest.raises(ph.PlayerError.Unreadable) as e:
        ph.read_recording(data[: len(data) // 2])
    assert "corrupt" in str(e.value)
