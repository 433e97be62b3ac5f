"""srs/wire/commands.py: operator commands, their responses and the first-admin request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from srs.wire.commands import Request


def test_commands_are_a_tagged_union() -> None:
    req = Request.model_validate(
        {
            "request_id": "r1",
            "command": {"action": "name_identity", "person_key": "u7", "name": "Ada"},
        }
    )
    assert req.command.action == "name_identity"
    with pytest.raises(ValidationError, match="action"):
        Request.model_validate({"request_id": "r1", "command": {"action": "drop_tables"}})
