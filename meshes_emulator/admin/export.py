"""`GET /_emulator/export`: the whole state as a seed-file-shaped document (YAML or JSON).

`?secrets=true` includes machine key secrets, connection credentials and launch tokens (left out
or masked by default); `?format=json` answers JSON instead of YAML.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from meshes_emulator.admin import emulator_of, query
from meshes_emulator.schemas.admin import ExportQuery
from meshes_emulator.services import export

MEDIA_TYPES = {"json": "application/json", "yaml": "application/yaml"}


async def export_state(request: Request) -> Response:
    spec = query(request, ExportQuery)
    text = export.export_state(emulator_of(request), with_secrets=spec.secrets,
                               as_json=spec.format == "json")
    return Response(text, media_type=MEDIA_TYPES[spec.format])
