package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenRollCmd() *cobra.Command {
	var ws, grace string
	c := &cobra.Command{
		Use:   "roll --workspace WS TOKEN_ID [--grace 1h]",
		Short: "Replace a token by a new one with a new secret, and print the new one once",
		Long: `Replace a token by a new one with the same owner, description, scopes and
lifetime length, and print the new token once, on stdout alone (as "token
create" does). The old token keeps working for --grace (0, the default, stops
it now; at most 7d), shown as its scheduled revocation. Rolling a token that
was already rolled revokes every token descended from the same original.`,
		Args: args("TOKEN_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			g, err := parseSpan("grace", grace)
			if err != nil {
				return err
			}
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.RollToken(ctx, &pb.RollTokenRequest{WorkspaceId: ws, TokenId: argv[0], Grace: durationpb.New(g)})
			if err != nil {
				return err
			}
			tok := resp.GetToken()
			again := fmt.Sprintf("tokenctl token copy --workspace %s %s", tok.GetWorkspaceId(), tok.GetTokenId())
			switch a.opts.output {
			case "table":
				fmt.Fprintln(a.env.Stdout, resp.GetSecret())
				t := newTable(a.env.Now())
				fmt.Fprintf(a.env.Stderr, "Rolled token %s into %s %s, expires %s; the old one works for %s more.\nCopy it now: it is not shown again except through %q.\n",
					argv[0], tok.GetTokenId(), describe(tok), t.time(end(tok), "never"), g, again)
				return nil
			case "name":
				fmt.Fprintf(a.env.Stderr, "The new token itself was not printed; %q shows it.\n", again)
				return a.show(tokenView(tok))
			default:
				fmt.Fprintf(a.env.Stderr, "The secret is not shown again except through %q.\n", again)
				return a.printMessage(resp)
			}
		},
	}
	a.addWorkspaceFlag(c, &ws)
	c.Flags().StringVar(&grace, "grace", "0", "how long the old token keeps working: 0 (stop now) up to 7d")
	return c
}
