// Command httpbare is the HTTP baseline of the load harness: a bare net/http
// server whose one handler decodes a JSON body and answers with a JSON object
// of the shape of the validate response, using encoding/json. What the token
// authority's REST facade costs per call beyond this is the facade's and the
// service's own work.
//
// It listens on 127.0.0.1:0, prints {"addr": "..."} on stdout once bound,
// and serves until SIGINT or SIGTERM.
//
// # How it can hurt you
//
// It answers "valid" for any body with a non-empty secret; it validates
// nothing. Never bind it beyond loopback.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// token and validateResponse have the fields of the service's
// ValidateTokenResponse as the REST facade writes it.
type token struct {
	TokenID     string   `json:"token_id"`
	WorkspaceID string   `json:"workspace_id"`
	UserID      string   `json:"user_id"`
	Description string   `json:"description"`
	MaskedKey   string   `json:"masked_key"`
	CreateTime  string   `json:"create_time"`
	ExpireTime  *string  `json:"expire_time"`
	RevokeTime  *string  `json:"revoke_time"`
	State       string   `json:"state"`
	ReplacedBy  string   `json:"replaced_by"`
	LastUsed    *string  `json:"last_used_time"`
	Operations  []string `json:"operations"`
	Zoos        []string `json:"zoos"`
}

type validateResponse struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason"`
	Token  token  `json:"token"`
}

func validate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Secret string `json:"secret"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil || req.Secret == "" {
		http.Error(w, `{"code":3,"message":"bad request"}`, http.StatusBadRequest)
		return
	}
	resp := validateResponse{
		Valid:  true,
		Reason: "REASON_VALID",
		Token: token{
			TokenID:     "01kb0m9ezq4v6c2d8f1g3h5j7k",
			WorkspaceID: "bench",
			UserID:      "ann",
			Description: "benchmark token",
			MaskedKey:   "tka_..." + req.Secret[len(req.Secret)-4:],
			CreateTime:  "2026-11-27T09:00:00Z",
			State:       "TOKEN_STATE_ACTIVE",
			Operations:  []string{},
			Zoos:        []string{},
		},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "httpbare:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tokens:validate", validate)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"addr": lis.Addr().String()}); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return srv.Close()
	}
}
