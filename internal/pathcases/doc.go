// Package pathcases holds the request targets that the gateway path check
// is tested with, shared by the unit tests of package authz (the path
// check, /v1/authz and Envoy's Check, the naive-server fuzz target) and the
// end-to-end tests that put nginx and Caddy in front of a naive file
// server.
//
// How it can hurt you: a trick missing here is tested nowhere; add every
// new one to Attacks, and every path the hub SDK really sends to Plain.
package pathcases
