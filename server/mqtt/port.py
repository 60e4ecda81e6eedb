"""The port through which committed changes reach displays (MQTT) and other listeners."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from madoguchi.common.protocol import CallPayload
    from madoguchi.server.core.office import Changes
    from madoguchi.server.service.container import Services


class Publisher(Protocol):
    def changed(self, services: Services, changes: Changes, calls: list[CallPayload]) -> None:
        """Called by the writer thread after each commit, in commit order; must not block."""

    def close(self) -> None: ...


class NullPublisher:
    def changed(self, services: Services, changes: Changes, calls: list[CallPayload]) -> None:
        return None

    def close(self) -> None:
        return None
