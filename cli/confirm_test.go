package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"tokenauthority/cli"
)

// confirmFixture is a server with acme, alice, a zoo and one token of alice.
func confirmFixture(t *testing.T) (s *server, id string) {
	t.Helper()
	s = startServer(t, nil)
	s.run(t, "workspace", "create", "acme", "--name", "Acme").ok(t, "workspace create")
	s.run(t, "member", "add", "acme", "alice").ok(t, "member add")
	s.run(t, "zoo", "create", "acme/detectors", "--visibility", "private").ok(t, "zoo create")
	created := s.run(t, "token", "create", "-w", "acme", "-u", "alice", "-d", "laptop", "--expires", "30d", "-o", "json").json(t, "token create")
	return s, created["token"].(map[string]any)["token_id"].(string)
}

// runOnTerminal runs tokenctl with a pseudo-terminal as stdin and stderr,
// waits for the confirmation question, answers it, and returns the question
// and the result.
// An answer of "^C" cancels the run's context instead, as Ctrl-C does.
func runOnTerminal(t *testing.T, s *server, answer string, args ...string) (string, result) {
	t.Helper()
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()

	var stdout bytes.Buffer
	env := map[string]string{cli.EnvAddr: s.addr, cli.EnvCredential: s.admin}
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, cli.Env{
			Args: args, Stdin: tty, Stdout: &stdout, Stderr: tty,
			Getenv: func(k string) string { return env[k] },
		})
	}()

	// Read the terminal until the question ends with its [y/N].
	questions := make(chan string, 1)
	go func() {
		r := bufio.NewReader(ptmx)
		var seen strings.Builder
		for {
			b, err := r.ReadByte()
			if err != nil {
				questions <- seen.String()
				return
			}
			seen.WriteByte(b)
			if strings.HasSuffix(seen.String(), "[y/N] ") {
				questions <- seen.String()
				io.Copy(io.Discard, r)
				return
			}
		}
	}()
	var question string
	select {
	case question = <-questions:
	case <-time.After(20 * time.Second):
		t.Fatal("no confirmation question on the terminal within 20s")
	}
	if answer == "^C" {
		interrupt()
	} else if _, err := io.WriteString(ptmx, answer+"\n"); err != nil {
		t.Fatalf("answer on the pty: %v", err)
	}
	select {
	case code := <-done:
		tty.Close()
		return question, result{stdout: stdout.String(), code: code}
	case <-time.After(20 * time.Second):
		t.Fatal("tokenctl did not finish within 20s of the answer")
		return "", result{}
	}
}

func TestConfirmOnTerminal(t *testing.T) {
	t.Parallel()
	s, id := confirmFixture(t)

	tests := []struct {
		name         string
		args         []string
		wantQuestion string
		stillThere   []string // a command that succeeds only if nothing changed
	}{
		{"token revoke", []string{"token", "revoke", "-w", "acme", id},
			"Revoke token tka_...", []string{"token", "show", "-w", "acme", id}},
		{"member remove", []string{"member", "remove", "acme", "alice"},
			"Remove alice from acme? Their 1 active token in acme is revoked immediately.", []string{"member", "get", "acme", "alice"}},
		{"zoo delete", []string{"zoo", "delete", "acme/detectors"},
			"Delete private zoo acme/detectors?", []string{"zoo", "get", "acme/detectors"}},
		{"workspace delete", []string{"workspace", "delete", "acme", "--force"},
			`Delete workspace acme 'Acme' with 1 member, 1 zoo and 1 token (1 active)? Its tokens stop working immediately.`, []string{"workspace", "get", "acme"}},
	}
	for _, tt := range tests {
		// Declining changes nothing and exits ExitNotConfirmed.
		q, r := runOnTerminal(t, s, "n", tt.args...)
		if !strings.Contains(q, tt.wantQuestion) {
			t.Errorf("%s: question %q; want it to contain %q", tt.name, q, tt.wantQuestion)
		}
		if r.code != cli.ExitNotConfirmed {
			t.Errorf("%s answered n: exit %d; want %d", tt.name, r.code, cli.ExitNotConfirmed)
		}
		s.run(t, tt.stillThere...).ok(t, tt.name+" declined, then "+strings.Join(tt.stillThere, " "))
	}
	// Ctrl-C at the prompt ends the run without waiting for Enter.
	if _, r := runOnTerminal(t, s, "^C", tests[0].args...); r.code != cli.ExitNotConfirmed {
		t.Errorf("interrupted at the prompt: exit %d; want %d", r.code, cli.ExitNotConfirmed)
	}
	if !strings.Contains(tests[0].wantQuestion, "tka_") {
		t.Fatal("the revoke question must name the masked key")
	}
	q, _ := runOnTerminal(t, s, "n", "token", "revoke", "-w", "acme", id)
	if !strings.Contains(q, "'laptop' of alice in acme? It stops working immediately.") {
		t.Errorf("revoke question = %q; want the description, user and workspace", q)
	}

	// Answering y goes ahead, in the order a person would.
	for _, tt := range tests {
		if _, r := runOnTerminal(t, s, "y", tt.args...); r.code != 0 {
			t.Fatalf("%s answered y: exit %d, stdout %q", tt.name, r.code, r.stdout)
		}
		if r := s.run(t, tt.stillThere...); tt.name != "token revoke" && r.code != cli.ExitNotFound {
			t.Errorf("%s confirmed, then %v: exit %d; want not found", tt.name, tt.stillThere, r.code)
		}
	}
}

func TestConfirmWithoutTerminal(t *testing.T) {
	t.Parallel()
	s, id := confirmFixture(t)
	// stdin is a pipe with a "y" in it: still no terminal, so refused.
	yes := invocation{stdin: strings.NewReader("y\n")}
	for _, args := range [][]string{
		{"token", "revoke", "-w", "acme", id},
		{"member", "remove", "acme", "alice"},
		{"zoo", "delete", "acme/detectors"},
		{"workspace", "delete", "acme", "--force"},
	} {
		s.runWith(t, yes, args...).wantFailure(t, strings.Join(args[:2], " ")+" without a terminal", cli.ExitNotConfirmed, "pass --yes")
	}
	if tok := s.run(t, "token", "show", "-w", "acme", id, "-o", "json").json(t, "token show"); tok["state"] != "TOKEN_STATE_ACTIVE" {
		t.Errorf("after refused revoke, state = %v; want active", tok["state"])
	}
	s.run(t, "zoo", "get", "acme/detectors").ok(t, "zoo still there")
	s.run(t, "member", "get", "acme", "alice").ok(t, "member still there")

	if out := s.run(t, "token", "revoke", "-w", "acme", id, "--yes").ok(t, "revoke --yes"); !strings.Contains(out, "Revoked token "+id) {
		t.Errorf("revoke --yes printed %q", out)
	}
}
