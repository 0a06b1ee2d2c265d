// Package cli is tokenctl, the operator's command-line tool: cobra commands
// that call the token authority's gRPC API through the generated clients and
// print the answers as aligned tables for people or as proto JSON/YAML for
// scripts.
//
// Each command lives in its own small file and uses the shared pieces, one
// place each: conn.go (address, credential, TLS, dialing), tlsprobe.go
// (which TLS mismatch a failed connection was), output.go and table.go
// (printing), confirm.go (asking before destructive changes), secret.go
// (reading a token without putting it on the command line) and exit.go (the
// exit code of every class of error). Run is the whole program; main only
// passes it the process's environment.
//
// Adding a command is one file, <group>_<verb>.go, holding a method of app
// that returns the *cobra.Command, plus its line in the group's constructor
// (token.go, zoo.go, ...). A command gets its client from a.tokens(),
// a.workspaces() or a.self(), bounds each call with a.ctx or a.call, prints
// through a.show(view{...}) so that -o json, yaml, name and table all work,
// and asks a.confirm before destroying anything. A new command group is one
// line in rootCmd (app.go). TestEveryRPCHasACommand fails until every RPC of
// the API has a command.
//
// How it can hurt you: commands that print a secret (token create, token copy,
// token roll, token refresh) write it to stdout, which may be a terminal
// recording or a log. A token given as an argument is visible in ps and shell history; use
// "-" (stdin) or TOKENAUTHORITY_TOKEN instead. Without a terminal, a
// destructive command refuses to run unless --yes is given, so a script that
// passes --yes has no second chance. A backup holds every token's hash and
// sealed secret: keep the file as safe as the server's data directory, and
// remember that "backup -" puts all of it on stdout. When a connection
// fails, tokenctl dials once more to tell TLS problems apart; that probe of a
// server it may not trust sends a TLS ClientHello and nothing else.
package cli
