package cli

import (
	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// The self-service commands (token info, refresh, pick) do what the hub
// SDK does: the token itself authenticates them, so they need no service
// credential.

func (a *app) tokenInfoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "info [TOKEN | -]",
		Short: "Show what a token says about itself (no service credential needed)",
		Long: `Show a token's description, owner, workspace and times, authenticated by the
token itself as the hub SDK does. The token is read as for "token check".`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, argv []string) error {
			secret, err := a.readToken(firstArg(argv), true)
			if err != nil {
				return err
			}
			client, err := a.self()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetTokenInfo(ctx, &pb.GetTokenInfoRequest{Token: secret})
			if err != nil {
				return err
			}
			return a.show(view{msg: resp, names: []string{resp.GetSpace() + "/" + resp.GetUser()}, table: func(t *table) {
				t.field("Workspace", resp.GetSpace())
				t.field("User", resp.GetUser())
				t.field("Description", resp.GetDescription())
				t.field("Created", t.time(resp.GetCreatedAt(), "-"))
				t.field("Expires", t.time(resp.GetExpiration(), "never"))
			}})
		},
	}
}
