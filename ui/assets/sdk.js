// The SDK's /create_token link: what it asks for, whether it may be used,
// and who will receive the token. Anyone can craft such a link and send it
// to a member (RFC 8628 section 5.4), so the page checks it as the server
// does (ui/link.go), shows the requester's message only as a quotation, and
// says where the token will go.

// The same limits as ui/link.go.
export const maxMessage = 200;
const seedShape = /^[A-Za-z0-9_-]{32,256}$/;
// C0 and C1 controls, DEL, and the characters that change the direction
// of the text around them.
const refused = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

// checkRequest reads a /create_token query. It returns {seed, message}
// (both "" for the plain page) or {error} with the sentence to show.
export function checkRequest(search) {
  const q = new URLSearchParams(search);
  if (q.getAll("seed").length > 1 || q.getAll("message").length > 1) {
    return { error: "the link names its seed or message twice" };
  }
  const seed = q.get("seed") || "";
  const message = q.get("message") || "";
  if (!seed) {
    return message ? { error: "the link has a message but no seed" } : { seed: "", message: "" };
  }
  if (!seedShape.test(seed)) return { error: "the link's seed is not one a program could have made" };
  if ([...message].length > maxMessage) return { error: "the link's message is longer than 200 characters" };
  if (refused.test(message)) return { error: "the link's message holds control or text-direction characters" };
  return { seed, message };
}

// whereText describes who waits for the seed: {lines, warning}, where
// lines are [text, strong] pairs and warning is "" when all is as expected:
// one program, at the browser's own address.
export function whereText(pollers, you) {
  const lines = [];
  let warning = "";
  if (!pollers.length) {
    lines.push(["No program is waiting for this token.", true]);
    warning = "Nothing has asked this server for the token in the last minute. If you did not just start token create yourself, do not generate it: someone may have sent you this link to get a token in your name.";
  } else {
    lines.push([`This token will be sent to the program waiting at ${pollers.join(", ")}.`, false]);
    if (pollers.length > 1) {
      warning = "More than one address is waiting for this token. Only one of them can be yours: do not generate it unless you know every one.";
    } else if (pollers[0] !== you) {
      warning = "The program waiting for this token is at a different address than this browser. Generate it only if you started token create on that machine yourself; a link from someone else would give them a token in your name.";
    }
  }
  lines.push([`Your browser’s address, as the server sees it: ${you || "unknown"}.`, false]);
  return { lines, warning };
}
