package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

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
