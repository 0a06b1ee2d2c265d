// Small pure helpers that turn API values into text and elements.

// el makes an element with attributes and children (strings become text
// nodes, never HTML).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== "") e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

const day = 86400000;

export function dateText(ts) {
  if (!ts) return "—";
  const d = new Date(ts);
  if (isNaN(d)) return "—";
  return d.toISOString().slice(0, 10);
}

// expiresText says when a token expires: its date and how far away it is.
export function expiresText(ts, now = Date.now()) {
  if (!ts || ts.startsWith("0001-01-01")) return "Never";
  const t = new Date(ts).getTime();
  if (t <= now) return `${dateText(ts)} (expired)`;
  const days = Math.round((t - now) / day);
  const rel = days === 0 ? "today" : days === 1 ? "in 1 day" : `in ${days} days`;
  return `${dateText(ts)} (${rel})`;
}

// isInactive: revoked and expired tokens hide behind "Show inactive".
export function isInactive(t) {
  return t.state === "TOKEN_STATE_REVOKED" || t.state === "TOKEN_STATE_EXPIRED";
}

export function stateText(t) {
  switch (t.state) {
    case "TOKEN_STATE_ACTIVE": return "Active";
    case "TOKEN_STATE_EXPIRED": return "Expired";
    case "TOKEN_STATE_REVOKED": return "Revoked";
    case "TOKEN_STATE_DISABLED": return "Disabled";
  }
  return t.state ? t.state.replace(/^TOKEN_STATE_/, "").toLowerCase() : "—";
}
