"""Words for the engine's notification topics: what each notice is (its topic, one per subject
on screen; urgency, expiry, icon), and words that name no command on a desktop, say nothing
twice, put no capital after a colon and use plain numbers in English and Russian."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from vms_tray import assets, i18n
from vms_tray.assets import IconName
from vms_tray.daemon import notices
from vms_tray.notify.base import Notice, NoticeKind, Urgency
from vms_tray.notify.dbus import expire_timeout
from vms_tray.session.effects import CAPTCHA_EACH_TRY, SUBJECT_OF, WAITING
from vms_tray.session.engine import Notify, Subject, Topic
from vms_tray.text import seats

DEVICE = "OPS-PC-12 (vms-tray 1.0)"


EFFECTS: dict[Topic, Notify] = {
    Topic.NEAR_LIMIT: Notify(Topic.NEAR_LIMIT, 2, 3),
    Topic.LIMIT_FULL: Notify(Topic.LIMIT_FULL, 3, 3),
    Topic.BACK_UNDER: Notify(Topic.BACK_UNDER, 1, 3),
    Topic.ENDED_ELSEWHERE: Notify(Topic.ENDED_ELSEWHERE, detail=DEVICE),
    Topic.SESSION_EXPIRED: Notify(Topic.SESSION_EXPIRED),
    Topic.UNTRUSTED: Notify(
        Topic.UNTRUSTED,
        detail="the certificate of HQ is not the pinned one (presented AB:CD)",
    ),
    Topic.UNREACHABLE: Notify(
        Topic.UNREACHABLE,
        detail="cannot reach HQ (connection refused): check the address and that the server "
        "is running; vms-tray will retry",
    ),
    Topic.BACK_ONLINE: Notify(Topic.BACK_ONLINE),
    Topic.CAPTCHA: Notify(Topic.CAPTCHA),
    Topic.LIMIT_CONFLICT: Notify(Topic.LIMIT_CONFLICT, 3, 3),
    Topic.SEAT_FREED: Notify(Topic.SEAT_FREED),
    Topic.PASSWORD_REJECTED: Notify(Topic.PASSWORD_REJECTED),
    Topic.SIGN_IN_FAILED: Notify(Topic.SIGN_IN_FAILED),
    Topic.FAILED: Notify(Topic.FAILED, detail="the certificate of HQ changed"),
    Topic.HANDOVER_ASKED: Notify(Topic.HANDOVER_ASKED, detail="OPS-PC-13", seconds=59.6),
    Topic.HANDED_OVER: Notify(Topic.HANDED_OVER, detail="OPS-PC-13 (vms-tray 1.0)"),
    Topic.HANDOVER_REQUESTED: Notify(Topic.HANDOVER_REQUESTED, detail="OPS-PC-12", seconds=60),
}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    i18n.install("en")
    yield
    i18n.install("en")


def all_notices(cli: bool = False) -> list[Notice]:
    rendered = [notices.render(e, "HQ", cli=cli) for e in EFFECTS.values()]
    rendered += [notices.password_needed("HQ", cli=cli), notices.sign_in_failed("HQ", "boom")]
    return rendered


def test_every_topic_is_covered() -> None:
    assert set(EFFECTS) == set(Topic)


def test_critical_only_for_a_taken_session_the_limit_at_sign_in_and_a_handover() -> None:
    critical = [n.title for n in all_notices() if n.urgency is Urgency.CRITICAL]
    assert critical == ["HQ: signed out", "HQ: no free session", "HQ: your seat is needed"]
    ended_by_server = notices.render(Notify(Topic.ENDED_ELSEWHERE, detail="revoked"), "HQ")
    assert ended_by_server.urgency is Urgency.NORMAL


def test_low_only_for_back_online() -> None:
    low = [n.title for n in all_notices() if n.urgency is Urgency.LOW]
    assert low == ["HQ answers again"]


def test_critical_notices_stay_the_others_expire() -> None:
    for n in all_notices():
        if n.urgency is Urgency.CRITICAL:
            assert n.expires is None and expire_timeout(n) == 0, n.title
        else:
            assert n.expires is not None and 0 < n.expires <= 20, n.title
    r = {t: notices.render(e, "HQ") for t, e in EFFECTS.items()}
    assert r[Topic.BACK_ONLINE].expires == 8 and expire_timeout(r[Topic.BACK_ONLINE]) == 8000
    assert r[Topic.SEAT_FREED].expires == 10 and r[Topic.BACK_UNDER].expires == 10
    assert r[Topic.CAPTCHA].expires == 20


def test_topic_is_the_engines_subject() -> None:
    for topic, effect in EFFECTS.items():
        assert notices.render(effect, "HQ").topic == SUBJECT_OF[topic].value
    assert notices.password_needed("HQ").topic == Subject.SIGN_IN.value
    assert notices.sign_in_failed("HQ", "boom").topic == Subject.SIGN_IN.value


def test_each_notice_carries_its_states_icon() -> None:
    icons = {t: notices.render(e, "HQ").icon for t, e in EFFECTS.items()}
    assert icons[Topic.LIMIT_FULL] == IconName.SIGNED_IN_FULL.value
    assert icons[Topic.LIMIT_CONFLICT] == IconName.LIMIT_REACHED.value
    assert icons[Topic.UNREACHABLE] == IconName.OFFLINE.value
    assert icons[Topic.ENDED_ELSEWHERE] == IconName.SIGNED_OUT.value
    assert icons[Topic.CAPTCHA] == IconName.CONNECTING.value
    assert icons[Topic.PASSWORD_REJECTED] == IconName.ERROR.value
    # The green signed-in icon only where the news is "signed in" / "a seat is yours".
    green = {t for t, i in icons.items() if i == IconName.SIGNED_IN.value}
    assert green == {Topic.BACK_UNDER, Topic.BACK_ONLINE, Topic.SEAT_FREED}
    for n in all_notices():
        assert assets.icon(f"{n.icon}.png").is_file(), n.title


def test_desktop_notices_offer_buttons_not_command_lines() -> None:
    for n in all_notices():
        assert "'vms-tray" not in n.title + n.body, n.title
    captcha = notices.render(EFFECTS[Topic.CAPTCHA], "HQ")
    assert [a.id for a in captcha.actions] == [notices.SHOW_CAPTCHA]
    conflict = notices.render(EFFECTS[Topic.LIMIT_CONFLICT], "HQ")
    assert [a.id for a in conflict.actions] == [notices.SHOW_SESSIONS, notices.WAIT_FOR_SEAT]


def test_headless_notices_name_the_commands() -> None:
    def body(e: Notify) -> str:
        return notices.render(e, "HQ", cli=True).body

    assert "'vms-tray captcha save FILE'" in body(EFFECTS[Topic.CAPTCHA])
    assert "'vms-tray captcha answer -'" in body(EFFECTS[Topic.CAPTCHA])
    assert "'vms-tray wait'" in body(EFFECTS[Topic.LIMIT_CONFLICT])
    assert "'vms-tray signin'" in body(EFFECTS[Topic.ENDED_ELSEWHERE])
    assert "'vms-tray signin'" in body(EFFECTS[Topic.SESSION_EXPIRED])
    assert "'vms-tray signin'" in notices.password_needed("HQ", cli=True).body


def test_one_seat_left_is_not_almost_full() -> None:
    for n, m in ((1, 2), (2, 3), (4, 5)):
        near = notices.render(Notify(Topic.NEAR_LIMIT, n, m), "HQ")
        assert near.title == "HQ: 1 seat left"
        assert near.body == f"{n} of {m} sessions in use"
    two = notices.render(Notify(Topic.NEAR_LIMIT, 3, 5), "HQ")
    assert two.title == "HQ: 2 seats left"
    for notice in all_notices():
        assert "almost full" not in notice.title + notice.body


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("cli", [False, True])
def test_no_capital_after_a_colon(lang: str, cli: bool) -> None:
    i18n.install(lang)
    for n in all_notices(cli):
        for text in (n.title, n.body):
            assert not re.search(r": [A-ZА-ЯЁ]", text), text


def test_nothing_said_twice() -> None:
    unreachable = notices.render(EFFECTS[Topic.UNREACHABLE], "HQ")
    assert unreachable.body.count("retr") == 1  # the detail says "vms-tray will retry"
    assert unreachable.body.endswith("vms-tray will retry; the session is kept")
    conflict = notices.render(EFFECTS[Topic.LIMIT_CONFLICT], "HQ")
    assert "no seats left" not in conflict.body  # the title says "no free session"
    full = notices.render(EFFECTS[Topic.LIMIT_FULL], "HQ")
    assert full.title == "HQ: all seats in use" and "seats" not in full.body
    for n in all_notices():
        assert n.title.lower() not in n.body.lower(), n.title


def test_the_certificate_notice_names_no_command_on_the_desktop() -> None:
    effect = EFFECTS[Topic.UNTRUSTED]
    desktop = notices.render(effect, "HQ")
    assert desktop.title == "HQ: certificate not trusted"
    assert "vms-tray servers" not in desktop.body and "session is kept" in desktop.body
    assert "sign out and sign in again" in desktop.body
    headless = notices.render(effect, "HQ", cli=True)
    assert headless.body.startswith("the certificate of HQ is not the pinned one")
    assert headless.body.endswith("The session is kept; vms-tray tries again")


@pytest.mark.parametrize(
    ("n", "m", "text"),
    [
        (2, 3, "2 of 3 sessions in use — 1 seat left"),
        (1, 3, "1 of 3 sessions in use — 2 seats left"),
        (3, 3, "3 of 3 sessions in use — no seats left"),
        (4, None, "4 sessions in use (no limit)"),
    ],
)
def test_seat_wording(n: int, m: int | None, text: str) -> None:
    assert seats(n, m) == text


def notice(topic: Topic, n: int | None = None, m: int | None = None, d: str | None = None) -> Any:
    return notices.render(Notify(topic, n, m, d), "HQ")


def test_notice_texts_and_actions() -> None:
    near = notice(Topic.NEAR_LIMIT, 2, 3)
    assert (near.title, near.body) == ("HQ: 1 seat left", "2 of 3 sessions in use")
    full = notice(Topic.LIMIT_FULL, 5, 5)
    assert full.kind is NoticeKind.LIMIT_FULL and full.actions[0].id == "show_sessions"
    assert full.title == "HQ: all seats in use"
    assert full.body == "5 of 5 sessions in use: nobody else can sign in with this account"
    ended = notice(Topic.ENDED_ELSEWHERE, d="OPS-PC-12 (vms-tray 1.0)")
    assert ended.body == "Your session was ended from OPS-PC-12 (vms-tray 1.0)"
    assert ended.actions[0].id == "sign_in"
    assert "ended by the server" in notice(Topic.ENDED_ELSEWHERE).body
    assert notice(Topic.LIMIT_CONFLICT, 1, 1).actions[0].id == "show_sessions"
    assert notice(Topic.CAPTCHA).actions[0].id == notices.SHOW_CAPTCHA
    assert notice(Topic.BACK_ONLINE).kind is NoticeKind.BACK_ONLINE
    assert notice(Topic.PASSWORD_REJECTED).actions[0].id == "sign_in"
    assert notices.password_needed("HQ").actions[0].id == "sign_in"


def test_a_rejected_password_says_what_to_do_once() -> None:
    # The detail is the server client's message, which already names the next step.
    detail = "HQ refused the login or password: check them and sign in again"
    body = notice(Topic.PASSWORD_REJECTED, d=detail).body
    assert body == detail and body.count("sign in again") == 1
    assert notice(Topic.PASSWORD_REJECTED).body.count("sign in again") == 1


def test_notices_are_translated_with_russian_plurals() -> None:
    i18n.install("ru")
    try:
        assert notice(Topic.UNREACHABLE).title == "HQ не отвечает"
        assert seats(2, 3) == "Занято 2 из 3 сеансов — свободно 1 место"
        assert seats(1, 21) == "Занято 1 из 21 сеанса — свободно 20 мест"
        assert seats(3, 5) == "Занято 3 из 5 сеансов — свободно 2 места"
        assert seats(5, 5) == "Занято 5 из 5 сеансов — свободных мест нет"
        assert [seats(n, None) for n in (1, 3, 5, 21)] == [
            "1 сеанс занят (без ограничения)",
            "3 сеанса заняты (без ограничения)",
            "5 сеансов занято (без ограничения)",
            "21 сеанс занят (без ограничения)",
        ]
        ended = notice(Topic.ENDED_ELSEWHERE, d="OPS-PC-12 (vms-tray 1.0)")
        assert ended.body == "Ваш сеанс завершён с OPS-PC-12 (vms-tray 1.0)"
        assert ended.actions[0].label == "Войти"
    finally:
        i18n.install("en")


def test_a_handover_says_who_needs_the_seat_how_long_is_left_and_offers_release() -> None:
    n = notices.render(EFFECTS[Topic.HANDOVER_ASKED], "HQ")
    assert n.body == "OPS-PC-13 needs this seat. This session ends in 60 seconds — save your work."
    assert [a.id for a in n.actions] == [notices.RELEASE_SEAT] and n.topic == "session"
    cli = notices.render(EFFECTS[Topic.HANDOVER_ASKED], "HQ", cli=True)
    assert cli.actions == () and "'vms-tray signout'" in cli.body
    done = notices.render(EFFECTS[Topic.HANDED_OVER], "HQ")
    assert "went to OPS-PC-13 (vms-tray 1.0)" in done.body and done.topic == "session"


def test_a_captcha_met_while_waiting_says_so_and_so_does_the_end_of_the_wait() -> None:
    # issue 10 item 7: the user is asked (a button, or the commands when headless)
    asked = Notify(Topic.CAPTCHA, detail=WAITING)
    for cli in (False, True):
        n = notices.render(asked, "HQ", cli=cli)
        assert n.title == "HQ: captcha required to keep waiting"
        assert n.body.startswith("To try for a seat again, type the characters shown")
        assert [a.id for a in n.actions] == [notices.SHOW_CAPTCHA]
        assert ("'vms-tray captcha answer -'" in n.body) is cli
    stopped = Notify(Topic.LIMIT_CONFLICT, 2, 2, detail=CAPTCHA_EACH_TRY)
    desktop, headless = notices.render(stopped, "HQ"), notices.render(stopped, "HQ", cli=True)
    assert desktop.title == "HQ: still no free session"
    assert "stopped waiting" in desktop.body and "'vms-tray" not in desktop.body
    assert [a.id for a in desktop.actions] == [notices.SHOW_SESSIONS, notices.WAIT_FOR_SEAT]
    assert "'vms-tray wait'" in headless.body
    assert desktop.topic == notices.render(asked, "HQ").topic  # one replaces the other


def test_our_handover_request_says_whose_seat_comes_and_when() -> None:
    n = notices.render(EFFECTS[Topic.HANDOVER_REQUESTED], "HQ", cli=False)
    assert n.title == "HQ: asked OPS-PC-12 to hand over"
    assert n.body == (
        "Its user has 60 seconds to save their work; you are signed in as soon as it is free."
    )
    assert n.urgency is Urgency.NORMAL and n.expires is not None and not n.actions
