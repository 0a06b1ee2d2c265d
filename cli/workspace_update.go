package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) workspaceUpdateCmd() *cobra.Command {
	var name, maxLife, defLife, familyLife, requireExpiry string
	c := &cobra.Command{
		Use:   "update ID [--name NAME] [--max-lifetime 90d|none] [--default-lifetime 30d|none] [--require-expiry true|false] [--max-family-lifetime 365d|none]",
		Short: "Change a workspace's name or its token policy",
		Long: `Change the fields given, and only those. The token policy limits the
workspace's tokens: --max-lifetime (from a token's creation), --default-lifetime
(given to a token created without an expiry), --require-expiry, and
--max-family-lifetime (a hard end for a chain of rolls and refreshes, from its
first token's creation). "none" removes a limit. Lowered limits also end
existing tokens that outlive them, at their next use.`,
		Args:              args("ID"),
		ValidArgsFunction: a.completeWorkspaceArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			in := &pb.Workspace{WorkspaceId: argv[0], TokenPolicy: &pb.TokenPolicy{}}
			var paths []string
			f := cmd.Flags()
			if f.Changed("name") {
				in.DisplayName, paths = name, append(paths, "display_name")
			}
			for _, d := range []struct {
				flag, value, path string
				dst               **durationpb.Duration
			}{
				{"max-lifetime", maxLife, "token_policy.max_lifetime", &in.TokenPolicy.MaxLifetime},
				{"default-lifetime", defLife, "token_policy.default_lifetime", &in.TokenPolicy.DefaultLifetime},
				{"max-family-lifetime", familyLife, "token_policy.max_family_lifetime", &in.TokenPolicy.MaxFamilyLifetime},
			} {
				if !f.Changed(d.flag) {
					continue
				}
				if !strings.EqualFold(strings.TrimSpace(d.value), "none") {
					span, err := parseSpan(d.flag, d.value)
					if err != nil {
						return err
					}
					*d.dst = durationpb.New(span)
				}
				paths = append(paths, d.path)
			}
			if f.Changed("require-expiry") {
				v, err := strconv.ParseBool(requireExpiry)
				if err != nil {
					return usageError("--require-expiry " + strconv.Quote(requireExpiry) + ": want true or false")
				}
				in.TokenPolicy.RequireExpiry, paths = v, append(paths, "token_policy.require_expiry")
			}
			if len(paths) == 0 {
				return usageError("nothing to change: give --name or a token policy flag (see --help)")
			}
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.UpdateWorkspace(ctx, &pb.UpdateWorkspaceRequest{Workspace: in, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
			if err != nil {
				return err
			}
			return a.show(workspaceView(resp.GetWorkspace()))
		},
	}
	fl := c.Flags()
	fl.StringVar(&name, "name", "", "display name, such as \"Acme Corp\"")
	fl.StringVar(&maxLife, "max-lifetime", "", "longest a token may live from its creation (90d, 2160h), or none")
	fl.StringVar(&defLife, "default-lifetime", "", "lifetime of a token created without an expiry (30d), or none")
	fl.StringVar(&requireExpiry, "require-expiry", "", "true: every new token must have an expiry")
	fl.StringVar(&familyLife, "max-family-lifetime", "", "longest a chain of rolls and refreshes may live from its first token (365d), or none")
	return c
}
