package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

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
