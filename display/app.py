"""The display's main loop: MQTT updates → board → a frame drawn only when something visible changed.

Redraws happen on a message, when a highlight ends, the clock's minute or the language turns, or the
board's trust changes; between them the loop sleeps on an event the MQTT thread sets (an idle display uses
almost no CPU). With a screenshot directory, ``screen.png`` (and ``screen.json``, what it shows) is
written after each change, at most once a second.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pygame

from madoguchi.common.protocol import CallPayload, DeviceStatusPayload, SeenCalls, StatePayload
from madoguchi.display.audio import Announcer, AudioStatus
from madoguchi.display.board import Board
from madoguchi.display.layout import compute
from madoguchi.display.render import Frame, Renderer
from madoguchi.display.settings import DisplaySettings
from madoguchi.display.subscriber import Link, Received, Subscriber

log = logging.getLogger(__name__)

SCREENSHOT_EVERY_S = 1.0
STATUS_EVERY_S = 30.0
STATUS_MIN_GAP_S = 5.0
TICK_S = 0.25


@dataclass
class Options:
    site: str
    size: tuple[int, int] | None
    fullscreen: bool
    screenshot_dir: Path | None
    timezone: str = "Asia/Tokyo"
    run_for_s: float | None = None  # tests and the bench: stop by itself
    frame_log: Path | None = None  # the bench: one JSON line per frame drawn


class DisplayApp:
    def __init__(self, options: Options, settings: DisplaySettings, subscriber: Subscriber,
                 announcer: Announcer) -> None:
        self.options = options
        self.settings = settings
        self.subscriber = subscriber
        self.announcer = announcer
        self.board = Board(settings.highlight_s, settings.stale_after_s)
        self.seen = SeenCalls()
        self.zone = ZoneInfo(options.timezone)
        self.rotation = settings.rotation()
        self.frames = 0
        self._audio: AudioStatus = announcer.status
        self._drawn_key: object = None
        self._shot_due = False
        self._shot_thread: threading.Thread | None = None
        self._last_shot = 0.0
        self._last_status = 0.0
        self._stopping = False
        self._status_due = False
        self._woken = threading.Event()
        announcer.on_status = self._audio_changed

    # ---- running

    def run(self) -> None:
        screen = self._open_screen()
        self.renderer = Renderer(compute(*screen.get_size(), band_count=3))
        self.subscriber.wake = self._woken.set
        self.subscriber.start()
        self.announcer.start()
        self.subscriber.report(audio=self.announcer.status)
        started = time.monotonic()
        try:
            while not self._stopping:
                for event in pygame.event.get():
                    if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                        self._stopping = True
                self._drain(time.monotonic())
                now = time.monotonic()
                self._frame(screen, now)
                self._screenshot(screen, now)
                since = now - self._last_status
                if since >= STATUS_EVERY_S or (self._status_due and since >= STATUS_MIN_GAP_S):
                    self._report()
                if self.options.run_for_s is not None and now - started >= self.options.run_for_s:
                    break
                # sleep until an MQTT update or the next tick (SDL's own wait polls on some drivers)
                self._woken.wait(TICK_S)
                self._woken.clear()
        finally:
            self.subscriber.stop()
            self.announcer.stop()
            if self._shot_thread is not None:
                self._shot_thread.join(5)
            pygame.quit()

    def stop(self) -> None:
        self._stopping = True
        self._woken.set()

    def _open_screen(self) -> pygame.Surface:
        pygame.display.init()
        pygame.display.set_caption("madoguchi")
        if self.options.fullscreen:
            screen = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
            pygame.mouse.set_visible(False)
        else:
            screen = pygame.display.set_mode(self.options.size or (1920, 1080))
        log.info("display %dx%d (SDL video driver %s)", *screen.get_size(), pygame.display.get_driver())
        return screen

    # ---- updates

    def _drain(self, now: float) -> None:
        while True:
            try:
                update = self.subscriber.updates.get_nowait()
            except queue.Empty:
                return
            self.apply(update)

    def apply(self, update: Received | Link) -> None:
        """One update from the subscriber; a new call is announced only once a state was seen."""
        if isinstance(update, Link):
            self.board.set_connected(update.connected)
            return
        message, at = update.message, update.at
        if isinstance(message, StatePayload):
            first = self.board.state_seq is None
            self.seen.saw_state(message)
            self.board.apply_state(message, at)
            self._status_due = True
            if first:
                self._report()
        elif isinstance(message, CallPayload):
            # Before the first state, calls are history (a persistent session's backlog): shown, not said.
            live = self.board.state_seq is not None
            if self.seen.is_new(message):
                self.board.apply_call(message, at)
                if live:
                    self.announcer.announce(message)
        elif isinstance(message, DeviceStatusPayload):
            self.board.set_server_online(message.online)

    def _audio_changed(self, status: AudioStatus) -> None:
        self._audio = status
        self.subscriber.report(audio=status)

    def _report(self) -> None:
        self._last_status = time.monotonic()
        self._status_due = False
        seq = self.board.state_seq
        self.subscriber.report(audio=self._audio, state_seq=seq,
                               state_at=dt.datetime.now(dt.UTC).astimezone() if seq is not None else None)

    # ---- drawing

    def language_at(self, now: float) -> str:
        step = int(now // self.settings.rotate_s) % len(self.rotation)
        return self.rotation[step]

    def _frame(self, screen: pygame.Surface, now: float) -> None:
        view = self.board.view(now, rows=self.renderer.layout.rows)
        if len(view.bands) > len(self.renderer.layout.band_cells):
            self.renderer = Renderer(compute(*screen.get_size(), band_count=len(view.bands)))
        language = self.language_at(now)
        wall = dt.datetime.now(self.zone)
        key = (self.board.version, view.highlighted, view.trusted, language, wall.strftime("%Y%m%d%H%M"),
               self._audio)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        frame = Frame(view, language, wall, self._audio, self.settings.message, self.settings.site_name)
        began = time.perf_counter()
        drawn = self.renderer.draw(screen, frame)
        if self.frames == 0:
            pygame.display.flip()
        elif drawn.changed:
            pygame.display.update(drawn.changed)  # a call redraws half the screen; the clock a strip
        draw_ms = (time.perf_counter() - began) * 1000
        self.frames += 1
        self._shot_due = True
        self._shot_info = {
            "frame": self.frames, "drawn_at": time.time(), "draw_ms": round(draw_ms, 1), "language": language,
            "size": list(screen.get_size()), "trusted": view.trusted, "notice": not view.trusted,
            "highlighted": view.highlighted, "audio": self._audio, "state_seq": view.state_seq,
            "main": None if view.main is None else {"seq": view.main.seq, "number": view.main.number,
                                                    "counter": view.main.counter, "recall": view.main.recall},
            "number_rect": None if drawn.number is None else list(drawn.number),
            "recent": [c.number for c in view.recent],
        }
        if self.options.frame_log is not None:
            with self.options.frame_log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(self._shot_info, ensure_ascii=False) + "\n")

    def _screenshot(self, screen: pygame.Surface, now: float) -> None:
        directory = self.options.screenshot_dir
        if directory is None or not self._shot_due or now - self._last_shot < SCREENSHOT_EVERY_S:
            return
        self._shot_due = False
        self._last_shot = now
        if self._shot_thread is not None and self._shot_thread.is_alive():
            self._shot_due = True  # the previous one is still being written: take this one next time
            return
        # PNG encoding takes longer than a frame: a copy is written by a thread, the board goes on
        self._shot_thread = threading.Thread(target=_save_screenshot, name="madoguchi-display-screenshot",
                                             args=(directory, screen.copy(), dict(self._shot_info)), daemon=True)
        self._shot_thread.start()


def _save_screenshot(directory: Path, image: pygame.Surface, info: dict[str, object]) -> None:
    """screen.png, then screen.json describing it; each replaced whole, so a reader never sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / "screen.tmp.png"
    pygame.image.save(image, str(tmp))
    os.replace(tmp, directory / "screen.png")
    meta = directory / "screen.tmp.json"
    meta.write_text(json.dumps({**info, "saved_at": time.time()}, ensure_ascii=False), encoding="utf-8")
    os.replace(meta, directory / "screen.json")
