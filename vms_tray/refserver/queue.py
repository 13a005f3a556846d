"""Protocol v1.1's fair queue and graceful handover, as the reference server keeps them
(docs/protocol.md, "A fair queue" and "A graceful handover").

The rules, each applied inside one of the service's transactions:

* A waiter is a sign-in that met the limit and finished with ``wait``. Its row follows its newest
  conflict token (each renewal hands the place on) and goes when that token expires, when it is
  abandoned, when the sign-in finishes without ``wait``, or when an offered seat lapses unused.
* Order: requesters of a handover first (they asked a holder to leave for them), then arrival.
* ``settle`` runs after every change: while seats are free and waiters have none, the next
  waiter in order is offered one, held for it ``seat_hold`` seconds. A held seat is taken for
  everyone but its waiter, so active sessions plus held seats never exceed the limit.
* A handover marks a session to end at its deadline; the sweep then ends it with reason
  ``handed_over``, naming the requester. Asking again keeps the first deadline.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from vms_tray.refserver.storage import Store


@dataclass(frozen=True)
class Waiter:
    seq: int
    login: str
    conflict_hash: str
    expires_at: float
    first: bool
    offered_until: float | None

    def offered(self, now: float) -> bool:
        return self.offered_until is not None and self.offered_until > now


@dataclass(frozen=True)
class Handover:
    session_id: str
    login: str
    deadline: float
    device: str
    software: str


@dataclass(frozen=True)
class Place:
    """A waiter's place: 1 is the head."""

    position: int
    length: int
    held_until: float | None


def _waiter(row: sqlite3.Row) -> Waiter:
    return Waiter(
        seq=row["seq"],
        login=row["login"],
        conflict_hash=row["conflict_hash"],
        expires_at=row["expires_at"],
        first=bool(row["first"]),
        offered_until=row["offered_until"],
    )


def _handover(row: sqlite3.Row) -> Handover:
    return Handover(
        session_id=row["session_id"],
        login=row["login"],
        deadline=row["deadline"],
        device=row["device"],
        software=row["software"],
    )


class Queue:
    def __init__(self, store: Store, seat_hold: float) -> None:
        self.store = store
        self.seat_hold = seat_hold

    # --- waiters -------------------------------------------------------------------------------

    def waiters(self, login: str, now: float) -> list[Waiter]:
        """The account's waiters in line order (lapsed ones are gone after ``settle``)."""
        rows = self.store.fetch_all(
            "SELECT * FROM waiters WHERE login = ? AND expires_at > ? ORDER BY first DESC, seq",
            (login, now),
        )
        return [_waiter(r) for r in rows]

    def waiter(self, conflict_hash: str) -> Waiter | None:
        row = self.store.fetch_one(
            "SELECT * FROM waiters WHERE conflict_hash = ?", (conflict_hash,)
        )
        return _waiter(row) if row else None

    def held(self, login: str, now: float) -> int:
        row = self.store.fetch_one(
            "SELECT COUNT(*) FROM waiters WHERE login = ? AND offered_until > ? AND expires_at > ?",
            (login, now, now),
        )
        return int(row[0]) if row else 0

    def join(self, login: str, conflict_hash: str, expires_at: float, *, first: bool) -> None:
        self.store.execute(
            "INSERT INTO waiters (login, conflict_hash, expires_at, first) VALUES (?, ?, ?, ?)",
            (login, conflict_hash, expires_at, int(first)),
        )

    def renew(self, old_hash: str, new_hash: str, expires_at: float) -> None:
        """The waiter's conflict token was renewed: its place goes with the new one."""
        self.store.execute(
            "UPDATE waiters SET conflict_hash = ?, expires_at = ? WHERE conflict_hash = ?",
            (new_hash, expires_at, old_hash),
        )

    def put_first(self, conflict_hash: str) -> None:
        self.store.execute("UPDATE waiters SET first = 1 WHERE conflict_hash = ?", (conflict_hash,))

    def leave(self, conflict_hash: str) -> bool:
        return (
            self.store.execute("DELETE FROM waiters WHERE conflict_hash = ?", (conflict_hash,)) > 0
        )

    def place(self, conflict_hash: str, now: float) -> Place | None:
        me = self.waiter(conflict_hash)
        if me is None or me.expires_at <= now:
            return None
        line = self.waiters(me.login, now)
        position = next(i for i, w in enumerate(line, 1) if w.seq == me.seq)
        held = me.offered_until if me.offered(now) else None
        return Place(position=position, length=len(line), held_until=held)

    def logins(self) -> list[str]:
        return [r[0] for r in self.store.fetch_all("SELECT DISTINCT login FROM waiters")]

    def settle(self, login: str, limit: int | None, active: int, now: float) -> bool:
        """Drop lapsed waiters and offers, then hold free seats for the next waiters in line.
        True when the queue changed (its streams have news)."""
        changed = (
            self.store.execute(
                "DELETE FROM waiters WHERE login = ? AND (expires_at <= ? OR offered_until <= ?)",
                (login, now, now),
            )
            > 0
        )
        line = self.waiters(login, now)
        if limit is None:
            free = len(line)  # no limit: nobody should be waiting; let them all in
        else:
            free = limit - active - sum(1 for w in line if w.offered(now))
        for w in line:
            if free <= 0:
                break
            if not w.offered(now):
                self.store.execute(
                    "UPDATE waiters SET offered_until = ? WHERE seq = ?",
                    (now + self.seat_hold, w.seq),
                )
                free -= 1
                changed = True
        return changed

    # --- handovers -----------------------------------------------------------------------------

    def ask_handover(
        self, session_id: str, login: str, deadline: float, by: tuple[str, str]
    ) -> Handover:
        """Mark ``session_id`` to end at ``deadline``; a session asked before keeps its first
        deadline and requester."""
        self.store.execute(
            "INSERT OR IGNORE INTO handovers (session_id, login, deadline, device, software) "
            "VALUES (?, ?, ?, ?, ?)",
            (session_id, login, deadline, by[0], by[1]),
        )
        found = self.handover(session_id)
        assert found is not None
        return found

    def handover(self, session_id: str) -> Handover | None:
        row = self.store.fetch_one("SELECT * FROM handovers WHERE session_id = ?", (session_id,))
        return _handover(row) if row else None

    def handovers(self, login: str) -> dict[str, Handover]:
        rows = self.store.fetch_all("SELECT * FROM handovers WHERE login = ?", (login,))
        return {r["session_id"]: _handover(r) for r in rows}

    def due(self, now: float) -> list[Handover]:
        """Handovers whose deadline passed, of sessions still active."""
        rows = self.store.fetch_all(
            "SELECT h.* FROM handovers h JOIN sessions s ON s.id = h.session_id "
            "WHERE h.deadline <= ? AND s.ended_at IS NULL",
            (now,),
        )
        return [_handover(r) for r in rows]

    def forget_ended(self) -> None:
        """A session that ended (released, ended, handed over) needs its handover no more."""
        self.store.execute(
            "DELETE FROM handovers WHERE session_id IN "
            "(SELECT id FROM sessions WHERE ended_at IS NOT NULL)"
        )
