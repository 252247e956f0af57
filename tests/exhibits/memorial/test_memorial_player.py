"""The player on the simulated sound card: order, loudspeakers, pause, loudness, bad files."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from memorial_support import RATE, dominant_frequency, entry_for, name_audio, put_in_library, sounding_stretches  # noqa: E402

from kiosk.loudness import integrated_loudness  # noqa: E402
from exhibits.memorial.library import Library  # noqa: E402
from exhibits.memorial.loudness import gain_for, true_peak  # noqa: E402
from exhibits.memorial.player import Player  # noqa: E402
from exhibits.memorial.playlist import ChannelMap, Playlist  # noqa: E402
from hardware.multichannel.simulated import SimulatedMultichannel  # noqa: E402

PAUSE_S = 0.5
PADDING_S = 0.2  # the silence name_audio puts around each tone


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def play(player: Player, output: SimulatedMultichannel, clock: Clock, seconds: float, *, open_now: bool = True) -> None:
    step = 0.05
    for _ in range(int(seconds / step)):
        player.step(open_now)
        output.advance(step)
        clock.now += step


def make_player(tmp_path: Path, specs: list[tuple[str, int, int, float, float]], channels: int = 2):
    """specs: (transport, position, list number, frequency, level) for each name."""
    library = Library(tmp_path / "memorial")
    entries = []
    for transport, position, number, frequency, level in specs:
        audio = name_audio(frequency, level=level)
        put_in_library(library.folder, audio)
        entries.append(entry_for(audio, f"p-{transport}-{number}", transport, position, number))
    output = SimulatedMultichannel(channels)
    output.open()
    clock = Clock()
    player = Player(output, library, ChannelMap(channels), pause_s=PAUSE_S, target_lufs=-23, peak_dbfs=-1, clock=clock)
    player.update(Playlist(entries))
    return player, output, clock, library, entries


def test_names_sound_in_order_each_transport_on_its_channel_at_one_loudness_with_the_pause(tmp_path):
    specs = [
        ("XX", 0, 2, 330.0, 0.5),
        ("Z", 1, 1, 550.0, 0.02),
        ("XX", 0, 1, 220.0, 0.05),
        ("Z", 1, 7, 880.0, 0.3),
    ]
    player, output, clock, _, _ = make_player(tmp_path, specs)
    play(player, output, clock, 4 * (1.0 + PAUSE_S) + 0.5)
    recorded = output.recorded()
    stretches = sounding_stretches(recorded)[:4]
    assert [round(dominant_frequency(recorded[a:b, channel])) for a, b, channel in stretches] == [220, 330, 550, 880]
    assert [channel for _, _, channel in stretches] == [0, 0, 1, 1]
    for first, end, channel in stretches:
        # Measured as the gain was: the whole recording, its silent edges included.
        edge = int(PADDING_S / 2 * RATE)
        name = recorded[max(0, first - edge) : end + edge, channel]
        assert integrated_loudness(name, RATE) == pytest.approx(-23, abs=0.2)
        others = np.delete(recorded[first:end], channel, axis=1)
        assert not others.any()  # nothing leaks onto another loudspeaker
    gaps = [(b_first - a_end) / RATE for (_, a_end, _), (b_first, _, _) in zip(stretches, stretches[1:])]
    # Between two tones: the trailing and leading silence of the files, and the pause.
    assert gaps == pytest.approx([PAUSE_S + PADDING_S] * 3, abs=0.03)
    assert output.mixer.late_frames == 0  # the next name was always queued in time


def test_a_missing_corrupt_or_undecodable_file_is_skipped_and_reported_and_the_memorial_goes_on(tmp_path, caplog):
    specs = [("XX", 0, n, 200.0 + 100 * n, 0.3) for n in range(1, 6)]
    player, output, clock, library, entries = make_player(tmp_path, specs)
    library.path_of(entries[1].sha256).unlink()  # missing
    damaged = library.path_of(entries[2].sha256)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))  # same size, other bytes
    garbage = b"not a flac file at all" * 20  # its sha matches: it is what the store sent
    put_in_library(library.folder, garbage)
    undecodable = entry_for(garbage, "p-XX-9", "XX", 0, 9)
    player.update(Playlist([*entries, undecodable]))
    with caplog.at_level(logging.ERROR):
        play(player, output, clock, 3 * (1.0 + PAUSE_S) + 0.5)
    recorded = output.recorded()
    heard = [round(dominant_frequency(recorded[a:b, c])) for a, b, c in sounding_stretches(recorded)]
    assert heard[:3] == [300, 600, 700]
    assert {skip.reason for skip in player.skips} == {"missing", "corrupt", "undecodable"}
    skipped = [r for r in caplog.records if r.getMessage() == "memorial skipped a name"]
    assert sorted(r.problem for r in skipped) == ["corrupt", "missing", "undecodable"]
    assert all(r.hint for r in skipped)
    assert not damaged.exists() and damaged.with_name(damaged.name + ".corrupt").exists()
    # Round again: each bad file is reported once, not at every pass.
    with caplog.at_level(logging.ERROR):
        play(player, output, clock, 3 * (1.0 + PAUSE_S))
    assert len([r for r in caplog.records if r.getMessage() == "memorial skipped a name"]) == 3


def test_outside_opening_hours_nothing_new_starts_and_tomorrow_goes_on_from_there(tmp_path):
    specs = [("XX", 0, n, 200.0 + 100 * n, 0.3) for n in range(1, 5)]
    player, output, clock, _, _ = make_player(tmp_path, specs)
    play(player, output, clock, 0.3)  # the first name begins
    play(player, output, clock, 5.0, open_now=False)  # closing time: it ends, nothing follows
    closed_at = len(output.recorded())
    play(player, output, clock, 2 * (1.0 + PAUSE_S) + 0.3)
    recorded = output.recorded()
    stretches = sounding_stretches(recorded)
    assert [round(dominant_frequency(recorded[a:b, c])) for a, b, c in stretches][:3] == [300, 400, 500]
    assert stretches[0][1] < closed_at - 4 * RATE  # the first name ended soon after closing
    assert stretches[1][0] >= closed_at


def test_a_lost_sound_card_is_taken_back_when_it_returns(tmp_path):
    specs = [("XX", 0, n, 200.0 + 100 * n, 0.3) for n in range(1, 4)]
    player, output, clock, _, _ = make_player(tmp_path, specs)
    play(player, output, clock, 0.5)
    output.lose()
    play(player, output, clock, 3.0)
    assert not output.check() and "unplugged" in output.last_problem
    output.restore()
    play(player, output, clock, 3 * (1.0 + PAUSE_S))
    recorded = output.recorded()
    heard = [round(dominant_frequency(recorded[a:b, c])) for a, b, c in sounding_stretches(recorded)]
    assert 400 in heard and 500 in heard


def test_short_names_and_names_that_would_clip_get_a_gain_that_keeps_them_level_and_unclipped():
    t = np.arange(int(0.25 * RATE)) / RATE
    short = (0.05 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)  # a quarter of a second: "Ida"
    gain = gain_for(short, RATE, target_lufs=-23, peak_dbfs=-1)
    assert not gain.limited
    assert integrated_loudness(short * gain.factor, RATE) == pytest.approx(-23, abs=0.2)
    clicks = np.zeros(RATE, dtype=np.float32)
    clicks[:: RATE // 4] = 0.5  # loud peaks, little loudness: the full gain would clip
    limited = gain_for(clicks, RATE, target_lufs=-23, peak_dbfs=-1)
    assert limited.limited and limited.played_lufs < -23
    assert 20 * np.log10(true_peak(clicks * limited.factor, RATE)) == pytest.approx(-1, abs=0.05)
