"""`GET /_emulator/export`: the whole state as a seed-file-shaped document (YAML or JSON).

`?secrets=true` includes machine key secrets, connection credentials and launch tokens (left out
or masked by default); `?format=json` answers JSON instead of YAML.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from meshes_emulator.api import emulator_of
from meshes_emulator.errors import ValidationFailed
from meshes_emulator.services import export

FLAGS = {"true": True, "1": True, "false": False, "0": False}


async def export_state(request: Request) -> Response:
    emulator = emulator_of(request)
    secrets = FLAGS.get(request.query_params.get("secrets", "false").lower())
    if secrets is None:
        raise ValidationFailed([{"param": "secrets", "msg": "must be true or false"}])
    kind = request.query_params.get("format", "yaml")
    if kind not in ("yaml", "json"):
        raise ValidationFailed([{"param": "format", "msg": "must be yaml or json"}])
    text = export.dump_text(emulator.store, with_secrets=secrets, clock=emulator.clock,
                            as_json=kind == "json")  # fmt: skip
    media = "application/json" if kind == "json" else "application/yaml"
    return Response(text, media_type=media)


def routes() -> list[BaseRoute]:
    return [Route("/export", export_state, methods=["GET"])]
