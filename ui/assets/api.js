// The REST API of this server, as the page uses it. In operator mode every
// request carries the service credential from sessionStorage; in member mode
// the single sign-on proxy in front of the server says who is asking.

const credentialKey = "tokenauthority.credential";

export function credential() {
  return sessionStorage.getItem(credentialKey) || "";
}

export function setCredential(value) {
  sessionStorage.setItem(credentialKey, value);
}

export function forgetCredential() {
  sessionStorage.removeItem(credentialKey);
}

// ApiError is a failed request: status is the HTTP status, detail the
// server's sentence for people, fields the BadRequest field violations
// (field name to description).
export class ApiError extends Error {
  constructor(status, detail, fields, code) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.fields = fields;
    this.code = code;
  }
}

async function call(method, path, body) {
  const headers = { "Accept": "application/json" };
  const cred = credential();
  if (cred) headers["Authorization"] = "Bearer " + cred;
  // Every request that changes something says it is JSON, even without a
  // body: the server refuses anything else from a signed-in member, since
  // another site's form could send it.
  if (method !== "GET") headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "The server could not be reached: " + e.message, {}, 0);
  }
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const fields = {};
    for (const d of (data && data.details) || []) {
      for (const v of d.field_violations || d.fieldViolations || []) {
        fields[v.field] = v.description;
      }
    }
    const detail = (data && (data.detail || data.message)) || `The server answered ${resp.status}.`;
    throw new ApiError(resp.status, detail, fields, data && data.code);
  }
  return data;
}

const enc = encodeURIComponent;

// all follows next_page_token until the last page.
async function all(path, key, params = {}) {
  const out = [];
  let pageToken = "";
  for (let i = 0; i < 100; i++) {
    const q = new URLSearchParams({ ...params, page_size: "1000" });
    if (pageToken) q.set("page_token", pageToken);
    const data = await call("GET", `${path}?${q}`);
    out.push(...(data[key] || []));
    pageToken = data.next_page_token || "";
    if (!pageToken) break;
  }
  return out;
}

export const session = () => call("GET", "/ui/session");
export const listWorkspaces = () => all("/v1/workspaces", "workspaces");
export const listMembers = (ws) => all(`/v1/workspaces/${enc(ws)}/members`, "members");
export const listTokens = (ws, showRevoked) =>
  all(`/v1/workspaces/${enc(ws)}/tokens`, "tokens", showRevoked ? { show_revoked: "true" } : {});
export const createToken = (ws, req) => call("POST", `/v1/workspaces/${enc(ws)}/tokens`, req);
export const revealToken = (ws, id) => call("POST", `/v1/workspaces/${enc(ws)}/tokens/${enc(id)}:reveal`, {});
export const revokeToken = (ws, id) => call("DELETE", `/v1/workspaces/${enc(ws)}/tokens/${enc(id)}`);
export const seedPollers = (seed) => call("POST", "/v1/tokens-seed:pollers", { seed });
