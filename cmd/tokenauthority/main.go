// Command tokenauthority serves the token authority over gRPC and REST.
//
// With no arguments it serves on 127.0.0.1:50051 (gRPC) and 127.0.0.1:8080
// (HTTP) with an embedded store in ./data. Every flag can also be set by an
// environment variable: --data-dir is TOKENAUTHORITY_DATA_DIR. Run with -h
// for the list, --version for the build.
//
// "tokenauthority restore --from FILE --data-dir DIR" installs a snapshot
// taken by "tokenctl backup" or GET /v1/admin/backup into an empty data
// directory.
//
// "tokenauthority keys" rotates the master key (run "tokenauthority keys help").
//
// Traces are exported when the standard OTEL_* environment names a
// collector (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER); see
// docs/observability.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"tokenauthority/buildinfo"
	"tokenauthority/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokenauthority:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	if len(os.Args) > 1 && os.Args[1] == "restore" {
		return daemon.Restore(os.Args[2:], os.Getenv, os.Stderr)
	}
	if len(os.Args) > 1 && os.Args[1] == "keys" {
		return daemon.RunKeys(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr)
	}
	cfg, err := daemon.ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	if cfg.Version {
		_, err := fmt.Println("tokenauthority", buildinfo.Read())
		return err
	}
	log := cfg.NewLogger(os.Stderr)
	d, err := daemon.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	d.TuneGC(os.Getenv("GOGC"))
	werr := d.Wait(ctx)
	if werr == nil {
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(werr, d.Shutdown(sctx))
}
