"""The Python API itself: errors, the log callback, defaults and profiles."""

import pytest

import playhead as ph

NOW = ph.Now(mono=0, wall=1_795_262_400_000_000)


def load(player, url="https://cdn.test/live.m3u8", now=NOW):
    source = ph.Source(url=url, cdn=None, priority=0)
    player.handle_input(now, ph.Input.COMMAND(ph.Command.LOAD(sources=[source], start=None)))


def drain(player):
    out = []
    while not (o := player.poll_output()).is_timeout():
        out.append(o)
    return out


def test_load_asks_for_the_manifest():
    player = ph.Player(ph.default_config(), None, ph.LogLevel.ERROR)
    load(player)
    out = drain(player)
    request = out[0][0]
    assert request.url == "https://cdn.test/live.m3u8"
    assert request.kind == ph.RequestKind.MANIFEST
    assert request.delivery == ph.Delivery.ENGINE
    assert request.byte_range is None


def test_contract_breaches_are_typed_errors_and_the_player_carries_on():
    player = ph.Player(ph.default_config(), None, ph.LogLevel.ERROR)
    with pytest.raises(ph.PlayerError.InvalidInput) as e:
        player.handle_input(NOW, ph.Input.FAILED(id=99, _class=ph.FailureClass.NETWORK, detail="x"))
    assert e.value.kind == "unknown-request"
    later = ph.Now(mono=5_000_000, wall=NOW.wall)
    player.handle_input(later, ph.Input.TIMEOUT())
    with pytest.raises(ph.PlayerError.InvalidInput) as e:
        player.handle_input(NOW, ph.Input.TIMEOUT())
    assert e.value.kind == "time-went-back"
    load(player, now=later)
    assert drain(player)


def test_values_out_of_range_are_refused_at_the_boundary():
    # A key id must be 16 bytes: the lift fails before the engine sees it.
    bad = ph.Input.CDM(ph.CdmEvent.KEY_STATUSES(session=0, statuses=[
        ph.KeyStatusEntry(kid=b"short", status=ph.KeyStatus.USABLE)]))
    player = ph.Player(ph.default_config(), None, ph.LogLevel.ERROR)
    with pytest.raises(ph.PlayerError.InvalidInput) as e:
        player.handle_input(NOW, bad)
    assert e.value.kind == "bad-value" and "key id: 5 bytes, want 16" in e.value.reason
    load(player)
    assert drain(player)


class Lines(ph.LogSink):
    def __init__(self):
        self.lines = []

    def log(self, level, message):
        self.lines.append((level, message))


class Throws(ph.LogSink):
    def log(self, level, message):
        raise RuntimeError("the host's logger is broken")


def test_log_lines_reach_the_host_by_level():
    sink = Lines()
    player = ph.Player(ph.default_config(), sink, ph.LogLevel.DEBUG)
    load(player)
    drain(player)
    assert (ph.LogLevel.DEBUG, "request #1 manifest https://cdn.test/live.m3u8") in sink.lines
    quiet = Lines()
    player = ph.Player(ph.default_config(), quiet, ph.LogLevel.WARN)
    load(player)
    drain(player)
    assert quiet.lines == []


def test_a_failing_log_callback_is_counted_not_raised():
    player = ph.Player(ph.default_config(), Throws(), ph.LogLevel.DEBUG)
    load(player)
    assert drain(player)
    assert player.callback_failures() >= 1


def test_the_log_callback_may_call_the_player():
    class Reentrant(ph.LogSink):
        def __init__(self):
            self.player = None
            self.calls = 0

        def log(self, level, message):
            self.player.stats()
            self.calls += 1

    sink = Reentrant()
    player = ph.Player(ph.default_config(), sink, ph.LogLevel.DEBUG)
    sink.player = player
    load(player)
    assert drain(player)
    assert sink.calls >= 1 and player.callback_failures() == 0


def test_defaults_profiles_and_platforms():
    config = ph.default_config()
    assert config.buffer.ahead == 30_000_000
    assert config.abr.algorithm == ph.AbrAlgorithm.PLAYHEAD
    assert config.abr.abandon is True
    ids = ph.device_profile_ids()
    assert "tizen-2019" in ids and len(ids) >= 15
    caps = ph.device_profile("android-tv-4k")
    assert caps is not None and caps.max_height >= 2160
    assert ph.device_profile("no-such-device") is None
    drm = ph.drm_config_for_platform(ph.Platform.ANDROID)
    assert drm.systems[0].system.is_widevine()
