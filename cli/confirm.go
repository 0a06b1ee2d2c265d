package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// addYesFlag gives a destructive command its --yes flag.
func addYesFlag(cmd *cobra.Command, yes *bool) {
	cmd.Flags().BoolVarP(yes, "yes", "y", false, "do not ask for confirmation (needed when stdin is not a terminal)")
}

// confirm asks question on a terminal and succeeds only on "y" or "yes".
// Without a terminal on stdin it refuses, unless yes is set: a script must
// say --yes to destroy anything. The question names what will be lost.
func (a *app) confirm(ctx context.Context, question string, yes bool) error {
	if yes {
		return nil
	}
	if !a.stdinIsTerminal() {
		return &exitError{code: ExitNotConfirmed, msg: "refusing without confirmation: stdin is not a terminal; pass --yes to " + strings.TrimSuffix(firstClause(question), "?")}
	}
	fmt.Fprint(a.env.Stderr, printable(question)+" [y/N] ")
	// The read cannot be cancelled, so it runs aside: Ctrl-C (which
	// cancels ctx) must not wait for Enter.
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(a.env.Stdin).ReadString('\n')
		answer <- line
	}()
	notConfirmed := &exitError{code: ExitNotConfirmed, msg: "not confirmed; nothing was changed"}
	select {
	case <-ctx.Done():
		fmt.Fprintln(a.env.Stderr)
		return notConfirmed
	case line := <-answer:
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return nil
		}
		if line == "" {
			fmt.Fprintln(a.env.Stderr) // end of input: end the prompt's line
		}
		return notConfirmed
	}
}

func (a *app) stdinIsTerminal() bool {
	f, ok := a.env.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// firstClause is the question up to its first "?", lower-cased at the start:
// "Revoke token x?" becomes "revoke token x".
func firstClause(q string) string {
	if i := strings.IndexByte(q, '?'); i >= 0 {
		q = q[:i]
	}
	if q != "" {
		q = strings.ToLower(q[:1]) + q[1:]
	}
	return q
}
