package cli

import (
	"strings"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// tokenPollersCmd shows which programs wait for an SDK seed: the check the
// /create_token page makes before a member hands a token to a seed.
func (a *app) tokenPollersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pollers SEED",
		Short: "Show the addresses that polled for an SDK seed's token in the last minute",
		Long: `Show the addresses that polled for an SDK seed's token in the last minute.

The hub SDK's "token create" polls once a second from the moment it opens the
/create_token link. A seed nobody polls for, or one polled from an address
that is not the requester's, is a sign that the link came from someone else.`,
		Args: args("SEED"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetSeedPollers(ctx, &pb.GetSeedPollersRequest{Seed: argv[0]})
			if err != nil {
				return err
			}
			return a.show(view{msg: resp, table: func(t *table) {
				waiting := "nobody"
				if addrs := resp.GetPollerAddresses(); len(addrs) > 0 {
					waiting = strings.Join(addrs, ", ")
				}
				t.field("Waiting", waiting)
				t.field("You", resp.GetClientAddress())
			}})
		},
	}
}
