"""The announcer: one worker thread that speaks calls one after the other (chime, then each spoken
language), never two at once and never dropping one; phrases cached; WAVs written with --audio-dir.

Audio failure (no sound card, a missing speech engine) logs one warning, sets ``status`` so the
board shows a small indicator, and the calls go on being queued, written and logged.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from madoguchi.common.protocol import CallPayload
from madoguchi.display import sound
from madoguchi.display.text import announcement

log = logging.getLogger(__name__)

AudioStatus = Literal["ok", "muted", "off", "failed"]
PHRASE_CACHE = 256
GAP_S = 0.35


@dataclass
class Spoken:
    """One announcement as it was made, for the audio log (announcements.jsonl) and tests."""

    seq: int
    number: int
    recall: bool
    phrases: dict[str, str]
    queued_at: float
    started_at: float = 0.0
    ended_at: float = 0.0
    chime_s: float = 0.0
    seconds: float = 0.0
    played: bool = False
    wav: str | None = None
    speech_wavs: dict[str, str] = field(default_factory=dict)
    speech_s: dict[str, float] = field(default_factory=dict)


class Announcer:
    def __init__(self, languages: list[str], volume: float = 0.8, *, enabled: bool = True, muted: bool = False,
                 audio_dir: Path | None = None, on_status: Callable[[AudioStatus], None] | None = None) -> None:
        self.languages = languages
        self.volume = volume
        self.enabled = enabled
        self.muted = muted
        self.audio_dir = audio_dir
        self.on_status = on_status
        self.status: AudioStatus = "off" if not enabled else ("muted" if muted else "ok")
        self.done: list[Spoken] = []
        self._jobs: queue.Queue[tuple[CallPayload, float] | None] = queue.Queue()
        self._phrases: OrderedDict[tuple[str, str], sound.Clip] = OrderedDict()
        self._chime = sound.chime()
        self._mixer = False
        self._warned: set[str] = set()
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()

    # ---- lifecycle

    def start(self) -> None:
        if self.enabled and not self.muted:
            self._mixer = self._open_mixer()
        self._thread = threading.Thread(target=self._run, name="madoguchi-display-audio", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5) -> None:
        """Stop after the announcement being played; the ones still queued are logged as not played."""
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._mixer:
            import pygame.mixer
            pygame.mixer.quit()

    def announce(self, call: CallPayload) -> None:
        """Queue a call (already known to be new): it is spoken after those queued before it."""
        if self.enabled:
            self._jobs.put((call, time.time()))

    def pending(self) -> int:
        return self._jobs.qsize()

    def wait_idle(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._jobs.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))
        return True

    # ---- worker

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                self._speak(*job)
            except Exception:
                log.exception("announcement failed")
            finally:
                self._jobs.task_done()
                with self._cond:
                    self._cond.notify_all()

    def _speak(self, call: CallPayload, queued_at: float) -> None:
        phrases = {lang: announcement(call, lang) for lang in self.languages}
        spoken = Spoken(call.seq, call.number, call.recall, phrases, queued_at)
        clip = self._chime
        spoken.chime_s = clip.seconds
        for lang, text in phrases.items():
            speech = self._phrase(lang, text)
            if speech is None:
                continue
            spoken.speech_s[lang] = speech.seconds
            clip = clip + sound.silence(GAP_S) + speech
            if self.audio_dir is not None:
                path = self.audio_dir / f"call-{call.seq:06d}-{lang}.wav"
                sound.write_wav(path, speech)
                spoken.speech_wavs[lang] = path.name
        spoken.seconds = clip.seconds
        if self.audio_dir is not None:
            path = self.audio_dir / f"call-{call.seq:06d}.wav"
            sound.write_wav(path, clip)
            spoken.wav = path.name
        spoken.started_at = time.time()
        spoken.played = self._play(clip)
        spoken.ended_at = time.time()
        self._record(spoken)

    def _phrase(self, language: str, text: str) -> sound.Clip | None:
        key = (language, text)
        if key in self._phrases:
            self._phrases.move_to_end(key)
            return self._phrases[key]
        try:
            clip = sound.speak(text, language)
        except sound.SpeechError as exc:
            self._warn_once(f"speech-{language}", "no speech in %s: %s (the chime still sounds)", language, exc)
            return None
        self._phrases[key] = clip
        while len(self._phrases) > PHRASE_CACHE:
            self._phrases.popitem(last=False)
        return clip

    def _play(self, clip: sound.Clip) -> bool:
        """Play and wait until it has finished (so nothing overlaps), or just wait as long when silent."""
        if not self._mixer:
            return False
        import pygame.mixer
        try:
            played = pygame.mixer.Sound(buffer=clip.pcm)
            played.set_volume(self.volume)
            channel = played.play()
        except pygame.error as exc:
            self._failed(f"playing failed: {exc}")
            return False
        deadline = time.monotonic() + clip.seconds + 2.0
        time.sleep(clip.seconds)
        while channel is not None and channel.get_busy() and time.monotonic() < deadline:
            time.sleep(0.02)
        return True

    def _record(self, spoken: Spoken) -> None:
        with self._cond:
            self.done.append(spoken)
            self._cond.notify_all()
        if self.audio_dir is not None:
            with (self.audio_dir / "announcements.jsonl").open("a", encoding="utf-8") as out:
                out.write(json.dumps(asdict(spoken), ensure_ascii=False) + "\n")
        log.info("announced %s (seq %d, %.1f s%s)", spoken.number, spoken.seq, spoken.seconds,
                 "" if spoken.played else ", not played")

    # ---- the sound card

    def _open_mixer(self) -> bool:
        try:
            import pygame.mixer
            pygame.mixer.init(frequency=sound.RATE, size=-16, channels=1, buffer=2048)
        except Exception as exc:  # pygame.error, or pygame not importable in some odd build
            self._failed(f"no sound output ({exc})")
            return False
        return True

    def _failed(self, why: str) -> None:
        self._warn_once("mixer", "audio unavailable, the board goes on without sound: %s", why)
        self._mixer = False
        if self.status != "failed":
            self.status = "failed"
            if self.on_status is not None:
                self.on_status(self.status)

    def _warn_once(self, key: str, text: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(text, *args)
