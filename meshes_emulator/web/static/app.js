/* meshes-emulator pages: the embed app (launch URL in an iframe) and the local dashboard.
 *
 * Plain JavaScript, no build step, nothing loaded from elsewhere. Data comes from the public API
 * (/api/v1) with, in embed mode, the session access token the host posts after `meshes:ready`,
 * and in local mode a short machine token from /_emulator/token.
 *
 * Iframe message contract (behavior §5.4):
 *   iframe -> host: meshes:ready, meshes:token-refresh, meshes:token-expired, meshes:navigate,
 *                   meshes:resize {height}
 *   host -> iframe: meshes:auth {token}
 */
(function () {
  "use strict";

  const CONFIG = JSON.parse(document.getElementById("meshes-config").textContent);
  const EMBED = CONFIG.mode === "embed";
  const API = "/api/v1";
  const TOKEN_WAIT_MS = 10000;     // how long to wait for the host after meshes:token-refresh
  const POLL_MS = 2000;            // auto-refresh of pages with deliveries still moving
  const TERMINAL = ["completed", "failed", "canceled"];

  const state = {
    token: null, claims: null, hostOrigin: null, tokenWaiters: [], refreshTimer: null,
    expiryTimer: null, expired: false, pendingRefresh: null, started: false,
    workspaceId: CONFIG.workspace_id || null, orgId: null, orgs: [],
    machineToken: null, machineTokenAt: 0, pollTimer: null, renderId: 0, lastHeight: 0,
    requestFilters: {},
  };
  // Visible to tests and curious developers: every message sent and received.
  const journal = { sent: [], received: [] };
  window.__meshes = { config: CONFIG, state: state, messages: journal };

  // ------------------------------------------------------------------ DOM helpers
  function h(tag, attrs) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (let i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach((c) => append(el, c)); return; }
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  function badge(text, kind) { return h("span", { class: "badge " + (kind || text || ""), text: text || "—" }); }
  function fmtTime(value) { return value ? String(value).replace("T", " ").replace(/\.\d+Z$|Z$/, "Z") : "—"; }
  function short(id) { return id ? String(id).slice(0, 8) : "—"; }
  function table(headers, rows, onRow) {
    return h("table", null,
      h("thead", null, h("tr", null, headers.map((x) => h("th", { text: x })))),
      h("tbody", null, rows.map((cells) => {
        const tr = h("tr", onRow ? { class: "clickable" } : null, cells.cells.map((c) => h("td", null, c)));
        if (onRow) tr.addEventListener("click", () => onRow(cells.item));
        return tr;
      })));
  }
  function empty(text) { return h("div", { class: "empty", text: text }); }
  const view = () => document.getElementById("view");
  function setView() {
    const el = view();
    el.replaceChildren();
    for (let i = 0; i < arguments.length; i++) append(el, arguments[i]);
    reportSize();
  }
  function notice(text, isError) {
    const el = document.getElementById("notice");
    if (!text) { el.hidden = true; el.textContent = ""; reportSize(); return; }
    el.hidden = false;
    el.className = isError ? "error" : "";
    el.textContent = text;
    reportSize();
  }

  // ------------------------------------------------------------------ host messages (embed)
  const allowedOrigins = CONFIG.allowed_origins || [];

  function postToHost(message) {
    journal.sent.push(message);
    if (!EMBED || window.parent === window) return;
    if (state.hostOrigin) { window.parent.postMessage(message, state.hostOrigin); return; }
    if (allowedOrigins.length) {
      allowedOrigins.forEach((origin) => window.parent.postMessage(message, origin));
      return;
    }
    // No allowed_origins: any origin may embed, and meshes:ready carries no secret.
    window.parent.postMessage(message, "*");
  }

  function decodeClaims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
    } catch (e) {
      return null;
    }
  }

  function onMessage(event) {
    if (event.source !== window.parent) return;
    if (allowedOrigins.length && allowedOrigins.indexOf(event.origin) < 0) return;
    if (state.hostOrigin && event.origin !== state.hostOrigin) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.type !== "meshes:auth") return;
    journal.received.push({ type: data.type, origin: event.origin });
    if (typeof data.token !== "string") return;
    const claims = decodeClaims(data.token);
    if (!claims || claims.sid !== CONFIG.session_id) {
      console.warn("meshes: ignoring a token of another session");
      return;
    }
    state.hostOrigin = event.origin;
    acceptToken(data.token, claims);
  }

  function acceptToken(token, claims) {
    const isNew = token !== state.token;
    state.token = token;
    state.claims = claims;
    state.expired = false;
    clearTimeout(state.refreshTimer);
    clearTimeout(state.expiryTimer);
    // The token's lifetime is read from its own claims (iat/exp, emulator time), and counted
    // from now on the browser's clock: the two clocks need not agree.
    const lifetime = Math.max(1, (claims.exp || 0) - (claims.iat || 0));
    const refreshIn = lifetime > 120 ? lifetime - 60 : lifetime / 2;
    state.refreshIn = refreshIn;
    state.refreshTimer = setTimeout(() => postToHost({ type: "meshes:token-refresh" }), refreshIn * 1000);
    state.expiryTimer = setTimeout(() => expire("Session token expired"), lifetime * 1000);
    const waiters = state.tokenWaiters.splice(0);
    waiters.forEach((resolve) => resolve(token));
    notice(null);
    if (!state.started) { state.started = true; route(); }
    else if (isNew && document.body.dataset.stale === "1") { document.body.dataset.stale = "0"; route(); }
  }

  function expire(reason) {
    if (state.expired) return;
    state.expired = true;
    state.token = null;
    clearTimeout(state.refreshTimer);
    clearTimeout(state.expiryTimer);
    postToHost({ type: "meshes:token-expired" });
    document.body.dataset.stale = "1";
    notice((reason || "The session has expired") + ". Waiting for the host to start a new session.", true);
    const waiters = state.tokenWaiters.splice(0);
    waiters.forEach((resolve) => resolve(null));
  }

  function waitForToken(ms) {
    return new Promise((resolve) => {
      state.tokenWaiters.push(resolve);
      if (ms) setTimeout(() => {
        const i = state.tokenWaiters.indexOf(resolve);
        if (i >= 0) { state.tokenWaiters.splice(i, 1); resolve(null); }
      }, ms);
    });
  }

  // After an auth-related 401: ask the host for a fresh token once, shared by concurrent calls.
  function requestFreshToken(staleToken) {
    if (state.token && state.token !== staleToken) return Promise.resolve(state.token);
    if (!state.pendingRefresh) {
      postToHost({ type: "meshes:token-refresh" });
      state.pendingRefresh = waitForToken(TOKEN_WAIT_MS).then((token) => {
        state.pendingRefresh = null;
        if (!token) expire("No fresh session token arrived");
        return token;
      });
    }
    return state.pendingRefresh;
  }

  function reportSize() {
    if (!EMBED) return;
    requestAnimationFrame(() => {
      const app = document.getElementById("app");
      const height = Math.ceil(app.getBoundingClientRect().height);
      if (height !== state.lastHeight) {
        state.lastHeight = height;
        postToHost({ type: "meshes:resize", height: height });
      }
    });
  }

  // ------------------------------------------------------------------ API access
  class ApiError extends Error {
    constructor(status, body) {
      const detail = body && body.error && body.error.message ? body.error.message : "";
      super((body && body.message ? body.message : "HTTP " + status) + (detail ? ": " + detail : ""));
      this.status = status;
      this.body = body;
      this.detail = detail;
    }
  }

  async function machineToken(force) {
    if (!force && state.machineToken && Date.now() - state.machineTokenAt < 20000) return state.machineToken;
    const query = state.orgId ? "?org_id=" + encodeURIComponent(state.orgId) : "";
    const body = await getJson("/_emulator/token" + query);
    state.machineToken = body.token;
    state.machineTokenAt = Date.now();
    return body.token;
  }

  async function credential() {
    if (!EMBED) return machineToken(false);
    if (state.token) return state.token;
    if (state.expired) throw new ApiError(401, { message: "Unauthorized", error: { message: "No session token" } });
    return waitForToken(0);
  }

  async function send(url, method, token, body) {
    const headers = { Accept: "application/json", Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  async function decode(response) {
    const text = await response.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = { message: text }; }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  // Call the public API (or /embed/api/...) with the current credential.
  async function api(path, options) {
    const opts = options || {};
    const url = (path.startsWith("/embed/") ? "" : API) + path;
    const method = opts.method || "GET";
    let token = await credential();
    let response = await send(url, method, token, opts.body);
    if (response.status === 401) {
      const problem = await decode(response).catch((e) => e);
      if (!EMBED) {
        token = await machineToken(true);
      } else if (/expired|revoked/i.test(problem.detail || "")) {
        expire(problem.detail);
        throw problem;
      } else {
        token = await requestFreshToken(token);
        if (!token) throw problem;
      }
      response = await send(url, method, token, opts.body);
    }
    return decode(response);
  }

  async function getJson(url, options) {
    const opts = options || {};
    const response = await fetch(url, {
      method: opts.method || "GET", headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return decode(response);
  }

  // ------------------------------------------------------------------ permissions
  const ROLE_RANK = { member: 0, admin: 1, owner: 2 };
  const can = {
    page: (page) => !EMBED || CONFIG.pages.indexOf(page) >= 0,
    operate: () => !EMBED || CONFIG.session_type !== "dashboard",
    configure: () => !EMBED || (CONFIG.session_type !== "dashboard" && ROLE_RANK[CONFIG.role] >= 1),
    payload: () => !EMBED || (ROLE_RANK[CONFIG.role] >= 1 && (CONFIG.scopes || []).indexOf("events.payload:read") >= 0),
    connections: () => !EMBED || CONFIG.session_type === "workspace",
  };

  // ------------------------------------------------------------------ routing
  const NAV = [["dashboard", "Dashboard"], ["connections", "Connections"], ["rules", "Rules"], ["events", "Events"]];
  const LOCAL_NAV = [["sessions", "Sessions"], ["deliveries", "Delivery sinks"], ["requests", "Requests"], ["faults", "Faults"], ["clock", "Clock"]];

  function currentRoute() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    return parts.length ? parts : [CONFIG.page || "dashboard"];
  }

  function go(path) { location.hash = "#/" + path; }

  function renderTopbar() {
    const bar = document.getElementById("topbar");
    const page = currentRoute()[0];
    const links = NAV.filter(([key]) => can.page(key))
      .concat(EMBED ? [] : LOCAL_NAV)
      .map(([key, label]) => h("a", { href: "#/" + key, class: key === page ? "active" : "", "data-page": key, text: label }));
    const parts = [h("span", { class: "brand", text: EMBED ? "Meshes" : "Meshes emulator" }), h("nav", null, links), h("span", { class: "spacer" })];
    if (EMBED) {
      let scope = CONFIG.session_type + " session · " + CONFIG.role;
      if (CONFIG.session_type === "resource") scope += " · " + CONFIG.resource + "/" + CONFIG.resource_id;
      parts.push(h("span", { class: "scope", id: "scope", text: scope }));
    } else {
      parts.push(orgPicker(), workspacePicker(), h("span", { class: "scope", id: "clock-now" }));
    }
    bar.replaceChildren.apply(bar, parts.filter(Boolean));
  }

  function orgPicker() {
    if (state.orgs.length < 2) return null;
    return h("select", { id: "org-select", onchange: (e) => { state.orgId = e.target.value; state.machineToken = null; pickWorkspace(); route(); } },
      state.orgs.map((o) => h("option", { value: o.org_id, selected: o.org_id === state.orgId, text: o.name })));
  }

  function workspacePicker() {
    const org = state.orgs.find((o) => o.org_id === state.orgId);
    const list = org ? org.workspaces : [];
    return h("select", { id: "workspace-select", onchange: (e) => { state.workspaceId = e.target.value; route(); } },
      list.map((w) => h("option", { value: w.id, selected: w.id === state.workspaceId, text: w.name })));
  }

  function pickWorkspace() {
    const org = state.orgs.find((o) => o.org_id === state.orgId) || state.orgs[0];
    if (!org) return;
    state.orgId = org.org_id;
    if (!org.workspaces.some((w) => w.id === state.workspaceId)) state.workspaceId = org.workspaces.length ? org.workspaces[0].id : null;
  }

  async function route() {
    clearTimeout(state.pollTimer);
    const renderId = ++state.renderId;
    const parts = currentRoute();
    const page = parts[0];
    renderTopbar();
    if (EMBED) postToHost({ type: "meshes:navigate", page: page, path: "/" + parts.join("/") });
    const pages = {
      dashboard: renderDashboard, connections: renderConnections, rules: renderRules, events: renderEvents,
      sessions: renderSessions, deliveries: renderDeliveries, requests: renderRequests, faults: renderFaults, clock: renderClock,
    };
    const localOnly = ["sessions", "deliveries", "requests", "faults", "clock"].indexOf(page) >= 0;
    let allowed = Boolean(pages[page]);
    if (localOnly && EMBED) allowed = false;
    if (!localOnly && !can.page(page)) allowed = false;
    if (page === "connections" && !can.connections()) allowed = false;
    if (!allowed) {
      const why = !pages[page] ? "There is no page \"" + page + "\"." : localOnly && EMBED ? "This page belongs to the local emulator dashboard, not to embed sessions."
        : "This embed session's type or role does not include this page.";
      setView(h("h1", { text: "Page not available here" }), empty(why));
      return;
    }
    try {
      if (page === "events" && parts[1]) await renderEventDetail(parts[1], renderId);
      else if (page === "connections" && parts[1] && parts[2] === "mappings") await renderMappings(parts[1], renderId);
      else await pages[page](renderId);
    } catch (error) {
      if (renderId !== state.renderId) return;
      const status = error && error.status;
      setView(h("h1", { text: "Could not load this page" }),
        h("p", { class: "muted", id: "load-error", text: (status ? "HTTP " + status + " · " : "") + (error.message || String(error)) }));
    }
    if (!EMBED) refreshClockLabel();
  }

  // Refresh part of a page while deliveries are still moving: 2 s, slowing down to 10 s.
  function poll(renderId, round, refresh) {
    clearTimeout(state.pollTimer);
    const delay = Math.min(POLL_MS * Math.pow(1.5, round), 10000);
    state.pollTimer = setTimeout(async () => {
      if (renderId !== state.renderId) return;
      try {
        if (await refresh()) poll(renderId, round + 1, refresh);
      } catch (error) { /* a failed refresh stops polling; the notice tells about auth */ }
    }, delay);
  }

  // Workspace scope for lists: the session's workspace, or the one picked in the dashboard.
  function ws() { return encodeURIComponent(state.workspaceId || ""); }

  // ------------------------------------------------------------------ pages
  async function renderDashboard(renderId) {
    const query = EMBED ? "" : "?workspace_id=" + ws();
    const m = await api("/embed/api/metrics" + query);
    if (renderId !== state.renderId) return;
    const tile = (label, value, id) => h("div", { class: "tile", id: id }, h("div", { class: "value", text: value }), h("div", { class: "label", text: label }));
    const events = m.events.by_status;
    const deliveries = m.deliveries.by_status;
    const tiles = [
      tile("Events", m.events.total, "tile-events"),
      tile("Completed events", events.completed || 0),
      tile("Failed events", events.failed || 0),
      tile("Deliveries pending or retrying", (deliveries.pending || 0) + (deliveries.processing || 0) + (deliveries.retrying || 0), "tile-moving"),
      tile("Delivered", deliveries.completed || 0),
      tile("Failed deliveries", deliveries.failed || 0),
      tile("Rules", m.rules),
    ];
    if (m.connections !== null) tiles.push(tile("Connections", m.connections));
    const outcomes = Object.entries(m.attempts.by_outcome);
    const parts = [h("h1", { text: m.workspace.name }), h("div", { class: "tiles" }, tiles)];
    if (outcomes.length) {
      parts.push(h("h2", { text: "Attempt outcomes" }), h("div", { class: "chips" },
        outcomes.map(([code, n]) => badge(code + " · " + n, code === "delivered" ? "ok" : "bad"))));
    }
    if (can.page("events")) {
      const page = await api("/workspaces/" + ws() + "/events?limit=5");
      const details = await loadDetails(page.records);
      if (renderId !== state.renderId) return;
      parts.push(h("h2", { text: "Recent events" }), eventsTable(page.records, details));
    }
    setView(parts);
  }

  async function renderConnections(renderId) {
    const page = await api("/workspaces/" + ws() + "/connections?limit=200");
    if (renderId !== state.renderId) return;
    const rows = page.records.map((c) => ({
      item: c, cells: [
        h("strong", { text: c.name }), c.type,
        c.active ? badge("active") : badge(c.inactive_reason || "inactive", "bad"),
        fmtTime(c.created_at), h("a", { href: "#/connections/" + c.id + "/mappings", text: "Mappings" }),
      ],
    }));
    setView(h("h1", { text: "Connections" }),
      rows.length ? table(["Name", "Type", "Status", "Created", ""], rows) : empty("No connections in this workspace yet."));
  }

  async function renderMappings(connectionId, renderId) {
    const id = encodeURIComponent(connectionId);
    const [connection, result] = await Promise.all([api("/connections/" + id), api("/connections/" + id + "/mappings/default")]);
    if (renderId !== state.renderId) return;
    const mapping = result.mapping || {};
    const fields = (mapping.schema && mapping.schema.fields) || [];
    const source = (s) => !s ? "—" : s.type === "literal" ? JSON.stringify(s.value) : (s.value || s.path || "");
    const rows = fields.map((f) => ({
      item: f, cells: [h("code", { text: f.dest }), h("code", { text: source(f.source) }), (f.source || {}).type || "",
        (f.transforms || []).map((t) => t.type).join(" → ") || "—", f.on_error || "—"],
    }));
    setView(h("p", null, h("a", { href: "#/connections", text: "← Connections" })),
      h("h1", { text: "Mappings · " + connection.name }),
      h("dl", { class: "kv" },
        h("dt", { text: "Status" }), h("dd", null, badge(result.status, result.status === "stored" ? "ok" : "")),
        h("dt", { text: "Version" }), h("dd", { text: mapping.version }),
        h("dt", { text: "Integration" }), h("dd", { text: mapping.integration_type || connection.type }),
        h("dt", { text: "Catalog version" }), h("dd", { text: mapping.catalog_version || "—" })),
      rows.length ? table(["Destination", "Source", "Kind", "Transforms", "On error"], rows) : empty("This mapping has no fields."),
      h("h2", { text: "Schema" }), h("pre", { text: JSON.stringify(mapping.schema || {}, null, 2) }));
  }

  async function renderRules(renderId) {
    const page = await api("/workspaces/" + ws() + "/rules?limit=200");
    let names = {};
    if (can.connections()) {
      const conns = await api("/workspaces/" + ws() + "/connections?limit=200").catch(() => ({ records: [] }));
      conns.records.forEach((c) => { names[c.id] = c.name; });
    }
    if (renderId !== state.renderId) return;
    const rows = page.records.map((r) => ({
      item: r, cells: [
        h("strong", { text: r.event }), r.resource ? r.resource + (r.resource_id ? "/" + r.resource_id : "") : "any",
        r.type, (r.metadata && r.metadata.action) || "—", names[r.connection] || short(r.connection),
        r.active === false ? badge("inactive", "bad") : badge("active"), fmtTime(r.created_at),
      ],
    }));
    setView(h("h1", { text: "Rules" }),
      rows.length ? table(["Event", "Resource", "Integration", "Action", "Connection", "Status", "Created"], rows)
        : empty("No rules yet: events are accepted but go nowhere."));
  }

  function deliveryChips(event) {
    const list = event.rule_events || [];
    if (!list.length) return h("span", { class: "muted", text: event.status === "completed" ? "no matching rules" : "—" });
    return h("div", { class: "chips" }, list.map((re) =>
      h("span", { class: "badge " + re.status, "data-rule": re.rule, text: re.integration_type + ": " + re.status })));
  }

  function eventsTable(events, details) {
    if (!events.length) return empty("No events yet.");
    const rows = events.map((e) => {
      const full = details[e.id] || e;
      return {
        item: e, cells: [
          fmtTime(e.created_at), h("strong", { text: e.event }),
          (e.resource || "global") + (e.resource_id ? "/" + e.resource_id : ""),
          badge(full.status), (full.completed_count || 0) + " / " + (full.total_rules || 0),
          details[e.id] ? deliveryChips(full) : h("span", { class: "muted", text: "…" }),
        ],
      };
    });
    const el = table(["Received", "Event", "Resource", "Status", "Delivered", "Deliveries"], rows, (e) => go("events/" + e.id));
    el.id = "events-table";
    el.querySelectorAll("tbody tr").forEach((tr, i) => tr.setAttribute("data-event-id", events[i].id));
    return el;
  }

  async function loadDetails(events) {
    const details = {};
    await Promise.all(events.map((e) =>
      api("/events/" + encodeURIComponent(e.id)).then((d) => { details[e.id] = d; }).catch(() => null)));
    return details;
  }

  async function renderEvents(renderId) {
    const wrap = h("div", { id: "events-wrap" });
    const status = h("span", { class: "muted", id: "events-status" });
    const refresh = async () => {
      const page = await api("/workspaces/" + ws() + "/events?limit=25");
      const details = await loadDetails(page.records);
      if (renderId !== state.renderId) return false;
      const moving = Object.values(details).some((d) => TERMINAL.indexOf(d.status) < 0);
      wrap.replaceChildren(eventsTable(page.records, details));
      status.textContent = moving ? "Deliveries in progress: refreshing…" : "";
      reportSize();
      return moving;
    };
    const moving = await refresh();
    if (renderId !== state.renderId) return;
    setView(h("h1", { text: "Events" }),
      h("div", { class: "toolbar" }, h("button", { id: "reload", onclick: () => route(), text: "Reload" }), status),
      can.operate() ? sendEventForm() : null, wrap);
    if (moving) poll(renderId, 0, refresh);
  }

  function sendEventForm() {
    const resourceFixed = EMBED && CONFIG.session_type === "resource";
    const form = h("form", { class: "inline", id: "send-event" },
      h("label", null, "Event", h("input", { name: "event", value: "emulator.test", required: true })),
      resourceFixed ? null : h("label", null, "Resource", h("input", { name: "resource", placeholder: "global" })),
      resourceFixed ? null : h("label", null, "Resource id", h("input", { name: "resource_id" })),
      h("label", null, "Payload (JSON)", h("textarea", { name: "payload", text: '{"email": "dev@example.com"}' })),
      h("button", { class: "primary", type: "submit", text: "Send test event" }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = new FormData(form);
      let payload;
      try { payload = JSON.parse(data.get("payload") || "{}"); } catch (err) { notice("The payload is not valid JSON", true); return; }
      const body = { event: data.get("event"), payload: payload, workspace: state.workspaceId };
      if (data.get("resource")) body.resource = data.get("resource");
      if (data.get("resource_id")) body.resource_id = data.get("resource_id");
      try { await api("/events", { method: "POST", body: body }); notice(null); route(); }
      catch (err) { notice(err.message, true); }
    });
    return form;
  }

  function attemptItem(attempt, eventId, ruleId) {
    const ok = attempt.outcome_code === "delivered";
    const item = h("li", { class: ok ? "delivered" : attempt.outcome_code ? "failure" : "", "data-attempt": attempt.attempt_number },
      h("div", null, h("strong", { text: "Attempt " + attempt.attempt_number }), " ",
        badge(attempt.outcome_code || "in flight", ok ? "ok" : attempt.outcome_code ? "bad" : "pending"), " ",
        attempt.http_status ? h("code", { text: "HTTP " + attempt.http_status }) : null, " ",
        h("span", { class: "muted", text: fmtTime(attempt.started_at) + (attempt.duration_ms !== null && attempt.duration_ms !== undefined ? " · " + attempt.duration_ms + " ms" : "") +
          (attempt.trigger && attempt.trigger !== "scheduled" ? " · " + attempt.trigger : "") })),
      attempt.message ? h("div", { class: "muted", text: attempt.message }) : null);
    const details = h("a", { href: "#", text: "response details" });
    details.addEventListener("click", async (e) => {
      e.preventDefault();
      const path = "/events/" + eventId + "/rules/" + ruleId + "/attempts/" + attempt.id + "/response-details";
      try { const body = await api(path); details.replaceWith(h("pre", { text: JSON.stringify(body, null, 2) })); }
      catch (err) { details.replaceWith(h("span", { class: "muted", text: err.message })); }
      reportSize();
    });
    if (attempt.completed_at) append(item, details);
    return item;
  }

  async function ruleEventCard(eventId, re, nextDue) {
    const base = "/events/" + encodeURIComponent(eventId) + "/rules/" + encodeURIComponent(re.rule);
    const attempts = await api(base + "/attempts?limit=200").catch(() => ({ records: [] }));
    const list = attempts.records.slice().sort((a, b) => a.attempt_number - b.attempt_number);
    const actions = [];
    if (can.operate() && TERMINAL.indexOf(re.status) < 0) {
      actions.push(h("button", { text: "Cancel", onclick: () => act(base + "/cancel") }));
    }
    if (can.operate() && (re.status === "failed" || re.status === "retrying")) {
      actions.push(h("button", { text: "Retry now", onclick: () => act(base + "/retry") }));
    }
    return h("div", { class: "card rule-event", "data-rule": re.rule, "data-status": re.status },
      h("div", { class: "card-head" }, h("h3", { text: re.integration_type }), badge(re.status),
        h("span", { class: "muted", text: "rule " + short(re.rule) + " · connection " + short(re.connection) + " · " + re.attempt_count + " attempt(s)" }),
        h("span", { class: "spacer" }), actions),
      re.last_error ? h("p", { class: "muted", text: "Last error: " + re.last_error }) : null,
      nextDue ? h("p", { class: "next-due", text: "Next attempt due " + fmtTime(nextDue) }) : null,
      list.length ? h("ol", { class: "timeline" }, list.map((a) => attemptItem(a, eventId, re.rule)))
        : h("p", { class: "muted", text: "No attempt yet." }));
  }

  async function act(path) {
    try { await api(path, { method: "POST" }); notice(null); }
    catch (err) { notice(err.message, true); }
    route();
  }

  function eventHeader(event) {
    return h("dl", { class: "kv", id: "event-head" },
      h("dt", { text: "Status" }), h("dd", null, badge(event.status)),
      h("dt", { text: "Resource" }), h("dd", { text: (event.resource || "global") + (event.resource_id ? "/" + event.resource_id : "") }),
      h("dt", { text: "Deliveries" }), h("dd", { text: (event.completed_count || 0) + " completed · " + (event.failed_count || 0) + " failed · " + (event.total_rules || 0) + " rule(s)" }),
      h("dt", { text: "Received" }), h("dd", { text: fmtTime(event.created_at) }),
      h("dt", { text: "Started" }), h("dd", { text: fmtTime(event.started_at) }),
      h("dt", { text: "Finished" }), h("dd", { text: fmtTime(event.completed_at) }),
      h("dt", { text: "Created by" }), h("dd", { class: "mono", text: event.created_by }),
      h("dt", { text: "Id" }), h("dd", { class: "mono", text: event.id }));
  }

  // rule id -> when its next attempt is due (local dashboard only: the admin API knows it)
  async function nextAttempts(eventId) {
    if (EMBED) return {};
    const result = await optional("/_emulator/rule-events?event=" + encodeURIComponent(eventId));
    const due = {};
    if (result.ok) records(result.body).forEach((r) => { if (r.next_attempt_at) due[r.rule] = r.next_attempt_at; });
    return due;
  }

  async function renderEventDetail(eventId, renderId) {
    const id = encodeURIComponent(eventId);
    const head = h("div");
    const deliveries = h("div", { id: "deliveries" });
    const actions = h("span");
    const refresh = async () => {
      const event = await api("/events/" + id);
      const due = await nextAttempts(eventId);
      const cards = await Promise.all((event.rule_events || []).map((re) => ruleEventCard(eventId, re, due[re.rule])));
      if (renderId !== state.renderId) return false;
      const moving = TERMINAL.indexOf(event.status) < 0;
      head.replaceChildren(eventHeader(event));
      deliveries.replaceChildren.apply(deliveries, cards.length ? cards : [empty("No rule matched this event.")]);
      actions.replaceChildren();
      if (can.operate() && moving) actions.appendChild(h("button", { text: "Cancel event", onclick: () => act("/events/" + id + "/cancel") }));
      reportSize();
      return { event: event, moving: moving };
    };
    const first = await refresh();
    if (!first || renderId !== state.renderId) return;
    const payloadBox = h("div", { id: "payload" });
    if (can.payload()) {
      payloadBox.appendChild(h("button", { text: "Show payload", onclick: async () => {
        try { const body = await api("/events/" + id + "/payload"); payloadBox.replaceChildren(h("pre", { text: JSON.stringify(body.payload, null, 2) })); }
        catch (err) { payloadBox.replaceChildren(h("p", { class: "muted", text: err.message })); }
        reportSize();
      } }));
    }
    setView(h("p", null, h("a", { href: "#/events", text: "← Events" })),
      h("h1", { id: "event-title", text: first.event.event }), head,
      h("div", { class: "toolbar" }, h("button", { id: "reload", onclick: () => route(), text: "Reload" }), actions),
      payloadBox, h("h2", { text: "Deliveries" }), deliveries);
    if (first.moving) poll(renderId, 0, async () => { const next = await refresh(); return Boolean(next && next.moving); });
  }

  // ------------------------------------------------------------------ local-only pages
  async function optional(url) {
    try { return { ok: true, body: await getJson(url) }; }
    catch (err) {
      if (err.status === 404 || err.status === 501 || err.status === 405) return { ok: false, status: err.status };
      throw err;
    }
  }

  function records(body) { return Array.isArray(body) ? body : (body && (body.records || body.items || body.faults || body.deliveries)) || []; }

  async function renderSessions(renderId) {
    const page = await api("/sessions?limit=200&workspace_id=" + ws());
    if (renderId !== state.renderId) return;
    const rows = page.records.map((s) => ({
      item: s, cells: [h("code", { text: s.session_id }), s.session_type, s.role,
        badge(s.status), s.is_expired ? badge("expired", "warn") : "", s.resource ? s.resource + "/" + s.resource_id : "—",
        s.external_user_id || "—", fmtTime(s.expires_at),
        s.status === "active" ? h("button", { text: "Revoke", onclick: async () => {
          try { await api("/sessions/" + encodeURIComponent(s.session_id), { method: "DELETE" }); } catch (err) { notice(err.message, true); }
          route();
        } }) : ""],
    }));
    setView(h("h1", { text: "Embed sessions" }),
      rows.length ? table(["Session", "Type", "Role", "Status", "", "Resource", "External user", "Expires", ""], rows) : empty("No embed sessions in this workspace."));
  }

  async function renderDeliveries(renderId) {
    const query = state.workspaceId ? "?workspace=" + ws() : "";
    const result = await optional("/_emulator/deliveries" + query);
    if (renderId !== state.renderId) return;
    if (!result.ok) { setView(h("h1", { text: "Delivery sinks" }), empty("This emulator does not expose delivery sinks (HTTP " + result.status + ").")); return; }
    const list = records(result.body).slice().reverse();  // newest first
    const rows = list.map((d) => ({
      item: d, cells: [fmtTime(d.created_at), h("strong", { text: d.integration_type || "—" }), d.action || "—",
        badge(d.outcome_code || "—", d.outcome_code === "delivered" ? "ok" : "bad"),
        d.event_id ? h("a", { href: "#/events/" + d.event_id, text: short(d.event_id) }) : "—",
        h("details", null, h("summary", { text: "request" }), h("pre", { text: typeof d.request === "string" ? d.request : JSON.stringify(d.request, null, 2) }))],
    }));
    setView(h("h1", { text: "Delivery sinks" }), h("p", { class: "muted", text: "What each connection sent, or would have sent, for this workspace." }),
      rows.length ? table(["Sent", "Integration", "Action", "Outcome", "Event", ""], rows) : empty("Nothing delivered yet."));
  }

  async function renderFaults(renderId) {
    const result = await optional("/_emulator/faults");
    if (renderId !== state.renderId) return;
    if (!result.ok) { setView(h("h1", { text: "Fault plan" }), empty("This emulator does not expose a fault plan (HTTP " + result.status + ").")); return; }
    const list = records(result.body);
    const rows = list.map((f) => ({
      item: f, cells: [h("code", { text: f.id }), f.kind, faultMatch(f), faultEffect(f), faultSchedule(f),
        String(f.hits || 0) + " of " + String(f.seen || 0) + (f.budget ? " (budget " + f.budget + ")" : ""), f.source || "—",
        h("button", { text: "Remove", onclick: async () => {
          try { await getJson("/_emulator/faults/" + encodeURIComponent(f.id), { method: "DELETE" }); notice(null); }
          catch (err) { notice(err.message, true); }
          route();
        } })],
    }));
    setView(h("h1", { text: "Fault plan" }),
      h("p", { class: "muted", text: "Checked in this order for every delivery attempt (delivery faults) or API request (API faults); the first that matches decides." }),
      rows.length ? table(["Fault", "Kind", "Matches", "Effect", "When", "Hits of seen", "Added by", ""], rows)
        : empty("No faults planned: deliveries and API requests behave normally."));
  }

  function pairs(obj) {
    return Object.entries(obj || {}).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v)).join(", ");
  }
  function faultMatch(f) {
    if (f.kind === "api") return pairs({ method: f.method, path: f.path }) || "every request";
    return pairs(f.match) || "every delivery";
  }
  function faultEffect(f) {
    return pairs({ outcome: f.outcome, status: f.status, retry_after: f.retry_after, message: f.message, deactivate: f.deactivate }) || "—";
  }
  function faultSchedule(f) { return typeof f.schedule === "string" ? f.schedule : pairs(f.schedule) || "always"; }

  async function renderRequests(renderId) {
    const form = h("form", { class: "inline", id: "request-filters" },
      h("label", null, "Method", h("input", { name: "method", size: "6", value: state.requestFilters.method || "" })),
      h("label", null, "Path", h("input", { name: "path", placeholder: "/api/v1/events*", value: state.requestFilters.path || "" })),
      h("label", null, "Status", h("input", { name: "status", size: "4", placeholder: "4xx", value: state.requestFilters.status || "" })),
      h("button", { type: "submit", text: "Filter" }));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const data = new FormData(form);
      state.requestFilters = { method: data.get("method"), path: data.get("path"), status: data.get("status") };
      route();
    });
    const query = Object.entries(state.requestFilters).filter(([, v]) => v).map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&");
    const result = await optional("/_emulator/requests?limit=200" + (query ? "&" + query : ""));
    if (renderId !== state.renderId) return;
    if (!result.ok) { setView(h("h1", { text: "Requests" }), empty("This emulator does not keep a request journal (HTTP " + result.status + ").")); return; }
    const list = records(result.body).slice().reverse();  // newest first
    const rows = list.map((r) => ({
      item: r, cells: [fmtTime(r.at), h("strong", { text: r.method }), h("code", { text: r.path + (r.query ? "?" + r.query : "") }),
        badge(String(r.status), r.status < 400 ? "ok" : "bad"), r.duration_ms + " ms",
        r.principal ? r.principal.kind + " " + r.principal.key : "anonymous",
        r.error || "",
        r.body === null ? "" : h("details", null, h("summary", { text: "body" }), h("pre", { text: typeof r.body === "string" ? r.body : JSON.stringify(r.body, null, 2) }))],
    }));
    const note = result.body.enabled ? "The last " + result.body.capacity + " requests your code sent to the emulator (not the admin API), newest first; secrets in bodies are masked."
      : "The request journal is off (serve --request-journal 0).";
    setView(h("h1", { text: "Requests" }), h("p", { class: "muted", text: note }), form,
      rows.length ? table(["Received", "Method", "Path", "Status", "Took", "Caller", "Error", ""], rows) : empty("No request matches."));
  }

  async function refreshClockLabel() {
    try {
      const clock = await getJson("/_emulator/clock");
      const el = document.getElementById("clock-now");
      if (el) el.textContent = "clock " + clock.mode + " · " + fmtTime(clock.now);
      return clock;
    } catch (err) { return null; }
  }

  async function renderClock(renderId) {
    const clock = await getJson("/_emulator/clock");
    if (renderId !== state.renderId) return;
    const parts = [h("h1", { text: "Clock" }), h("dl", { class: "kv" },
      h("dt", { text: "Mode" }), h("dd", { id: "clock-mode", text: clock.mode }),
      h("dt", { text: "Now" }), h("dd", { id: "clock-value", class: "mono", text: clock.now }))];
    if (clock.mode === "manual") {
      const form = h("form", { class: "inline", id: "advance-clock" },
        h("label", null, "Advance by (seconds)", h("input", { name: "seconds", type: "number", min: "1", value: "60" })),
        h("button", { class: "primary", type: "submit", text: "Advance" }));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const seconds = Number(new FormData(form).get("seconds") || 0);
        const next = new Date(Date.parse(clock.now) + seconds * 1000).toISOString();
        try { await getJson("/_emulator/clock", { method: "POST", body: { now: next } }); notice(null); }
        catch (err) { notice(err.message, true); }
        route();
      });
      parts.push(form, h("p", { class: "muted", text: "Moving the clock runs the deliveries and retries that become due." }));
    } else {
      parts.push(h("p", { class: "muted", text: "The system clock follows real time; start with --clock manual to move it by hand." }));
    }
    setView(parts);
  }

  // ------------------------------------------------------------------ start
  async function startLocal() {
    try {
      const creds = await getJson("/_emulator/credentials");
      // keep ids and names only: keys stay out of the page state
      state.orgs = creds.organizations.map((o) => ({ org_id: o.org_id, name: o.name, workspaces: o.workspaces.map((w) => ({ id: w.id, name: w.name })) }));
      pickWorkspace();
    } catch (err) {
      notice("Cannot read the emulator's organizations: " + err.message, true);
    }
    state.started = true;
    route();
  }

  window.addEventListener("hashchange", () => { if (state.started) route(); });
  if (EMBED) {
    if (!location.hash && CONFIG.page) history.replaceState(null, "", location.pathname + "#/" + CONFIG.page);
    else history.replaceState(null, "", location.pathname + location.hash);  // drop ?launch=
    window.addEventListener("message", onMessage);
    if ("ResizeObserver" in window) new ResizeObserver(reportSize).observe(document.getElementById("app"));
    renderTopbar();
    setView(h("p", { class: "muted", id: "waiting", text: "Waiting for the host application to authenticate this session…" }));
    postToHost({ type: "meshes:ready" });
  } else {
    startLocal();
  }
})();
