package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenCreateCmd() *cobra.Command {
	var ws, user, description, expires, seed, operations, zoos string
	c := &cobra.Command{
		Use:   "create --workspace WS --user USER --description TEXT --expires 30d|2027-12-31|never",
		Short: "Create a token and print it once",
		Long: `Create a token for a member of a workspace and print it once.

The token is printed on stdout alone, so SECRET=$(tokenctl token create ...)
works; it is not shown again except through "tokenctl token copy".
--expires takes never, a duration (30d, 2w, 12h), a date (2027-12-31, 00:00
UTC) or an RFC 3339 time.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			exp, err := parseExpires(expires, a.env.Now())
			if err != nil {
				return err
			}
			req := &pb.CreateTokenRequest{WorkspaceId: ws, UserId: user, Description: description, ExpireTime: exp, Seed: seed}
			if operations != "" {
				if req.Operations, err = parseOperations(operations); err != nil {
					return err
				}
			}
			if zoos != "" {
				req.Zoos = parseZoos(zoos)
			}
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.CreateToken(ctx, req)
			if err != nil {
				return err
			}
			tok := resp.GetToken()
			again := fmt.Sprintf("tokenctl token copy --workspace %s %s", tok.GetWorkspaceId(), tok.GetTokenId())
			switch a.opts.output {
			case "table":
				fmt.Fprintln(a.env.Stdout, resp.GetSecret())
				t := newTable(a.env.Now())
				fmt.Fprintf(a.env.Stderr, "Created token %s %s, expires %s.\nCopy it now: it is not shown again except through %q.\n",
					tok.GetTokenId(), describe(tok), t.time(end(tok), "never"), again)
				return nil
			case "name":
				fmt.Fprintf(a.env.Stderr, "The token itself was not printed; %q shows it.\n", again)
				return a.show(tokenView(tok))
			default:
				fmt.Fprintf(a.env.Stderr, "The secret is not shown again except through %q.\n", again)
				return a.printMessage(resp)
			}
		},
	}
	f := c.Flags()
	a.addWorkspaceFlag(c, &ws)
	f.StringVarP(&user, "user", "u", "", "the member who owns the token")
	f.StringVarP(&description, "description", "d", "", "what the token is for, such as laptop")
	f.StringVar(&expires, "expires", "", "never, a duration (30d, 2w, 12h), a date (2027-12-31) or an RFC 3339 time")
	f.StringVar(&seed, "seed", "", "the hub SDK's seed, so the SDK can pick the token up once")
	f.StringVar(&operations, "operations", "", "limit the token to download, cloud-inference or both (comma-separated); default all")
	f.StringVar(&zoos, "zoos", "", "limit the token to these WS/ZOO names (comma-separated); default every zoo its workspace may reach")
	_ = c.MarkFlagRequired("user")
	_ = c.MarkFlagRequired("expires")
	return c
}
