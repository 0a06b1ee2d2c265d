package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) tokenUpdateCmd() *cobra.Command {
	var ws, description, expires, operations, zoos string
	c := &cobra.Command{
		Use:   "update --workspace WS TOKEN_ID [--description TEXT] [--expires 30d|2027-12-31|never] [--operations download,cloud-inference|all] [--zoos WS/ZOO,...|all]",
		Short: "Change a token's description, expiry or scopes",
		Long: `Change the fields given, and only those: --description, --expires (within
the workspace's token policy; never clears it), --operations (download and/or
cloud-inference; all removes the limit) and --zoos (WS/ZOO names; all removes
the limit). Scopes only narrow what the token's workspace may reach. A revoked
token cannot be changed. "token disable" and "token enable" switch a token
off and on.`,
		Args: args("TOKEN_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			in := &pb.Token{WorkspaceId: ws, TokenId: argv[0]}
			var paths []string
			f := cmd.Flags()
			if f.Changed("description") {
				in.Description, paths = description, append(paths, "description")
			}
			if f.Changed("expires") {
				exp, err := parseExpires(expires, a.env.Now())
				if err != nil {
					return err
				}
				if exp == nil {
					exp = neverTimestamp() // the API's "no expiry"
				}
				in.ExpireTime, paths = exp, append(paths, "expire_time")
			}
			if f.Changed("operations") {
				ops, err := parseOperations(operations)
				if err != nil {
					return err
				}
				in.Operations, paths = ops, append(paths, "operations")
			}
			if f.Changed("zoos") {
				in.Zoos, paths = parseZoos(zoos), append(paths, "zoos")
			}
			if len(paths) == 0 {
				return usageError("nothing to change: give --description, --expires, --operations or --zoos")
			}
			return a.updateToken(cmd, in, paths)
		},
	}
	a.addWorkspaceFlag(c, &ws)
	fl := c.Flags()
	fl.StringVarP(&description, "description", "d", "", "what the token is for, such as laptop")
	fl.StringVar(&expires, "expires", "", "never, a duration (30d, 2w, 12h), a date (2027-12-31) or an RFC 3339 time")
	fl.StringVar(&operations, "operations", "", "download, cloud-inference, both comma-separated, or all")
	fl.StringVar(&zoos, "zoos", "", "comma-separated WS/ZOO names the token may reach, or all")
	_ = c.RegisterFlagCompletionFunc("operations", cobra.FixedCompletions([]string{"download", "cloud-inference", "download,cloud-inference", "all"}, noFiles))
	return c
}

// updateToken sends UpdateToken with the given fields of in and shows the
// token it returns.
func (a *app) updateToken(cmd *cobra.Command, in *pb.Token, paths []string) error {
	client, err := a.tokens()
	if err != nil {
		return err
	}
	ctx, cancel := a.ctx(cmd)
	defer cancel()
	resp, err := client.UpdateToken(ctx, &pb.UpdateTokenRequest{Token: in, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
	if err != nil {
		return err
	}
	return a.show(tokenView(resp.GetToken()))
}

// parseOperations reads --operations: "all" (no limit) or a comma-separated
// list of download and cloud-inference.
func parseOperations(s string) ([]pb.Operation, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return nil, nil
	}
	var ops []pb.Operation
	for _, part := range strings.Split(s, ",") {
		op, err := parseOperation(strings.TrimSpace(part))
		if err != nil {
			return nil, usageError(fmt.Sprintf("--operations %q: want download, cloud-inference, both comma-separated, or all", s))
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// parseZoos reads --zoos: "all" (no limit) or comma-separated WS/ZOO names,
// which the server checks.
func parseZoos(s string) []string {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return nil
	}
	var zoos []string
	for _, part := range strings.Split(s, ",") {
		zoos = append(zoos, strings.TrimSpace(part))
	}
	return zoos
}
