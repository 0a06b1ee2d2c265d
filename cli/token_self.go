package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// The self-service commands do what the hub SDK does: the token itself
// authenticates them, so they need no service credential.

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

func (a *app) tokenRefreshCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "refresh [TOKEN | -]",
		Short: "Replace a token by a new one and print the new one (no service credential needed)",
		Long: `Replace a token by a new one with the same owner, description and expiry, and
print the new token. The old one keeps working for the server's refresh grace
period. The token is read as for "token check".`,
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
			resp, err := client.RefreshToken(ctx, &pb.RefreshTokenRequest{Token: secret})
			if err != nil {
				return err
			}
			if a.opts.output == "json" || a.opts.output == "yaml" {
				return a.printMessage(resp)
			}
			fmt.Fprintln(a.env.Stderr, "The old token keeps working only for the refresh grace period.")
			_, err = fmt.Fprintln(a.env.Stdout, resp.GetValue())
			return err
		},
	}
}

func (a *app) tokenPickCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pick SEED",
		Short: "Print the token created for an SDK seed, once (no service credential needed)",
		Args:  args("SEED"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.self()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.PickSeedToken(ctx, &pb.PickSeedTokenRequest{Seed: argv[0]})
			if err != nil {
				return err
			}
			if a.opts.output == "json" || a.opts.output == "yaml" {
				return a.printMessage(resp)
			}
			_, err = fmt.Fprintln(a.env.Stdout, resp.GetToken())
			return err
		},
	}
}
