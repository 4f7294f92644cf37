"""The README's shell commands run as written against a real `meshes-emulator serve` (the
emulator's address and the app's put where the README says 127.0.0.1:8787 and 127.0.0.1:3000),
and the app then receives what the README says it does."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx

from meshes_emulator.defaults import DEFAULT_PUBLISHABLE_KEY, DEFAULT_WORKSPACE_ID
from meshes_emulator.webhooks import verify_signature
from pytest_meshes.webhooks import WebhookReceiver
from tests.helpers import local_url, serve

README = Path(__file__).resolve().parents[1] / "README.md"
README_URL = "http://127.0.0.1:8787"
README_APP_URL = "http://127.0.0.1:3000/meshes"


def bash_block(heading: str) -> str:
    """The first bash block of the README section `heading`."""
    section = README.read_text().split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```bash\n(.*?)```", section, re.S)
    assert found is not None, heading
    return found.group(1)


def run(script: str) -> list[Any]:
    """Run `script` with bash (stopping at the first failure); the JSON documents it printed."""
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    decoder, text, documents = json.JSONDecoder(), done.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].strip()
    return documents


def test_talking_to_it_runs_as_written() -> None:
    with serve("--db", ":memory:", "--quiet") as info:
        script = bash_block("Talking to it").replace(README_URL, local_url(info))
        workspaces, created = run(script)
    assert [w["id"] for w in workspaces["records"]] == [DEFAULT_WORKSPACE_ID]
    assert created["event"]["event"] == "user.signup"
    assert created["event"]["workspace"] == DEFAULT_WORKSPACE_ID


def test_the_webhook_recipe_delivers_what_the_readme_describes() -> None:
    receiver = WebhookReceiver(secret="my-signing-secret", path="/meshes").start()
    try:
        with serve("--db", ":memory:", "--quiet") as info:
            url = local_url(info)
            script = bash_block("Webhooks to your app").replace(README_URL, url)
            (rule,) = run(script.replace(README_APP_URL, receiver.url))
            assert rule["rule"]["metadata"] == {"action": "send_webhook"}
            event = httpx.post(f"{url}/api/v1/events", json={
                "event": "user.signup", "payload": {"email": "ada@example.com"}},
                headers={"X-Meshes-Publishable-Key": DEFAULT_PUBLISHABLE_KEY}).json()["event"]
            settled = httpx.post(f"{url}/_emulator/settle", timeout=30).json()
            assert settled["in_flight"] == 0
    finally:
        receiver.stop()
    (delivery,) = receiver.deliveries
    assert (delivery.method, delivery.path) == ("POST", "/meshes")
    assert delivery.header("Content-Type") == "application/json"
    body = delivery.json
    assert set(body) == {"uuid", "event", "resource", "resource_id", "payload", "time_created",
                         "time_sent"}
    assert (body["uuid"], body["payload"]) == (event["id"], {"email": "ada@example.com"})
    assert isinstance(body["time_created"], int) and isinstance(body["time_sent"], int)
    signature = delivery.header("X-Meshes-Signature")
    assert signature is not None and signature.startswith("sha256=")
    assert verify_signature(delivery.body, signature, "my-signing-secret")
    assert (delivery.header("X-Meshes-Timestamp") or "").isdigit()
