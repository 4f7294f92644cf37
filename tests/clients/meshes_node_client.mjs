// A Node client that speaks to Meshes exactly as the official @mesheshq/api and
// @mesheshq/events clients do on the wire (their packages are not on the registry this project
// can reach): the same credential checks, an HS256 machine JWT minted per request with a 30 s
// lifetime, the same headers on every method, and the same body parsing.
// Usage: node meshes_node_client.mjs <scenario> ; credentials come from MESHES_* variables.
import crypto from "node:crypto";

const env = process.env;
const base = `${env.MESHES_API_URL}/api/v1`;

function check(value, regex, what) {
  if (typeof value !== "string" || !regex.test(value)) {
    throw new Error(`Missing or invalid ${what}: ${value}`);
  }
}
check(env.MESHES_ORG_ID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "organization ID");
check(env.MESHES_ACCESS_KEY, /^mk_[A-Za-z0-9_-]+$/, "access key");
check(env.MESHES_SECRET_KEY, /^[A-Za-z0-9_-]{43,}$/, "secret key");
check(env.MESHES_PUBLISHABLE_KEY, /^mesh_pub_([A-Za-z0-9\-.]+)_([A-Za-z0-9\-.]+)_([^_]+)$/, "publishable key");

const b64url = (data) => Buffer.from(data).toString("base64url");

function machineToken() {
  const iat = Math.floor(Date.now() / 1000);
  const header = { alg: "HS256", typ: "JWT", kid: env.MESHES_ACCESS_KEY };
  const claims = { org: env.MESHES_ORG_ID, iss: `urn:meshes:m2m:${env.MESHES_ACCESS_KEY}`,
                   aud: "meshes-api", iat, exp: iat + 30 };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = crypto.createHmac("sha256", new TextEncoder().encode(env.MESHES_SECRET_KEY))
    .update(signingInput).digest("base64url");
  return `${signingInput}.${signature}`;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

async function send(method, path, body, headers) {
  const response = await fetch(`${base}${path}`, {
    method, headers, body: body ? JSON.stringify(body) : null,
  });
  const data = await readBody(response);
  return { status: response.status, ok: response.ok, data };
}

const api = (method, path, body) => send(method, path, body, {
  "X-Meshes-Client": "Meshes API Client v1.0.0", "Content-Type": "application/json",
  Accept: "application/json", Authorization: `Bearer ${machineToken()}`,
});

const events = (path, body) => send("POST", path, body, {
  "X-Meshes-Client": "Meshes Events Client v1.0.0", "Content-Type": "application/json",
  Accept: "application/json", "X-Meshes-Publishable-Key": env.MESHES_PUBLISHABLE_KEY,
});

const scenarios = {
  async workspaces() {
    const created = await api("POST", "/workspaces", { name: "From Node", description: "n" });
    const id = created.data.workspace.id;
    return {
      created,
      list: await api("GET", "/workspaces"),
      get: await api("GET", `/workspaces/${id}`),
      update: await api("PUT", `/workspaces/${id}`, { name: "From Node 2", description: null }),
      missing: await api("GET", "/workspaces/00000000-0000-4000-8000-000000000000"),
    };
  },
  async events() {
    return {
      single: await events("/events", { event: "user.signup", payload: { email: "ada@example.com" } }),
      bulk: await events("/events/bulk", [
        { event: "user.signup", payload: { email: "bob@example.com" } },
        { event: "user.login", payload: { email: "bob@example.com" } },
      ]),
    };
  },
};

const result = await scenarios[process.argv[2]]();
process.stdout.write(JSON.stringify(result));
