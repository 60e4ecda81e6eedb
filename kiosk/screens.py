"""One builder per screen of the flow: reads the flow's state and the catalog, returns Kivy widgets.

A screen is rebuilt whole after every event (the flow is the only state), so what a screenshot shows
is exactly what the flow says. Texts come from the ``kiosk`` message catalog and config/catalog.toml.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from madoguchi.common.i18n import message
from madoguchi.common.languages import LANGUAGE_NAMES
from madoguchi.kiosk.flow import Flow
from madoguchi.kiosk.flow import states as s
from madoguchi.kiosk.flow.household import AgeGroup
from madoguchi.kiosk.models import Catalog, Label, PlanView, Ticket
from madoguchi.kiosk.theme import RGB, Layout, Palette
from madoguchi.kiosk.widgets import BigButton, TextLabel

Send = Callable[[s.Event], None]
PIN_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0", "ok")
SEX_KEYS = {"1": "sex_male", "2": "sex_female", "9": "sex_other"}


class ScreenBuilder:
    def __init__(self, flow: Flow, catalog: Catalog | None, layout: Layout, palette: Palette, send: Send,
                 staff_digits: str = "", staff_key: Callable[[str], None] | None = None) -> None:
        self.flow, self.catalog, self.layout, self.palette, self.send = flow, catalog, layout, palette, send
        self.lang = flow.visit.language
        self.staff_digits = staff_digits
        self.staff_key = staff_key or (lambda key: None)

    # -- small helpers ------------------------------------------------------------------------

    def t(self, key: str, **params: object) -> str:
        return message("kiosk", key, self.lang, **params)

    def pick(self, labels: Label) -> tuple[str, str]:
        """A catalog label in the screen's language, else the nearest one there is, and its language
        (so it is drawn in a font that has its script)."""
        for lang in (self.lang, "ja" if self.lang.startswith("ja") else "en", "ja", *labels):
            if labels.get(lang):
                return labels[lang], lang
        return "", self.lang

    @property
    def bullet(self) -> str:
        return "・" if self.lang in ("ja", "ja-easy", "zh") else "- "

    def label(self, labels: Label) -> str:
        return self.pick(labels)[0]

    def label_text(self, labels: Label, **options: object) -> TextLabel:
        text, lang = self.pick(labels)
        return self.text(text, language=lang, **options)  # type: ignore[arg-type]

    def label_button(self, kiosk_id: str, labels: Label, event: s.Event, **options: object) -> BigButton:
        text, lang = self.pick(labels)
        return self.button(kiosk_id, text, event, language=lang, **options)  # type: ignore[arg-type]

    def text(self, text: str, *, size: float | None = None, bold: bool = False, color: RGB | None = None,
             height: float | None = None, language: str | None = None, halign: str = "center") -> TextLabel:
        return TextLabel(text, language or self.lang, size_px=size or self.layout.font, bold=bold,
                         color=color or self.palette.text, halign=halign, min_height=height or 0)

    def button(self, kiosk_id: str, text: str, event: s.Event | Callable[[], None], *, kind: str = "choice",
               language: str | None = None, size: float | None = None, height: float | None = None,
               width: float | None = None, icon: str | None = None) -> BigButton:
        p = self.palette
        background, color = {"primary": (p.primary, p.primary_text), "choice": (p.choice, p.choice_text),
                             "quiet": (p.quiet, p.quiet_text), "alert": (p.alert, p.alert_text)}[kind]
        hints: dict[str, object] = {}
        if height is not None:
            hints.update(size_hint_y=None, height=height)
        if width is not None:
            hints.update(size_hint_x=None, width=width)
        border = p.text if p.name == "high_contrast" else None
        widget = BigButton(kiosk_id, text, language or self.lang, size_px=size or self.layout.font,
                           background=background, color=color, border=border, icon=icon, **hints)
        if isinstance(event, s.Event):
            widget.bind(on_release=lambda *_: self.send(event))
        else:
            widget.bind(on_release=lambda *_: event())
        return widget

    def grid(self, buttons: list[BigButton], cols: int | None = None) -> GridLayout:
        cols = cols or self.layout.columns(len(buttons))
        rows = -(-len(buttons) // cols)
        # one row of answers (yes / no) gets taller buttons: easier to hit, and the screen has room
        height = self.layout.button_height * (1.5 if rows == 1 else 1)
        grid = GridLayout(cols=cols, spacing=self.layout.padding * 2, size_hint_y=None,
                          height=rows * height + (rows - 1) * self.layout.padding * 2)
        for button in buttons:
            button.size_hint_y = None
            button.height = height
            grid.add_widget(button)
        return grid

    def column(self, *widgets: Widget, spacing: float | None = None) -> BoxLayout:
        box = BoxLayout(orientation="vertical", spacing=spacing if spacing is not None else self.layout.padding)
        for widget in widgets:
            box.add_widget(widget)
        return box

    def question_screen(self, title: str, buttons: list[BigButton], note: str = "",
                        title_language: str | None = None, cols: int | None = None) -> BoxLayout:
        parts: list[Widget] = [self.text(title, size=self.layout.title_font, bold=True, language=title_language)]
        if note:
            parts.append(self.text(note, size=self.layout.small_font, height=self.layout.button_height * 0.6))
        parts.append(self.grid(buttons, cols))
        parts.append(Widget())
        return self.column(*parts, spacing=self.layout.padding * 2)

    # -- the screens ----------------------------------------------------------------------------

    def build(self) -> Widget:
        builder = getattr(self, "screen_" + self.flow.state.value, None)
        return builder() if builder else self.waiting("please_wait")

    def waiting(self, key: str, note_key: str | None = None) -> BoxLayout:
        parts: list[Widget] = [Widget(), self.text(self.t(key), size=self.layout.title_font, bold=True)]
        if note_key:
            parts.append(self.text(self.t(note_key)))
        parts.append(Widget())
        return self.column(*parts)

    def screen_starting(self) -> BoxLayout:
        return self.waiting("starting", "server_down_retrying" if self.flow.visit.server_down else None)

    def screen_attract(self) -> Widget:
        area = FloatLayout()
        lines = BoxLayout(orientation="vertical", spacing=self.layout.padding, pos_hint={"x": 0, "y": 0})
        lines.add_widget(self.text(self.t("welcome"), size=self.layout.title_font * 1.2, bold=True))
        for language in self._languages():
            lines.add_widget(self.text(message("kiosk", "touch_to_start", language), language=language,
                                       size=self.layout.font))
        lines.add_widget(Widget())
        area.add_widget(lines)
        start = self.button("start", "", s.Touch(), kind="choice")
        start.background_color = (0, 0, 0, 0)
        area.add_widget(start)
        return area

    def _languages(self) -> list[str]:
        offered = self.catalog.languages if self.catalog else list(LANGUAGE_NAMES)
        return [lang for lang in LANGUAGE_NAMES if lang in offered]

    def screen_language(self) -> Widget:
        buttons = [self.button(f"lang:{lang}", LANGUAGE_NAMES[lang], s.ChooseLanguage(lang), language=lang,
                               size=self.layout.title_font) for lang in self._languages()]
        return self.question_screen(self.t("choose_language"), buttons)

    def screen_purpose(self) -> Widget:
        assert self.catalog is not None
        flow_catalog = self.flow.catalog
        buttons = []
        if flow_catalog and flow_catalog.moving:
            buttons.append(self.button("purpose:moving", self.t("purpose_moving"), s.ChoosePurpose(s.Purpose.MOVING),
                                       size=self.layout.title_font, icon="house"))
        for life_event in flow_catalog.other_life_events if flow_catalog else ():
            info = self.catalog.life_event(life_event)
            assert info is not None
            buttons.append(self.label_button(f"purpose:{life_event}", info.label,
                                             s.ChoosePurpose(life_event=life_event), size=self.layout.title_font,
                                             icon="flower" if life_event == "okuyami" else None))
        if flow_catalog and flow_catalog.simple_procedures:
            buttons.append(self.button("purpose:simple", self.t("purpose_simple"), s.ChoosePurpose(s.Purpose.SIMPLE),
                                       size=self.layout.title_font, icon="form"))
        return self.question_screen(self.t("choose_purpose"), buttons, cols=1)

    def screen_moving(self) -> Widget:
        assert self.catalog is not None and self.flow.catalog is not None
        buttons = []
        for life_event in self.flow.catalog.moving:
            info = self.catalog.life_event(life_event)
            assert info is not None
            icon = {"tennyu": "house_in", "tenkyo": "house_move", "tenshutsu": "house_out"}.get(life_event, "house")
            buttons.append(self.label_button(f"life_event:{life_event}", info.label, s.ChooseLifeEvent(life_event),
                                             icon=icon))
        return self.question_screen(self.t("choose_moving"), buttons, cols=1)

    def screen_simple(self) -> Widget:
        assert self.catalog is not None
        buttons = [self.label_button(f"procedure:{p.id}", p.label, s.ChooseProcedure(p.id))
                   for p in self.catalog.procedures if p.simple]
        return self.question_screen(self.t("choose_procedure"), buttons, cols=2 if self.layout.landscape else 1)

    def screen_household_count(self) -> Widget:
        buttons = [self.button(f"count:{n}", self.t("people", n=n), s.HouseholdCount(n),
                               size=self.layout.title_font) for n in range(1, 7)]
        return self.question_screen(self.t("household_count"), buttons, self.t("household_count_note"))

    def screen_household_age(self) -> Widget:
        member = self.flow.current_member
        title = self.t("age_of_you") if member == 0 else self.t("age_of_member", n=member + 1)
        buttons = [self.button(f"age:{group.value}", self.t(group.value), s.ChooseAgeGroup(group))
                   for group in AgeGroup]
        note = self.t("member_of", n=member + 1, total=self.flow.visit.household_count)
        return self.question_screen(title, buttons, note)

    def screen_question(self) -> Widget:
        assert self.catalog is not None
        info = self.flow.current_question
        assert info is not None
        question = self.catalog.question(info.id)
        title, title_lang = self.pick(question.label) if question else (info.id, "en")
        if info.type == "choice" and question is not None:
            buttons = [self.label_button(f"answer:{o.id}", o.label, s.AnswerQuestion(o.id))
                       for o in question.options]
        else:
            buttons = [self.button("answer:yes", self.t("yes"), s.AnswerQuestion(True), size=self.layout.title_font),
                       self.button("answer:no", self.t("no"), s.AnswerQuestion(False), size=self.layout.title_font)]
        return self.question_screen(title, buttons, title_language=title_lang)

    def screen_plan_loading(self) -> BoxLayout:
        return self.waiting("making_plan", "server_down_retrying" if self.flow.visit.server_down else None)

    def screen_plan(self) -> Widget:
        assert self.catalog is not None
        v = self.flow.visit
        steps: list[str]
        bring: list[str] = []
        estimate = None
        if v.procedure:
            procedure = self.catalog.procedure(v.procedure)
            steps = [self.label(procedure.label)] if procedure else [v.procedure]
            ids = [v.procedure]
        else:
            assert isinstance(v.plan, PlanView)
            steps = [step.label for step in v.plan.guidance.plan]
            ids = [step.procedure for step in v.plan.guidance.plan]
            estimate = v.plan.estimate
        for procedure_id in ids:
            procedure = self.catalog.procedure(procedure_id)
            for item in procedure.bring if procedure else []:
                text = self.label(item)
                if text not in bring:
                    bring.append(text)
        p, lay = self.palette, self.layout
        numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
        bring_text = "\n".join(f"{self.bullet}{item}" for item in bring) or self.t("plan_bring_nothing")
        left = _stack(self.text(self.t("plan_steps"), bold=True, halign="left"),
                      self.text(numbered, size=lay.small_font, halign="left", color=p.text))
        right = _stack(self.text(self.t("plan_bring"), bold=True, halign="left"),
                       self.text(bring_text, size=lay.small_font, halign="left"))
        body = BoxLayout(orientation="horizontal" if lay.landscape else "vertical", spacing=lay.padding * 3,
                         size_hint_y=None)
        body.add_widget(left)
        body.add_widget(right)

        def fit(*_: object) -> None:
            heights = (left.height, right.height)
            body.height = max(heights) if lay.landscape else sum(heights) + lay.padding * 3
        left.bind(height=fit)
        right.bind(height=fit)
        scroll = ScrollView(do_scroll_x=False, bar_width=max(6, lay.padding))
        scroll.add_widget(body)
        more = self.text("", size=lay.small_font, bold=True)
        more.kiosk_id = "scroll_more"

        def hint(*_: object) -> None:  # say so when the list goes on below the fold
            more.source_text = self.t("scroll_more") if body.height > scroll.height + 1 else ""
            more._wrap()
        body.bind(height=hint)
        scroll.bind(height=hint)
        wait = self.t("wait_range", low=estimate.low, high=estimate.high) if estimate else self.t("wait_unknown")
        if estimate and estimate.high <= 1:
            wait = self.t("wait_soon")
        return self.column(
            self.text(self.t("plan_title"), size=lay.title_font, bold=True),
            scroll,
            more,
            self.text(wait, bold=True, height=lay.font * 2),
            self.button("confirm_plan", self.t("confirm_plan"), s.ConfirmPlan(), kind="primary",
                        height=lay.button_height, size=lay.title_font),
        )

    def screen_card_offer(self) -> Widget:
        buttons = [self.button("use_card", self.t("use_card"), s.UseCard(), kind="primary"),
                   self.button("skip_card", self.t("skip_card"), s.SkipCard())]
        return self.question_screen(self.t("card_offer"), buttons, self.t("card_offer_note"))

    def screen_card_insert(self) -> Widget:
        return self.column(Widget(), self.text(self.t("card_insert"), size=self.layout.title_font, bold=True),
                           self.text(self.t("card_insert_note")), Widget(),
                           self.grid([self.button("skip_card", self.t("skip_card"), s.SkipCard())]))

    def screen_card_checking(self) -> BoxLayout:
        return self.waiting("card_checking", "card_keep_in_place")

    def screen_card_reading(self) -> BoxLayout:
        return self.waiting("card_reading", "card_keep_in_place")

    def pin_pad(self, digits: str, on_key: Callable[[str], None]) -> GridLayout:
        lay = self.layout
        key_h = max(lay.touch_min_px, int(lay.height * (0.13 if lay.landscape else 0.08)))
        grid = GridLayout(cols=3, spacing=lay.padding, size_hint=(None, None),
                          width=3 * max(lay.touch_min_px * 1.6, key_h * 1.5) + 2 * lay.padding,
                          height=4 * key_h + 3 * lay.padding)
        for key in PIN_KEYS:
            text = {"erase": self.t("pin_erase"), "ok": self.t("pin_ok")}.get(key, key)
            kind = "primary" if key == "ok" else "quiet" if key == "erase" else "choice"
            grid.add_widget(self.button(f"pin:{key}", text, lambda k=key: on_key(k), kind=kind,
                                        size=lay.title_font if key.isdigit() else lay.font))
        return grid

    def _pin_key(self, key: str) -> None:
        if key == "erase":
            self.send(s.PinErase())
        elif key == "ok":
            self.send(s.PinSubmit())
        else:
            self.send(s.PinDigit(key))

    def pin_layout(self, info: list[Widget], pad: GridLayout) -> Widget:
        body = BoxLayout(orientation="horizontal" if self.layout.landscape else "vertical",
                         spacing=self.layout.padding * 3)
        body.add_widget(self.column(*info))
        holder = BoxLayout(orientation="vertical")
        if self.layout.landscape:  # the pad takes its own width; the words get the rest of the screen
            holder.size_hint_x, holder.width = None, pad.width + 2 * self.layout.padding
        holder.add_widget(Widget())
        row = BoxLayout(size_hint_y=None, height=pad.height)
        row.add_widget(Widget())
        row.add_widget(pad)
        row.add_widget(Widget())
        holder.add_widget(row)
        holder.add_widget(Widget())
        body.add_widget(holder)
        return body

    def screen_pin(self) -> Widget:
        v = self.flow.visit
        dots = " ".join("●" if i < len(v.pin) else "○" for i in range(4))
        info: list[Widget] = [self.text(self.t("pin_title"), size=self.layout.font, bold=True)]
        if v.wrong_pin:
            info.append(self.text(self.t("pin_wrong"), bold=True, color=self.palette.alert
                                  if self.palette.name == "normal" else self.palette.primary))
        info.append(self.text(self.t("pin_tries_left", n=v.tries_left), bold=v.tries_left == 1))
        info.append(self.text(dots, size=self.layout.title_font * 1.4, language="ja"))
        info.append(Widget())  # "continue without the card" is in the bottom bar, beside back
        return self.pin_layout(info, self.pin_pad(v.pin, self._pin_key))

    def screen_pin_last_try(self) -> Widget:
        buttons = [self.button("confirm_last_try", self.t("last_try_send"), s.ConfirmLastTry(), kind="alert"),
                   self.button("retype_pin", self.t("last_try_retype"), s.Back()),
                   self.button("skip_card", self.t("skip_card"), s.SkipCard())]
        return self.question_screen(self.t("last_try_title"), buttons, self.t("last_try_note"),
                                    cols=1 if self.layout.short_side < 700 else None)

    def screen_card_confirm(self) -> Widget:
        card = self.flow.visit.card or {}
        lay = self.layout
        rows = [(self.t("card_name"), card.get("name", "")), (self.t("card_address"), card.get("address", "")),
                (self.t("card_birth_date"), card.get("birth_date", "")),
                (self.t("card_sex"), self.t(SEX_KEYS.get(card.get("sex", ""), "sex_other")))]
        table = GridLayout(cols=2, spacing=lay.padding, size_hint_y=None)
        table.bind(minimum_height=table.setter("height"))
        for index, (name, value) in enumerate(rows):
            title = self.text(name, size=lay.small_font, bold=True, halign="right")
            # what the card holds is Japanese whatever the screen's language; the sex is our own word
            shown = self.text(value, halign="left", language=None if index == 3 else "ja")
            title.size_hint_x, shown.size_hint_x = 0.28, 0.72
            table.add_widget(title)
            table.add_widget(shown)
        buttons = [self.button("confirm_card", self.t("card_confirm_yes"), s.ConfirmCard(), kind="primary"),
                   self.button("refuse_card", self.t("card_confirm_no"), s.RefuseCard())]
        scroll = ScrollView(do_scroll_x=False, bar_width=max(6, lay.padding))  # large text on a small screen
        scroll.add_widget(table)
        shown = self.column(self.text(self.t("card_confirm_title"), size=lay.font, bold=True), scroll,
                            spacing=lay.padding)
        decide = self.column(self.text(self.t("card_confirm_note"), size=lay.small_font),
                             self.grid(buttons, cols=1 if lay.landscape else 2), Widget(), spacing=lay.padding * 2)
        body = BoxLayout(orientation="horizontal" if lay.landscape else "vertical", spacing=lay.padding * 3)
        body.add_widget(shown)
        body.add_widget(decide)
        if lay.landscape:
            shown.size_hint_x, decide.size_hint_x = 0.62, 0.38
        return body

    def screen_card_error(self) -> Widget:
        problem = self.flow.visit.card_problem or s.CardProblem.READER_BROKEN
        buttons = [self.button("retry_card", self.t("card_retry"), s.RetryCard(), kind="primary"),
                   self.button("skip_card", self.t("skip_card"), s.SkipCard())]
        if problem is s.CardProblem.READER_BROKEN:
            buttons = buttons[1:]
        return self.question_screen(self.t(f"card_{problem.value}"), buttons, self.t("card_error_note"))

    def screen_card_blocked(self) -> Widget:
        buttons = [self.button("skip_card", self.t("skip_card"), s.SkipCard(), kind="primary")]
        return self.question_screen(self.t("card_blocked"), buttons, self.t("card_blocked_note"))

    def screen_issuing(self) -> BoxLayout:
        return self.waiting("issuing")

    def screen_issue_retrying(self) -> BoxLayout:
        return self.waiting("server_down", "server_down_issue")

    def screen_issue_refused(self) -> Widget:
        buttons = [self.button("done", self.t("back_to_start"), s.Done(), kind="primary")]
        return self.question_screen(self.t("issue_refused"), buttons, self.t("issue_refused_note"))

    def screen_printing(self) -> BoxLayout:
        return self.waiting("printing")

    def screen_ticket(self) -> Widget:
        v, lay, p = self.flow.visit, self.layout, self.palette
        ticket = v.ticket
        assert isinstance(ticket, Ticket)
        band = self.catalog.band(ticket.band) if self.catalog else None
        headline = self.t("take_ticket") if v.printed else self.t("not_printed")
        warn = p.text if v.printed else (p.alert if p.name == "normal" else p.primary)
        top: list[Widget] = [self.text(headline, size=lay.title_font, bold=True, color=warn)]
        if v.recovered:
            top.append(self.text(self.t("server_back"), size=lay.small_font))
        info: list[Widget] = [self.text(self.t("your_number"), size=lay.font)]
        number = self.text(ticket.display_number, size=lay.number_font, bold=True, language="ja")
        number.kiosk_id = "ticket_number"
        info.append(number)
        if band is not None:
            info.append(self.label_text(band.label, bold=True))
        est = ticket.estimate
        wait = self.t("wait_soon") if est.high <= 1 else self.t("wait_range", low=est.low, high=est.high)
        info.append(self.text(wait))
        side = lay.short_side * (0.34 if lay.landscape else 0.3)
        qr = Image(texture=qr_texture(ticket.status_url), size_hint=(None, None), size=(side, side),
                   fit_mode="contain")
        qr.kiosk_id = "ticket_qr"
        qr_box = self.column(_centered(qr), self.text(self.t("qr_note"), size=lay.small_font),
                             self.text(self.t("where_to_wait") if v.printed else self.t("show_screen"),
                                       size=lay.small_font, bold=not v.printed), Widget())
        body = BoxLayout(orientation="horizontal" if lay.landscape else "vertical", spacing=lay.padding * 3)
        body.add_widget(self.column(*info, Widget()))
        body.add_widget(qr_box)
        done = self.button("done", self.t("done"), s.Done(), kind="primary", height=lay.button_height)
        return self.column(*top, body, done)

    def screen_staff_pin(self) -> Widget:
        dots = " ".join("●" if i < len(self.staff_digits) else "○" for i in range(len(self.staff_digits) or 4))
        info: list[Widget] = [self.text(self.t("staff_title"), size=self.layout.title_font, bold=True),
                              self.text(self.t("staff_note")),
                              self.text(dots, size=self.layout.title_font, language="ja")]
        if self.flow.visit.staff_pin_wrong:
            info.append(self.text(self.t("staff_wrong"), bold=True))
        return self.pin_layout(info, self.pin_pad(self.staff_digits, self.staff_key))

    def screen_exiting(self) -> BoxLayout:
        return self.waiting("exiting")


def _stack(*widgets: Widget) -> BoxLayout:
    """A column as tall as its children (for scrolling content), kept at the top of its row."""
    box = BoxLayout(orientation="vertical", size_hint_y=None, pos_hint={"top": 1})
    box.bind(minimum_height=box.setter("height"))
    for widget in widgets:
        box.add_widget(widget)
    return box


def _centered(widget: Widget) -> BoxLayout:
    row = BoxLayout(size_hint_y=None, height=widget.height)
    row.add_widget(Widget())
    row.add_widget(widget)
    row.add_widget(Widget())
    return row


def qr_texture(url: str) -> Texture:
    """The status URL as a QR code texture (black on white, with the 4-module quiet zone)."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    from madoguchi.hardware.qr import qr_image

    symbol = ImageOps.expand(qr_image(url.encode("ascii"), 8).convert("L"), border=32, fill=255).convert("RGB")
    symbol = symbol.transpose(PILImage.Transpose.FLIP_TOP_BOTTOM)
    texture = Texture.create(size=symbol.size, colorfmt="rgb")
    texture.blit_buffer(symbol.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    texture.mag_filter = "nearest"
    return texture
