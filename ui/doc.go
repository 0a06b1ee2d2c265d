// Package ui serves the Workspace Tokens page: the web page through which
// people generate, copy and delete workspace tokens, and the /create_token
// page the hub SDK's "token create" command opens in a browser.
//
// The page is plain HTML, CSS and JavaScript modules embedded in the binary;
// it talks to the REST API of the same origin, so every rule it is subject
// to (who may see which token) lives in the server's authorization table and
// applies to any other REST client alike. The handlers here only serve files
// and say who the request is signed in as.
//
// How it can hurt you: the page handles secrets. A script injected into it
// could read every token the signed-in person may copy, so the page sends a
// Content-Security-Policy that allows only its own scripts, and its code
// writes data with textContent, never as HTML. The operator's service
// credential sits in the tab's sessionStorage: anyone with that browser
// profile open can use it until Sign out or the tab closes. In member mode
// the proxy's login cookie is the credential; the REST facade refuses
// requests other sites make a browser send (Sec-Fetch-Site over HTTPS; JSON
// and Origin everywhere, so the page sends JSON on every call that changes
// something), but a proxy that does not overwrite the user header lets anyone
// be anyone. /create_token is a link anyone can send: a member who generates
// a token on someone else's link hands it to them. The page never opens the
// dialog by itself, shows who polls the seed (GetSeedPollers) and the
// browser's own address, needs "I started this request myself", and shows
// the link's message only as a bidi-isolated quotation; CheckLink (link.go)
// and sdk.js refuse control and text-direction characters, long messages and
// malformed seeds. Change one, change the other: TestSDKLinkInBrowser holds
// both to the same table.
package ui
