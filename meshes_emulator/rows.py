"""A stored row as the layers above the store see it, and the codec of its JSON columns.

Low in the layers (docs/architecture.md) so that wire models (schemas/) can render rows without
importing the store.
"""

from __future__ import annotations

from typing import Any

import orjson

Row = dict[str, Any]


def encode_json(value: Any) -> str | None:
    """JSON text for a JSON column (None stays NULL)."""
    return None if value is None else orjson.dumps(value).decode()


def decode_json(text: str | bytes | None) -> Any:
    return None if text is None else orjson.loads(text)
