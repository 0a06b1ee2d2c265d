package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// args checks the number of positional arguments; names are their
// placeholders for the error ("ID", "WS USER").
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) != len(names) {
			return usageError(fmt.Sprintf("%s takes %d argument(s), %s; got %d (see --help)", cmd.CommandPath(), len(names), strings.Join(names, " "), len(got)))
		}
		for i, v := range got {
			if strings.TrimSpace(v) == "" {
				return usageError(fmt.Sprintf("%s must not be empty", names[i]))
			}
		}
		return nil
	}
}

// splitZoo splits "WS/ZOO".
func splitZoo(s string) (ws, zoo string, err error) {
	ws, zoo, ok := strings.Cut(s, "/")
	if !ok || ws == "" || zoo == "" || strings.Contains(zoo, "/") {
		return "", "", usageError(fmt.Sprintf("zoo %q: want WORKSPACE/ZOO, such as acme/detectors", s))
	}
	return ws, zoo, nil
}

// pageSize is what list commands ask for per call; they follow
// next_page_token until the end.
const pageSize = 200

// collect calls fetch page by page until the server returns no next page
// token, and returns every item.
func collect[T any](ctx context.Context, fetch func(ctx context.Context, pageToken string) ([]T, string, error)) ([]T, error) {
	var all []T
	tok := ""
	for {
		items, next, err := fetch(ctx, tok)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" || next == tok {
			return all, nil
		}
		tok = next
	}
}

// plural is "1 token" or "3 tokens".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
