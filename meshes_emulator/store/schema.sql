-- The empty database after every migration of meshes_emulator/store/migrations.py.
-- Written by scripts/write-schema; do not edit (add a migration, then run it).
BEGIN TRANSACTION;
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
INSERT INTO "_sqlite_migrations" VALUES(1,'meshes_emulator','m001_initial_schema','');
INSERT INTO "_sqlite_migrations" VALUES(2,'meshes_emulator','m002_engine_rule_event_trigger','');
INSERT INTO "_sqlite_migrations" VALUES(3,'meshes_emulator','m003_sessions_ttl_seconds','');
INSERT INTO "_sqlite_migrations" VALUES(4,'meshes_emulator','m004_faults_seen','');
INSERT INTO "_sqlite_migrations" VALUES(5,'meshes_emulator','m005_drop_rule_events_connection_index','');
INSERT INTO "_sqlite_migrations" VALUES(6,'meshes_emulator','m006_attempt_and_sink_ids_unindexed','');
CREATE TABLE attempts (
  id TEXT,
  rule_event_id TEXT NOT NULL REFERENCES rule_events(id) ON DELETE CASCADE,
  event_id TEXT NOT NULL, rule_id TEXT NOT NULL,
  attempt_number INTEGER NOT NULL,
  trigger TEXT NOT NULL DEFAULT 'scheduled',
  started_at TEXT NOT NULL, completed_at TEXT, duration_ms INTEGER,
  outcome_code TEXT, http_status INTEGER, message TEXT,
  request TEXT, response TEXT,
  UNIQUE (rule_event_id, attempt_number)
);
CREATE TABLE catalog_entries (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('event_type', 'resource')),
  key TEXT NOT NULL, label TEXT NOT NULL, description TEXT,
  active INTEGER NOT NULL DEFAULT 1, created_by TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (workspace_id, kind, key)
);
CREATE TABLE connections (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  type TEXT NOT NULL, name TEXT NOT NULL,
  metadata TEXT NOT NULL,
  action_data TEXT,
  active INTEGER NOT NULL DEFAULT 1, inactive_reason TEXT,
  hidden INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE deliveries (
  id TEXT,
  attempt_id TEXT, rule_event_id TEXT,
  org_id TEXT NOT NULL, workspace_id TEXT NOT NULL, connection_id TEXT NOT NULL,
  event_id TEXT NOT NULL, rule_id TEXT NOT NULL,
  integration_type TEXT NOT NULL, action TEXT,
  request TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  event TEXT NOT NULL, resource TEXT, resource_id TEXT,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  total_rules INTEGER NOT NULL DEFAULT 0,
  completed_count INTEGER NOT NULL DEFAULT 0,
  failed_count INTEGER NOT NULL DEFAULT 0,
  started_at TEXT, completed_at TEXT,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE faults (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('delivery', 'api')),
  position INTEGER NOT NULL,
  spec TEXT NOT NULL,
  budget INTEGER, hits INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
, seen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE field_catalogs (
  connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
  id TEXT NOT NULL, catalog_version TEXT NOT NULL, refreshed_at TEXT NOT NULL,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE machine_keys (
  access_key TEXT PRIMARY KEY,
  secret_key TEXT NOT NULL,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT, created_at TEXT NOT NULL
);
CREATE TABLE mappings (
  connection_id TEXT PRIMARY KEY REFERENCES connections(id) ON DELETE CASCADE,
  id TEXT NOT NULL, mapping_id TEXT NOT NULL, version INTEGER NOT NULL,
  workspace_id TEXT NOT NULL, integration_type TEXT NOT NULL, name TEXT NOT NULL,
  schema TEXT NOT NULL, catalog_version TEXT, created_by TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE orgs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE publishable_keys (
  public_key TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL UNIQUE REFERENCES workspaces(id) ON DELETE CASCADE,
  org_id TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE rule_events (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  rule_id TEXT NOT NULL,
  org_id TEXT NOT NULL, workspace_id TEXT NOT NULL,
  connection_id TEXT NOT NULL, integration_type TEXT NOT NULL,
  action TEXT, rule_metadata TEXT,
  event TEXT NOT NULL, resource TEXT, resource_id TEXT,
  status TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  started_at TEXT, completed_at TEXT, last_error TEXT,
  due_at TEXT,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL, next_trigger TEXT,
  UNIQUE (event_id, rule_id)
);
CREATE TABLE rules (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
  type TEXT NOT NULL, event TEXT NOT NULL, resource TEXT, resource_id TEXT,
  metadata TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1, hidden INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE sessions (
  session_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  role TEXT NOT NULL, session_type TEXT NOT NULL,
  external_user_id TEXT, resource TEXT, resource_id TEXT,
  launch_page TEXT NOT NULL, allowed_origins TEXT, scopes TEXT,
  status TEXT NOT NULL DEFAULT 'active',
  token_version INTEGER NOT NULL DEFAULT 1,
  launch_token TEXT, launch_used INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL, expires_at TEXT NOT NULL, launch_expires_at TEXT,
  revoked_at TEXT
, ttl_seconds INTEGER NOT NULL DEFAULT 1800);
CREATE TABLE workspaces (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT NOT NULL, description TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
CREATE UNIQUE INDEX workspaces_org_name ON workspaces (org_id, name COLLATE NOCASE);
CREATE INDEX connections_org ON connections (org_id);
CREATE INDEX connections_workspace ON connections (workspace_id);
CREATE INDEX rules_org ON rules (org_id);
CREATE INDEX rules_workspace_event ON rules (workspace_id, event);
CREATE INDEX rules_connection ON rules (connection_id);
CREATE INDEX events_org ON events (org_id);
CREATE INDEX events_workspace ON events (workspace_id);
CREATE INDEX rule_events_due ON rule_events (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX sessions_workspace ON sessions (workspace_id);
CREATE INDEX deliveries_connection ON deliveries (connection_id);
COMMIT;
