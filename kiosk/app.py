"""The Kivy kiosk: a controller that renders the flow's current screen and feeds it touches and device
answers, and the App that puts it full screen. Import only after Kivy's environment is set (cli.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from madoguchi.kiosk.client import KioskClient
from madoguchi.kiosk.effects import EffectRunner
from madoguchi.kiosk.flow import Flow, State
from madoguchi.kiosk.flow import states as s
from madoguchi.kiosk.screens import ScreenBuilder
from madoguchi.kiosk.status import StatusReporter
from madoguchi.kiosk.theme import HIGH_CONTRAST, NORMAL, Layout
from madoguchi.kiosk.widgets import Background

log = logging.getLogger(__name__)

STAFF_PIN_MAX = 8


class KioskController:
    """Owns the flow, the effect runner and the widget tree of one kiosk screen."""

    def __init__(self, *, client: KioskClient, printer: Any, reader: Any, status: StatusReporter,
                 staff_pin_ok: Callable[[str], bool], dpi: float = 96.0, default_language: str = "ja",
                 screenshot_dir: Path | None = None, on_exit: Callable[[], None] | None = None) -> None:
        self.flow = Flow(new_key=lambda: f"kiosk-{uuid.uuid4()}", staff_pin_ok=staff_pin_ok,
                         default_language=default_language)
        self.runner = EffectRunner(client, printer, reader, status, post=self.post, later=self.later)
        self.status = status
        self.dpi = dpi
        self.screenshot_dir = screenshot_dir
        self.on_exit = on_exit or (lambda: None)
        self.root = BoxLayout(orientation="vertical")
        self.screens_rendered = 0
        self._idle: Any = None
        self._staff_digits = ""
        self._shot_pending = False
        Window.bind(on_resize=lambda *_: self.render())

    # -- events -------------------------------------------------------------------------------

    def start(self) -> None:
        self.runner.run(self.flow.start())
        self.render()

    def stop(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self.runner.close()

    def post(self, event: s.Event) -> None:
        """From any thread: deliver ``event`` on the UI thread."""
        Clock.schedule_once(lambda _dt: self.send(event), 0)

    def later(self, delay_s: float, call: Callable[[], None]) -> None:
        Clock.schedule_once(lambda _dt: call(), delay_s)

    def send(self, event: s.Event) -> None:
        before = self.flow.state
        effects = self.flow.handle(event)
        self.runner.run(effects)
        if any(isinstance(e, s.Exit) for e in effects):
            self.on_exit()
        if self.flow.state is not State.STAFF_PIN:
            self._staff_digits = ""
        self.arm_idle()
        if effects or self.flow.state is not before or not isinstance(event, s.RetryDue):
            self.render()

    def touched(self) -> None:
        """Any touch on the screen restarts the idle timer."""
        self.arm_idle()

    def arm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        timeout = self.flow.idle_timeout_s()
        if timeout is not None:
            self._idle = Clock.schedule_once(lambda _dt: self.send(s.IdleTimeout()), timeout)

    def staff_key(self, key: str) -> None:
        if key == "erase":
            self._staff_digits = self._staff_digits[:-1]
        elif key == "ok":
            digits, self._staff_digits = self._staff_digits, ""
            self.send(s.StaffPinSubmit(digits))
            return
        elif len(self._staff_digits) < STAFF_PIN_MAX:
            self._staff_digits += key
        self.render()

    # -- drawing ------------------------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        return Layout(int(Window.width), int(Window.height), self.dpi, self.flow.visit.large_text)

    def render(self) -> None:
        layout = self.layout
        palette = HIGH_CONTRAST if self.flow.visit.high_contrast else NORMAL
        builder = ScreenBuilder(self.flow, self.runner.catalog, layout, palette, self.send,
                                staff_digits=self._staff_digits, staff_key=self.staff_key)
        root = self.root
        root.clear_widgets()
        root.canvas.before.clear()
        root.padding = layout.padding
        root.spacing = layout.padding
        background = Background(palette.background)
        root.canvas.before.add(background.canvas.before)
        background_rect = background._rect

        def follow(*_: object) -> None:
            background_rect.pos, background_rect.size = root.pos, root.size
        root.bind(pos=follow, size=follow)
        follow()
        root.add_widget(self._top_bar(builder))
        root.add_widget(builder.build())
        if self.flow.can_go_back:
            root.add_widget(self._bottom_bar(builder))
        self.screens_rendered += 1
        if self.screenshot_dir is not None and not self._shot_pending:
            self._shot_pending = True
            Clock.schedule_once(lambda _dt: self._auto_shot(), 0.05)

    def _top_bar(self, b: ScreenBuilder) -> BoxLayout:
        lay, v = b.layout, self.flow.visit
        bar = BoxLayout(size_hint_y=None, height=lay.bar_height, spacing=lay.padding * 2)
        site = b.catalog.site_label if b.catalog else {}
        bar.add_widget(b.label_text(site, size=lay.small_font, bold=True, halign="left"))
        width = max(lay.touch_min_px * 2.2, lay.width * 0.16)
        if self.flow.state is State.ATTRACT:
            bar.add_widget(b.button("staff", b.t("staff_button"), s.OpenStaff(), kind="quiet", width=width,
                                    size=lay.small_font))
            return bar
        if self.flow.state in (State.STARTING, State.EXITING, State.STAFF_PIN):
            return bar
        bar.add_widget(b.button("large_text", b.t("large_text_off" if v.large_text else "large_text"),
                                s.ToggleLargeText(), kind="quiet", width=width, size=lay.small_font))
        bar.add_widget(b.button("contrast", b.t("contrast_off" if v.high_contrast else "contrast"),
                                s.ToggleContrast(), kind="quiet", width=width, size=lay.small_font))
        bar.add_widget(b.button("call_staff", b.t("staff_called" if v.staff_called else "call_staff"),
                                s.CallStaff(), kind="alert", width=width, size=lay.small_font))
        return bar

    def _bottom_bar(self, b: ScreenBuilder) -> BoxLayout:
        lay = b.layout
        bar = BoxLayout(size_hint_y=None, height=lay.bar_height, spacing=lay.padding * 2)
        if self.flow.can_go_back:
            bar.add_widget(b.button("back", b.t("back"), s.Back(), kind="quiet",
                                    width=max(lay.touch_min_px * 2.5, lay.width * 0.2)))
        bar.add_widget(Widget())
        if self.flow.state is State.PIN:
            bar.add_widget(b.button("skip_card", b.t("skip_card"), s.SkipCard(), kind="quiet",
                                    width=max(lay.touch_min_px * 3, lay.width * 0.35), size=lay.small_font))
        return bar

    # -- screenshots --------------------------------------------------------------------------

    def _auto_shot(self) -> None:
        self._shot_pending = False
        assert self.screenshot_dir is not None
        if self.flow.state is State.CARD_CONFIRM:
            return  # the resident's name and address are on it: never written to disk
        name = f"{self.screens_rendered:04d}-{self.flow.state.value}-{self.flow.visit.language}"
        self.capture(self.screenshot_dir / f"{name}.png")

    def capture(self, path: Path) -> Path:
        """A PNG of the screen now, and beside it the texts drawn and their fonts (for the glyph check)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.root.export_to_png(str(path))
        texts = [{"text": w.text, "font": w.font_name, "script": getattr(w, "font_script_name", "")}
                 for w in self.root.walk() if isinstance(w, Label) and w.text]
        path.with_suffix(".json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        return path

    def widgets(self) -> dict[str, Widget]:
        """Every touchable (and a few checked) widget of the screen, by kiosk id."""
        return {w.kiosk_id: w for w in self.root.walk() if getattr(w, "kiosk_id", None)}


class KioskApp(App):  # type: ignore[misc]
    title = "madoguchi kiosk"

    def __init__(self, controller_factory: Callable[[Callable[[], None]], KioskController], *,
                 fullscreen: bool) -> None:
        super().__init__()
        self._factory = controller_factory
        self._fullscreen = fullscreen
        self._may_close = False
        self.controller: KioskController | None = None

    def build(self) -> Widget:
        self.controller = self._factory(self.leave)
        if self._fullscreen:
            Window.fullscreen = "auto"
        Window.bind(on_request_close=self._on_request_close)
        Window.bind(on_touch_down=lambda *_: self.controller.touched() if self.controller else None)
        self.controller.start()
        return self.controller.root

    def _on_request_close(self, *_: object, **__: object) -> bool:
        return not self._may_close  # True keeps the window: only the staff PIN closes it

    def leave(self) -> None:
        self._may_close = True
        self.stop()

    def on_stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller.status.close()
