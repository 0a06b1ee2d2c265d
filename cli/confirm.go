package cli

import (
	"bufio"
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
func (a *app) confirm(question string, yes bool) error {
	if yes {
		return nil
	}
	if !a.stdinIsTerminal() {
		return &exitError{code: ExitNotConfirmed, msg: "refusing without confirmation: stdin is not a terminal; pass --yes to " + strings.TrimSuffix(firstClause(question), "?")}
	}
	fmt.Fprint(a.env.Stderr, printable(question)+" [y/N] ")
	line, err := bufio.NewReader(a.env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(a.env.Stderr)
		return &exitError{code: ExitNotConfirmed, msg: "not confirmed; nothing was changed"}
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &exitError{code: ExitNotConfirmed, msg: "not confirmed; nothing was changed"}
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
