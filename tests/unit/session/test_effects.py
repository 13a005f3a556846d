"""The effects the engine asks of the daemon: every notice topic belongs to one subject on
screen."""

from __future__ import annotations

from vms_tray.session import engine as E


def test_every_topic_has_a_subject() -> None:
    assert {E.Notify(t).subject for t in E.Topic} == set(E.Subject)
