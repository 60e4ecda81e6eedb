"""Sound: the synthesised chime, Japanese speech through Open JTalk, English through espeak-ng, measured
from the WAVs; a burst of calls read in order without overlap; no sound card → one warning, board goes on.
"""

from __future__ import annotations

import array
import itertools
import json
import logging

import pytest

from madoguchi.display import sound
from madoguchi.display.audio import Announcer
from tests.display.samples import call

SPEECH_RMS = 800  # 16-bit samples: speech is well above this, digital silence is 0


def dominant_hz(clip: sound.Clip, start_s: float, end_s: float) -> float:
    samples = array.array("h", clip.pcm)[round(start_s * sound.RATE):round(end_s * sound.RATE)]
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return crossings / 2 / (end_s - start_s)


def test_the_chime_is_two_falling_notes_made_here():
    chime = sound.chime()
    assert 1.2 <= chime.seconds <= 2.0
    assert sound.rms(chime, 0, 0.3) > 3000
    first, second = dominant_hz(chime, 0.05, 0.4), dominant_hz(chime, 0.8, 1.1)
    assert first == pytest.approx(659, rel=0.05) and second == pytest.approx(523, rel=0.05)


def test_japanese_speech_reads_the_number_as_a_number():
    long = sound.speak("受付番号 312番の方、3番窓口へお越しください。", "ja")
    short = sound.speak("受付番号 1番の方、3番窓口へお越しください。", "ja")
    assert 3.0 <= long.seconds <= 10.0, long.seconds
    assert sound.rms(long) > SPEECH_RMS
    # さんびゃくじゅうに is about five morae longer than いち: digits read one by one would be shorter
    assert long.seconds - short.seconds >= 0.4, (long.seconds, short.seconds)


def test_english_speech_through_espeak_ng():
    clip = sound.speak("Number 312, please come to Counter 3.", "en")
    assert 2.0 <= clip.seconds <= 8.0 and sound.rms(clip) > SPEECH_RMS


def test_a_language_without_a_voice_is_a_speech_error():
    with pytest.raises(sound.SpeechError):
        sound.speak("bonjour", "fr")


def test_the_wavs_of_a_call_carry_chime_then_speech(tmp_path):
    announcer = Announcer(["ja", "en"], audio_dir=tmp_path, muted=True)
    announcer.start()
    try:
        announcer.announce(call(5, 312, 3))
        assert announcer.wait_idle(30)
    finally:
        announcer.stop()
    [spoken] = [json.loads(line) for line in (tmp_path / "announcements.jsonl").read_text().splitlines()]
    assert spoken["phrases"]["ja"] == "受付番号 312番の方、3番窓口へお越しください。"
    whole = sound.read_wav(tmp_path / spoken["wav"])
    ja = sound.read_wav(tmp_path / spoken["speech_wavs"]["ja"])
    assert sound.rms(ja) > SPEECH_RMS and 3.0 <= ja.seconds <= 10.0
    assert whole.seconds == pytest.approx(spoken["chime_s"] + sum(spoken["speech_s"].values()) + 2 * 0.35, abs=0.01)
    # speech starts after the chime and its gap
    speech_from = spoken["chime_s"] + 0.35
    assert sound.rms(whole, speech_from, speech_from + ja.seconds) > SPEECH_RMS
    assert spoken["played"] is False  # muted: written, not played


def test_a_burst_of_five_calls_is_read_in_order_never_overlapping(tmp_path, monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")  # a sound card that plays in real time, into nothing
    announcer = Announcer(["ja"], audio_dir=tmp_path)
    announcer.start()
    try:
        assert announcer.status == "ok"
        for i in range(5):
            announcer.announce(call(100 + i, 301 + i, 4 + i % 3))
        assert announcer.wait_idle(120)
    finally:
        announcer.stop()
    done = announcer.done
    assert [s.seq for s in done] == [100, 101, 102, 103, 104], "none dropped, in order"
    assert all(s.played for s in done)
    for before, after in itertools.pairwise(done):
        assert after.started_at >= before.ended_at, "two announcements overlapped"
    for spoken in done:  # each played for at least its own length: chime and speech never cut short
        assert spoken.ended_at - spoken.started_at >= spoken.seconds - 0.05


def test_phrases_are_cached(tmp_path):
    announcer = Announcer(["ja"], muted=True, audio_dir=tmp_path)
    announcer.start()
    try:
        announcer.announce(call(1, 12, 1))
        announcer.announce(call(2, 12, 1))
        assert announcer.wait_idle(30)
    finally:
        announcer.stop()
    assert len(announcer._phrases) == 1 and len(announcer.done) == 2


def test_no_sound_card_warns_once_and_announcements_go_on(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-driver")
    statuses = []
    announcer = Announcer(["ja"], audio_dir=tmp_path, on_status=statuses.append)
    with caplog.at_level(logging.WARNING, logger="madoguchi.display.audio"):
        announcer.start()
        try:
            announcer.announce(call(1, 12, 1))
            announcer.announce(call(2, 13, 2))
            assert announcer.wait_idle(30)
        finally:
            announcer.stop()
    warnings = [r for r in caplog.records if "audio unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert announcer.status == "failed" and statuses == ["failed"]
    assert [s.played for s in announcer.done] == [False, False]
    assert (tmp_path / "call-000002-ja.wav").is_file()
