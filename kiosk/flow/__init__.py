"""The kiosk's flow as a pure state machine: screens (``State``), what the resident or a device did
(events), and what the app must do next (effects). No Kivy, no I/O, no clock: the app feeds events in
and runs the effects it gets back, so every transition is tested without a screen.
"""

from .machine import Flow, FlowCatalog, LifeEventInfo, QuestionInfo
from .states import State

__all__ = ["Flow", "FlowCatalog", "LifeEventInfo", "QuestionInfo", "State"]
