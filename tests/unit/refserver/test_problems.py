"""RFC 9457 problem details as the reference server writes them: the type URI, title and status
of each name, extension members beside them, the Bearer challenge on 401 and Retry-After."""

from __future__ import annotations

import pytest

from vms_tray.refserver.problems import (
    BEARER_CHALLENGE,
    PROBLEM_BASE,
    STATUS,
    TITLES,
    Problem,
    http_problem,
    retry_after_seconds,
    with_retry_after,
)


def test_every_problem_name_has_a_status_and_a_title() -> None:
    assert STATUS.keys() == TITLES.keys()


@pytest.mark.parametrize("name", sorted(STATUS))
def test_a_problem_of_each_name_renders_its_type_title_and_status(name: str) -> None:
    p = Problem(name, "what happened")
    assert (p.name, p.status, p.detail) == (name, STATUS[name], "what happened")
    assert p.type_uri == PROBLEM_BASE + name
    assert p.body() == {
        "type": PROBLEM_BASE + name,
        "title": TITLES[name],
        "status": STATUS[name],
        "detail": "what happened",
    }
    assert str(p) == f"{name}: what happened"


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(KeyError):
        Problem("teapot", "short and stout")


def test_extensions_go_beside_the_members_and_cannot_replace_them() -> None:
    extensions: dict[str, object] = {"conflict_token": "c1", "status": 200, "type": "about:blank"}
    p = Problem("session-limit", "full", extensions=extensions)
    body = p.body()
    assert body["conflict_token"] == "c1"
    assert (body["type"], body["status"]) == (PROBLEM_BASE + "session-limit", 409)
    extensions["later"] = 1  # the problem keeps a copy of the caller's mapping
    assert "later" not in p.body()


def test_a_401_carries_the_bearer_challenge_unless_it_has_its_own() -> None:
    assert Problem("token-expired", "d").headers == {"WWW-Authenticate": BEARER_CHALLENGE}
    own = Problem("session-ended", "d", headers={"WWW-Authenticate": "Bearer x"})
    assert own.headers == {"WWW-Authenticate": "Bearer x"}
    assert Problem("session-limit", "d").headers == {}
    assert Problem("captcha-required", "d").headers == {}


@pytest.mark.parametrize(
    ("seconds", "header"), [(0.0, 1), (0.2, 1), (1.0, 1), (1.01, 2), (29.5, 30), (-5.0, 1)]
)
def test_retry_after_is_whole_seconds_rounded_up_and_never_zero(
    seconds: float, header: int
) -> None:
    assert retry_after_seconds(seconds) == header


def test_with_retry_after_puts_the_seconds_in_the_body_and_the_header() -> None:
    p = with_retry_after("login-throttled", "too many", 12.3)
    assert (p.name, p.status, p.detail) == ("login-throttled", 429, "too many")
    assert p.headers == {"Retry-After": "13"}
    assert p.body()["retry_after"] == 13


def test_a_plain_http_error_is_about_blank() -> None:
    assert http_problem(404, "Not Found", "no such path") == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no such path",
    }
