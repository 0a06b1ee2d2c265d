package client

// Unauthenticated exposes the reason split for the external tests.
var Unauthenticated = unauthenticated
