"""The one rule for a person's name, shared by the wire, the store and the CLI.

A name is shown on every desk and typed on the command line next to keys
(``p3``, ``u7``, ``t-cam-2``) and ids, so it must never be mistaken for one, and it
must print as itself: no newline that forges a log line, no ANSI escape that
rewrites a terminal.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_NAME = 128
# p3, u7 (any case: an operator reads P3 as p3), t-<camera>-<track>, or a bare id.
_KEY_SHAPED = re.compile(r"^(?:[pPuU]\d+|[tT]-.*|\d+)$", re.DOTALL)


def check_person_name(name: str) -> str:
    """``name`` stripped of surrounding spaces, or ValueError with one sentence."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise ValueError(
            f"a person's name must have 1 to {MAX_NAME} characters (this one has {len(name)})"
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValueError(
            "a person's name must not hold control characters (newlines, tabs, escapes)"
        )
    if _KEY_SHAPED.match(name):
        raise ValueError(
            f"a person's name must not look like a key or an id (p3, u7, t-..., 12): {name!r}"
        )
    return name


# On the wire: the length bound is checked by pydantic first (bounded work), then the rule.
PersonName = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(check_person_name)
]

__all__ = ["MAX_NAME", "PersonName", "check_person_name"]
