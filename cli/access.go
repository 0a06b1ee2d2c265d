package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) accessCmd() *cobra.Command {
	return group("access", "Ask whether a token may use a model zoo",
		a.accessCheckCmd(),
	)
}

// parseOperation accepts download and cloud-inference (or the enum names).
func parseOperation(s string) (pb.Operation, error) {
	name := "OPERATION_" + strings.ReplaceAll(strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "OPERATION_")), "-", "_")
	v, ok := pb.Operation_value[name]
	if !ok || v == int32(pb.Operation_OPERATION_UNSPECIFIED) {
		return 0, usageError(fmt.Sprintf("--operation %q: want download or cloud-inference", s))
	}
	return pb.Operation(v), nil
}

func (a *app) accessCheckCmd() *cobra.Command {
	var zoo, operation, token string
	c := &cobra.Command{
		Use:   "check --zoo WS/ZOO --operation download|cloud-inference [--token TOKEN | --token -]",
		Short: "Check whether a token (or no token) may use a zoo: exit 0 allowed, 7 token invalid, 8 denied",
		Long: `Check whether a token, or no token, may download from or run cloud inference
on a model zoo. Exit code 0 means allowed; 7 means the token is not valid; 8
means access is denied for another reason (the reason is printed).

The token comes from --token, from stdin with --token -, or from
TOKENAUTHORITY_TOKEN; with none of them the check is for an anonymous caller.`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := splitZoo(zoo); err != nil {
				return err
			}
			op, err := parseOperation(operation)
			if err != nil {
				return err
			}
			secret, err := a.readToken(token, false)
			if err != nil {
				return err
			}
			client, err := a.tokens()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.CheckAccess(ctx, &pb.CheckAccessRequest{Secret: secret, Zoo: zoo, Operation: op})
			if err != nil {
				return err
			}
			if err := a.show(view{msg: resp, names: []string{resp.GetTokenId()}, table: func(t *table) {
				if !resp.GetAllowed() {
					return
				}
				t.field("Allowed", "yes")
				t.field("Reason", explain(resp.GetReason()))
				if resp.GetTokenId() != "" {
					t.field("Token", resp.GetTokenId())
					t.field("Workspace", resp.GetWorkspaceId())
					t.field("User", resp.GetUserId())
					t.field("Expires", t.time(resp.GetExpireTime(), "never"))
				}
			}}); err != nil {
				return err
			}
			if resp.GetAllowed() {
				return nil
			}
			return &exitError{code: deniedExit(resp.GetReason()), msg: "access denied: " + explain(resp.GetReason())}
		},
	}
	f := c.Flags()
	f.StringVar(&zoo, "zoo", "", "the zoo, WORKSPACE/ZOO")
	f.StringVar(&operation, "operation", "", "download or cloud-inference")
	f.StringVar(&token, "token", "", "the token, or - to read it from stdin (default $"+EnvToken+", else anonymous)")
	_ = c.MarkFlagRequired("zoo")
	_ = c.MarkFlagRequired("operation")
	_ = c.RegisterFlagCompletionFunc("zoo", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return a.completeZooArg(cmd, nil, toComplete)
	})
	_ = c.RegisterFlagCompletionFunc("operation", cobra.FixedCompletions([]string{"download", "cloud-inference"}, noFiles))
	return c
}
