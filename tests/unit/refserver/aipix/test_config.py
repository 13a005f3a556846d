"""The simulator's settings and readings from ``--aipix KEY=VALUE``."""

from __future__ import annotations

import pytest

from vms_tray.errors import InvalidInput
from vms_tray.refserver.aipix.config import AipixConfig, parse_pairs


def test_parse_pairs() -> None:
    config = parse_pairs(["limit_status=429", "captcha=on", "token_idle_ttl=60"])
    assert config.readings.limit_status == 429 and config.captcha
    assert config.readings.token_idle_ttl == 60.0
    assert parse_pairs(["sessions_limit=0"]).sessions_limit is None
    units = parse_pairs(["last_unit=milliseconds", "captcha_ttl_unit=milliseconds"]).readings
    assert (units.last_unit, units.captcha_ttl_unit) == ("milliseconds", "milliseconds")
    with pytest.raises(InvalidInput, match="one of seconds, milliseconds"):
        parse_pairs(["last_unit=minutes"])
    with pytest.raises(InvalidInput, match="KEY one of"):
        parse_pairs(["nonsense=1"])
    with pytest.raises(InvalidInput, match="one of 419, 429"):
        parse_pairs(["limit_status=500"])


def test_a_base_config_is_kept_where_no_setting_names_it() -> None:
    base = AipixConfig(captcha=True, sessions_limit=5)
    config = parse_pairs(["uuid_keyed=yes", "min_client_version=25.0"], base)
    assert (config.captcha, config.sessions_limit, config.min_client_version) == (True, 5, "25.0")
    assert config.readings.uuid_keyed
    with pytest.raises(InvalidInput, match="true or false"):
        parse_pairs(["captcha=maybe"])
    with pytest.raises(InvalidInput, match="a number"):
        parse_pairs(["online_window=soon"])
