package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenCopyCmd() *cobra.Command {
	var ws string
	c := &cobra.Command{
		Use:   "copy --workspace WS TOKEN_ID",
		Short: "Print the full token (nothing else), as the web page's Copy does",
		Args:  args("TOKEN_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: ws, TokenId: argv[0]})
			if err != nil {
				return err
			}
			if a.opts.output == "json" || a.opts.output == "yaml" {
				return a.printMessage(resp)
			}
			_, err = fmt.Fprintln(a.env.Stdout, resp.GetSecret())
			return err
		},
	}
	a.addWorkspaceFlag(c, &ws)
	return c
}
