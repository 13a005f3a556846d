"""What the daemon publishes: the engine's view, with what the server session knows (the
connection, the captcha on offer, the kind's capabilities), as one immutable Snapshot."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from vms_tray.daemon.link import Link, frees_seat
from vms_tray.session import engine as E
from vms_tray.session.failures import Failure
from vms_tray.session.snapshot import ServerChoice, Snapshot


def picture(
    link: Link,
    view: E.View,
    note: Failure | None,
    servers: tuple[ServerChoice, ...],
    warn_margin: int,
) -> Snapshot:
    """The snapshot of the engine's ``view``; ``note``: a daemon-level problem (no password)."""
    conn = link.current()
    caps = link.capabilities()
    captcha_id, reason = link.captcha_offer()
    handover = link.handover() if view.handover_in is not None else None
    return Snapshot(
        state=view.state,
        server=conn.name if conn else None,
        login=conn.login if conn else None,
        kind=conn.kind if conn else None,
        sessions_in_use=view.in_use,
        max_sessions=view.max_sessions,
        warn_margin=warn_margin,
        expires_in=view.expires_in,
        error=view.failure or note,
        ended_by=view.ended_by,
        waiting_for_seat=view.waiting_for_seat,
        queue_position=view.queue_position,
        can_hand_over=view.can_hand_over and link.hands_over(),
        can_list_sessions=caps.list_sessions if caps else True,
        sign_out_frees_seat=caps.server_side_sign_out if caps else frees_seat(conn),
        servers=servers,
        captcha_id=captcha_id,
        captcha_reason=reason,
        limit_as_of=link.limit_as_of(),
        handover_deadline=handover.deadline if handover else None,
        handover_by=view.handover_by if handover else "",
        handover_asked_until=(
            None
            if view.asked_in is None
            else datetime.fromtimestamp(round(time.time() + view.asked_in), UTC)
        ),
        handover_asked_of=view.asked_of,
    )
