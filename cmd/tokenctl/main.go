// Command tokenctl is the operator's command-line tool for a tokenauthority
// server: workspaces, members, model zoos and tokens over gRPC. Run
// "tokenctl --help" for the commands and "tokenctl completion --help" for
// shell completion.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"tokenauthority/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.OSEnv())
	stop()
	os.Exit(code)
}
