"""Sound as data: the chime (synthesised here, no recording from elsewhere), speech through Open JTalk
(Japanese) and espeak-ng (the other languages), 16-bit mono PCM at one rate, WAV files. No pygame.
"""

from __future__ import annotations

import array
import math
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

RATE = 48_000
"""Every clip is 16-bit mono at this rate (Open JTalk's own; espeak-ng's 22,050 Hz is resampled)."""

OPEN_JTALK_DICT = Path("/var/lib/mecab/dic/open-jtalk/naist-jdic")
OPEN_JTALK_VOICE = Path("/usr/share/hts-voice/nitech-jp-atr503-m001/nitech_jp_atr503_m001.htsvoice")
ESPEAK_VOICES = {"en": "en-us", "vi": "vi", "zh": "cmn", "ko": "ko", "ne": "ne"}
TIMEOUT_S = 20


class SpeechError(RuntimeError):
    """A speech engine is missing or failed: the announcement keeps its chime and the board goes on."""


@dataclass(frozen=True)
class Clip:
    pcm: bytes  # 16-bit little-endian mono at RATE

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / RATE

    def __add__(self, other: Clip) -> Clip:
        return Clip(self.pcm + other.pcm)


def silence(seconds: float) -> Clip:
    return Clip(bytes(2 * round(seconds * RATE)))


def chime(volume: float = 1.0) -> Clip:
    """A two-note ding-dong (E5 then C5) with soft harmonics and a bell-like decay, about 1.6 s."""
    samples = array.array("h")
    for freq, length in ((659.25, 0.75), (523.25, 0.9)):
        n = round(length * RATE)
        for i in range(n):
            t = i / RATE
            envelope = min(1.0, t / 0.005) * math.exp(-3.2 * t)
            value = (math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(4 * math.pi * freq * t)
                     + 0.12 * math.sin(6 * math.pi * freq * t)) / 1.47
            samples.append(round(32767 * 0.6 * volume * envelope * value))
    return Clip(samples.tobytes())


def engine_for(language: str) -> str:
    return "open_jtalk" if language.split("-")[0] == "ja" else "espeak-ng"


def speak(text: str, language: str) -> Clip:
    """``text`` spoken in ``language``: Open JTalk for ja and ja-easy, espeak-ng for the others."""
    with tempfile.TemporaryDirectory(prefix="madoguchi-speech-") as tmp:
        out = Path(tmp) / "speech.wav"
        if engine_for(language) == "open_jtalk":
            if shutil.which("open_jtalk") is None or not OPEN_JTALK_DICT.is_dir() or not OPEN_JTALK_VOICE.is_file():
                raise SpeechError("Open JTalk, its dictionary or its voice is missing "
                                  "(Debian open-jtalk open-jtalk-mecab-naist-jdic hts-voice-nitech-jp-atr503-m001)")
            source = Path(tmp) / "text.txt"
            source.write_text(text, encoding="utf-8")
            command = ["open_jtalk", "-x", str(OPEN_JTALK_DICT), "-m", str(OPEN_JTALK_VOICE), "-ow", str(out),
                       str(source)]
        else:
            voice = ESPEAK_VOICES.get(language.split("-")[0])
            if voice is None:
                raise SpeechError(f"no espeak-ng voice for {language!r}")
            if shutil.which("espeak-ng") is None:
                raise SpeechError("espeak-ng is missing (Debian espeak-ng)")
            command = ["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), text]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeechError(f"{command[0]} failed: {exc}") from exc
        if done.returncode != 0 or not out.is_file():
            why = done.stderr.decode(errors="replace")[:200]
            raise SpeechError(f"{command[0]} exited with {done.returncode}: {why}")
        return read_wav(out)


def read_wav(path: Path) -> Clip:
    """A WAV file as a Clip: mixed down to mono and resampled to RATE (linear; speech needs no better)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise SpeechError(f"{path}: {8 * w.getsampwidth()}-bit audio, expected 16-bit")
        channels, rate = w.getnchannels(), w.getframerate()
        frames = array.array("h", w.readframes(w.getnframes()))
    if channels > 1:
        frames = array.array("h", (round(sum(frames[i:i + channels]) / channels)
                                   for i in range(0, len(frames), channels)))
    if rate != RATE:
        frames = _resample(frames, rate)
    return Clip(frames.tobytes())


def _resample(frames: array.array, rate: int) -> array.array:
    n = len(frames)
    if n == 0:
        return frames
    out_n = round(n * RATE / rate)
    step = rate / RATE
    out = array.array("h", bytes(2 * out_n))
    last = n - 1
    for i in range(out_n):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = frames[last]
        else:
            frac = pos - j
            out[i] = round(frames[j] + (frames[j + 1] - frames[j]) * frac)
    return out


def write_wav(path: Path, clip: Clip) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(clip.pcm)
    tmp.replace(path)


def rms(clip: Clip, start_s: float = 0.0, end_s: float | None = None) -> float:
    """Root mean square of the samples between two times (0..32767): speech energy for checks and logs."""
    samples = array.array("h", clip.pcm)
    lo = round(start_s * RATE)
    hi = len(samples) if end_s is None else min(len(samples), round(end_s * RATE))
    part = samples[lo:hi]
    if not part:
        return 0.0
    return math.sqrt(sum(s * s for s in part) / len(part))
