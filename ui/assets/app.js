// The Workspace Tokens page. Data from the server is written with
// textContent only; the only place a secret enters the page is the one-time
// "new token" box, and it is cleared when the dialog closes.
import * as api from "./api.js";
import { el, expiresText, dateText, stateText, isInactive } from "./view.js";
import { checkRequest, whereText } from "./sdk.js";

const $ = (id) => document.getElementById(id);

const state = {
  mode: "operator", // or "member"
  user: "",         // the member's user id in member mode
  workspace: "",
  tokens: [],
  seed: "",         // the SDK's seed on /create_token, kept in memory only
  message: "",
  where: null,      // {lines, warning}: who waits for the seed
  watch: 0,         // the timer that asks who waits
  shown: "",        // the where-text last written
  deleting: null,   // the token the delete dialog is about
};

// The SDK's link carries the seed in its query; read it, then drop it from
// the address bar and the history. A link that breaks the rules offers no
// Generate at all.
function readSDKRequest() {
  if (location.pathname !== "/create_token") return true;
  const req = checkRequest(location.search);
  history.replaceState(null, "", "/create_token");
  if (req.error) {
    $("link-refused").hidden = false;
    $("link-error").textContent = `This page creates tokens for a program that asks for one, but ${req.error}, so no token can be made from it.`;
    return false;
  }
  state.seed = req.seed;
  state.message = req.message;
  if (!state.seed) return true;
  $("sdk-banner").hidden = false;
  $("sdk-message-box").hidden = !state.message;
  $("sdk-message").textContent = state.message;
  $("sdk-where").textContent = "Checking whether a program is waiting for this token…";
  return true;
}

// watchPollers asks the server, now and every two seconds until the token
// is made, who polls the seed, and shows it on the page and in the dialog.
async function watchPollers() {
  clearTimeout(state.watch);
  if (!state.seed) return;
  try {
    const r = await api.seedPollers(state.seed);
    state.where = whereText(r.poller_addresses || [], r.client_address || "");
  } catch (e) {
    state.where = { lines: [["Who waits for this token is unknown: " + e.detail, true]], warning: "The server could not say where this token would go. Do not generate it unless you started token create yourself." };
  }
  showWhere();
  if (state.seed) {
    clearTimeout(state.watch);
    state.watch = setTimeout(watchPollers, 2000);
  }
}

// showWhere writes state.where into the banner and the dialog, only when it
// changed: the banner is a live region, read out on every change.
function showWhere() {
  const w = state.where;
  if (!w) return;
  const key = JSON.stringify(w);
  if (key === state.shown && $("generate-where").childElementCount) return;
  state.shown = key;
  for (const [box, warn] of [["sdk-where", "sdk-warning"], ["generate-where", "generate-warning"]]) {
    $(box).replaceChildren(...w.lines.map(([text, strong]) => el("p", {}, strong ? el("strong", {}, text) : text)));
    $(warn).hidden = !w.warning;
    $(warn).textContent = w.warning ? "Warning: " + w.warning : "";
  }
}

async function start() {
  if (!readSDKRequest()) {
    $("loading").hidden = true;
    return;
  }
  wire();
  try {
    const s = await api.session();
    state.mode = s.mode;
    state.user = s.user || "";
  } catch (e) {
    $("loading").textContent = "The page could not reach the server: " + e.detail;
    return;
  }
  $("loading").hidden = true;
  if (state.mode === "member") {
    api.forgetCredential();
    $("who").hidden = false;
    $("who-text").textContent = "Signed in as " + state.user;
    $("member-field").hidden = true;
    await showTokens();
  } else if (api.credential()) {
    await showTokens();
  } else {
    showSignIn();
  }
}

function showSignIn(message = "") {
  $("tokens").hidden = true;
  $("who").hidden = true;
  $("sign-in").hidden = false;
  $("credential-error").textContent = message;
  $("credential").focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const value = $("credential").value.trim();
  if (!value) {
    $("credential-error").textContent = "Enter a service credential.";
    return;
  }
  api.setCredential(value);
  $("credential").value = "";
  await showTokens();
}

function signOut() {
  api.forgetCredential();
  state.tokens = [];
  $("token-rows").replaceChildren();
  showSignIn();
}

// showTokens loads the workspaces and the tokens of the chosen one. An
// unauthenticated answer sends an operator back to sign in.
async function showTokens() {
  let workspaces;
  try {
    workspaces = await api.listWorkspaces();
  } catch (e) {
    if (state.mode === "operator" && (e.status === 401 || e.status === 403)) {
      api.forgetCredential();
      showSignIn(e.detail);
      return;
    }
    $("sign-in").hidden = true;
    $("tokens").hidden = false;
    $("page-error").textContent = e.detail;
    watchPollers();
    return;
  }
  $("sign-in").hidden = true;
  $("tokens").hidden = false;
  if (state.mode === "operator") {
    $("who").hidden = false;
    $("who-text").textContent = "Operator";
    $("sign-out").hidden = false;
  }
  const select = $("workspace");
  select.replaceChildren(...workspaces.map((w) =>
    el("option", { value: w.workspace_id }, w.display_name ? `${w.display_name} (${w.workspace_id})` : w.workspace_id)));
  if (!workspaces.some((w) => w.workspace_id === state.workspace)) {
    state.workspace = workspaces.length ? workspaces[0].workspace_id : "";
  }
  select.value = state.workspace;
  $("generate").disabled = !state.workspace;
  await loadTokens();
  // The dialog never opens by itself: the member reads where the token
  // would go first.
  watchPollers();
}

async function loadTokens() {
  $("page-error").textContent = "";
  if (!state.workspace) {
    state.tokens = [];
    render();
    return;
  }
  try {
    state.tokens = await api.listTokens(state.workspace, $("show-inactive").checked);
  } catch (e) {
    state.tokens = [];
    $("page-error").textContent = e.detail;
  }
  render();
}

function render() {
  const showInactive = $("show-inactive").checked;
  const tokens = state.tokens.filter((t) => showInactive || !isInactive(t));
  // The column appears once the server reports when tokens were last used.
  const lastUsed = state.tokens.some((t) => "last_used_time" in t);
  $("last-used-head").hidden = !lastUsed;
  const empty = $("empty");
  if (!state.workspace) {
    empty.textContent = state.mode === "member"
      ? "You are not a member of any workspace yet. Ask a workspace owner to add you."
      : "There are no workspaces yet. Create one with tokenctl or the API first.";
  } else {
    empty.textContent = showInactive
      ? "This workspace has no tokens. Use Generate Workspace Token to create one."
      : "No active tokens. Use Generate Workspace Token to create one, or turn on Show inactive.";
  }
  empty.hidden = tokens.length > 0;
  $("token-table").hidden = tokens.length === 0;
  $("token-rows").replaceChildren(...tokens.map((t) => row(t, lastUsed)));
}

function row(t, lastUsed) {
  const inactive = isInactive(t);
  const descId = "desc-" + t.token_id;
  const status = el("span", { class: "copied", role: "status" });
  const cells = [
    el("td", { id: descId }, t.description || "—",
      t.created_for_seed ? el("span", { class: "badge" }, "Sent to a program") : ""),
    el("td", {}, el("code", { class: "masked" }, t.masked_key)),
    el("td", {}, t.user_id),
    el("td", {}, dateText(t.create_time)),
    el("td", {}, expiresText(t.effective_expire_time || t.expire_time),
      t.effective_expire_time && t.effective_expire_time !== t.expire_time ? el("span", { class: "hint block" }, "by workspace policy") : ""),
  ];
  if (lastUsed) cells.push(el("td", {}, t.last_used_time ? dateText(t.last_used_time) : "Never"));
  cells.push(el("td", {}, el("span", { class: "state " + (inactive ? "inactive" : "active") }, stateText(t))));
  const actions = el("div", { class: "row-actions" });
  if (!inactive) {
    const copy = el("button", { type: "button", class: "secondary", "aria-describedby": descId }, "Copy");
    copy.addEventListener("click", () => copyToken(t, status));
    const del = el("button", { type: "button", class: "danger-outline", "aria-describedby": descId }, "Delete");
    del.addEventListener("click", () => openDelete(t));
    actions.append(copy, del, status);
  }
  cells.push(el("td", {}, actions));
  return el("tr", { "data-token-id": t.token_id, class: inactive ? "inactive" : "" }, ...cells);
}

// copyToken fetches the secret and hands it to the clipboard; it never
// reaches the DOM.
async function copyToken(t, status) {
  status.textContent = "";
  status.classList.remove("failed");
  try {
    const { secret } = await api.revealToken(t.workspace_id, t.token_id);
    await navigator.clipboard.writeText(secret);
    status.textContent = "Copied";
  } catch (e) {
    status.classList.add("failed");
    status.textContent = "Not copied: " + (e.detail || e.message);
  }
  setTimeout(() => { if (status.textContent === "Copied") status.textContent = ""; }, 4000);
}

// --- Generate ---

async function openGenerate() {
  const form = $("generate-form");
  form.reset();
  form.hidden = false;
  $("generated").hidden = true;
  clearErrors();
  $("custom-date-field").hidden = true;
  $("description-count").textContent = "0 / 256";
  $("generate-workspace").textContent = "Workspace " + state.workspace;
  $("generate-sdk").hidden = !state.seed;
  $("sdk-confirm").checked = false;
  $("generate-submit").disabled = !!state.seed;
  showWhere();
  if (state.mode === "operator") {
    try {
      const members = await api.listMembers(state.workspace);
      $("member-list").replaceChildren(...members.map((m) => el("option", { value: m.user_id })));
    } catch {
      $("member-list").replaceChildren();
    }
  }
  const dlg = $("generate-dialog");
  if (!dlg.open) dlg.showModal();
  $("description").focus();
}

function clearErrors() {
  for (const id of ["description-error", "expiration-error", "member-error", "generate-error"]) $(id).textContent = "";
  for (const id of ["description", "expiration", "expiration-date", "member"]) $(id).removeAttribute("aria-invalid");
}

function fieldError(field, message) {
  const map = {
    description: ["description", "description-error"],
    expire_time: ["expiration", "expiration-error"],
    user_id: ["member", "member-error"],
  };
  const [input, out] = map[field] || [null, "generate-error"];
  $(out).textContent = message;
  if (input) {
    $(input).setAttribute("aria-invalid", "true");
    if (input === "expiration" && !$("custom-date-field").hidden) $("expiration-date").setAttribute("aria-invalid", "true");
  }
}

// expireTime turns the Expiration choice into an RFC 3339 time, null for
// no expiration, or undefined when a custom date is missing.
function expireTime() {
  const choice = $("expiration").value;
  if (choice === "never") return null;
  if (choice === "custom") {
    const v = $("expiration-date").value;
    if (!v) return undefined;
    return new Date(v + "T00:00:00").toISOString();
  }
  return new Date(Date.now() + Number(choice) * 86400000).toISOString();
}

async function generate(ev) {
  ev.preventDefault();
  clearErrors();
  const description = $("description").value.trim();
  const user = state.mode === "member" ? state.user : $("member").value.trim();
  let ok = true;
  if (!description) { fieldError("description", "Enter a description, so you can recognise the token later."); ok = false; }
  if (!user) { fieldError("user_id", "Choose the member the token is for."); ok = false; }
  const exp = expireTime();
  if (exp === undefined) { fieldError("expire_time", "Choose a date."); ok = false; }
  if (!ok) return;
  const req = { user_id: user, description };
  if (exp) req.expire_time = exp;
  if (state.seed) {
    if (!$("sdk-confirm").checked) {
      fieldError("", "Tick “I started this request myself” first, or close this page if you did not.");
      return;
    }
    req.seed = state.seed;
  }
  $("generate-submit").disabled = true;
  let resp;
  try {
    resp = await api.createToken(state.workspace, req);
  } catch (e) {
    showCreateError(e);
    return;
  } finally {
    $("generate-submit").disabled = !!state.seed && !$("sdk-confirm").checked;
  }
  $("generate-form").hidden = true;
  $("generated").hidden = false;
  if (state.seed) {
    // The SDK picks the secret up by the seed; the page need not show it.
    state.seed = "";
    clearTimeout(state.watch);
    $("generated-title").textContent = "Token created";
    $("generated-secret-box").hidden = true;
    const note = $("generated-sdk");
    note.hidden = false;
    note.textContent = "The program that asked for it picks the token up by itself. You can close this page.";
    $("sdk-banner").hidden = true;
  } else {
    $("generated-title").textContent = "Your new token";
    $("generated-secret-box").hidden = false;
    $("generated-sdk").hidden = true;
    $("new-secret").textContent = resp.secret;
  }
  $("copy-new-status").textContent = "";
  $("generated-done").focus();
  await loadTokens();
}

function showCreateError(e) {
  const fields = Object.entries(e.fields || {});
  if (fields.length) {
    for (const [field, description] of fields) fieldError(field, description);
    return;
  }
  const m = /^(description|expire_time|user_id): (.*)$/s.exec(e.detail);
  if (m) { fieldError(m[1], m[2]); return; }
  if (/not a member/.test(e.detail)) { fieldError("user_id", e.detail); return; }
  fieldError("", e.detail);
}

function closeGenerate() {
  $("new-secret").textContent = "";
  $("generate-dialog").close();
}

// --- Delete ---

function openDelete(t) {
  state.deleting = t;
  $("delete-text").textContent =
    `“${t.description || "(no description)"}” (${t.masked_key}) stops working immediately: every program using it is refused.`;
  $("delete-error").textContent = "";
  $("delete-dialog").showModal();
  $("delete-cancel").focus();
}

async function confirmDelete() {
  const t = state.deleting;
  if (!t) return;
  $("delete-confirm").disabled = true;
  try {
    await api.revokeToken(t.workspace_id, t.token_id);
  } catch (e) {
    $("delete-error").textContent = e.detail;
    return;
  } finally {
    $("delete-confirm").disabled = false;
  }
  state.deleting = null;
  $("delete-dialog").close();
  await loadTokens();
}

function wire() {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("workspace").addEventListener("change", (e) => { state.workspace = e.target.value; loadTokens(); });
  $("show-inactive").addEventListener("change", loadTokens);
  $("generate").addEventListener("click", openGenerate);
  $("sdk-confirm").addEventListener("change", (e) => {
    $("generate-submit").disabled = !e.target.checked;
  });
  $("generate-form").addEventListener("submit", generate);
  $("generate-cancel").addEventListener("click", closeGenerate);
  $("generated-done").addEventListener("click", closeGenerate);
  $("generate-dialog").addEventListener("close", () => { $("new-secret").textContent = ""; });
  $("description").addEventListener("input", (e) => {
    $("description-count").textContent = `${e.target.value.length} / 256`;
  });
  $("expiration").addEventListener("change", (e) => {
    $("custom-date-field").hidden = e.target.value !== "custom";
  });
  $("copy-new").addEventListener("click", async () => {
    const status = $("copy-new-status");
    try {
      await navigator.clipboard.writeText($("new-secret").textContent);
      status.textContent = "Copied";
    } catch (e) {
      status.textContent = "Not copied: " + e.message;
    }
  });
  $("delete-cancel").addEventListener("click", () => { state.deleting = null; $("delete-dialog").close(); });
  $("delete-confirm").addEventListener("click", confirmDelete);
}

start();
