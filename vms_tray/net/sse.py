"""Server-Sent Events, read line by line (the WHATWG HTML standard's "event stream
interpretation"): the parser of protocol v1.1's events stream.

Pure: lines in, events out. A line of the stream is fed without its line ending; an empty line
dispatches the event gathered so far. Fields other than ``event``, ``data``, ``id`` and ``retry``
are ignored, as the standard says, and so are comments (``: keep-alive``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Event", "Parser"]

# A ``data`` line longer than this, or an event of more lines, is a broken or hostile server:
# the event is dropped rather than held in memory.
MAX_EVENT_CHARS = 1 << 20


@dataclass(frozen=True)
class Event:
    name: str  # "message" when the server named none
    data: str
    id: str | None  # the last event id seen on the stream so far (sent as Last-Event-ID)


class Parser:
    def __init__(self) -> None:
        self.last_id: str | None = None
        self.retry: float | None = None  # seconds, from the server's ``retry:``
        self._name = ""
        self._data: list[str] = []
        self._size = 0
        self._too_big = False

    def feed(self, line: str) -> Event | None:
        """One line (no line ending); the event it completes, if any."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the server's heartbeat
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._name = value
        elif field == "data":
            self._size += len(value) + 1
            if self._size > MAX_EVENT_CHARS:
                self._too_big = True
                self._data.clear()
            elif not self._too_big:
                self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self.last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value) / 1000
        return None

    def _dispatch(self) -> Event | None:
        name, data, dropped = self._name or "message", self._data, self._too_big
        self._name, self._data, self._size, self._too_big = "", [], 0, False
        if dropped or not data:
            # The standard dispatches nothing for an event without data.
            return None
        return Event(name, "\n".join(data), self.last_id)
