"""Logs never carry a secret, whether it is known from the settings or only looks like one."""

import io
import json

import structlog

from syncer import logs


def _logged(**fields: object) -> dict[str, object]:
    stream = io.StringIO()
    logs.configure("info", stream=stream, json=True)
    structlog.get_logger().info("event_happened", **fields)
    line: dict[str, object] = json.loads(stream.getvalue())
    return line


def test_known_secret_values_are_masked_anywhere() -> None:
    logs.REDACTOR.add(["hunter2-very-secret"])
    line = _logged(error="401 for user x with password hunter2-very-secret")
    assert line["error"] == "401 for user x with password ********"


def test_token_shaped_values_are_masked() -> None:
    line = _logged(
        url="https://x.test/?q=1",
        header="Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
        gh="token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        slack="xoxb-1234567890-abcdefghij",
    )
    assert line["url"] == "https://x.test/?q=1"
    assert "abcdefghijklmnopqrstuvwxyz" not in json.dumps(line)
    assert "xoxb-1234567890" not in json.dumps(line)


def test_fields_named_like_secrets_are_masked() -> None:
    line = _logged(api_token="plain", password="x", tracker="local")
    assert line["api_token"] == logs.MASK
    assert line["password"] == logs.MASK
    assert line["tracker"] == "local"
