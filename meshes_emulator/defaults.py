"""Stable, documented default credentials for a fresh database (docs/emulator-api.md).

They have the shapes the official clients accept. Never use them anywhere but locally.
"""

DEFAULT_ORG_ID = "7d3b5a1e-2c4f-4e8a-9b6d-1f2e3d4c5b6a"
DEFAULT_ORG_NAME = "Emulator Organization"
DEFAULT_ACCESS_KEY = "mk_emulatorLocalDevKey000000001"
DEFAULT_SECRET_KEY = "emulator-local-dev-secret-key-never-use-in-production-0001"
DEFAULT_WORKSPACE_ID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
DEFAULT_WORKSPACE_NAME = "Default Workspace"
DEFAULT_PUBLISHABLE_KEY = "mesh_pub_emulator_default_0b1c2d3e4f5a4b6c"
DEFAULT_PUBLISHABLE_KEY_NAME = "Default publishable key"
