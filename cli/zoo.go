package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooCmd() *cobra.Command {
	c := group("zoo", "Create, list, change and delete model zoos",
		a.zooCreateCmd(),
		a.zooListCmd(),
		a.zooGetCmd(),
		a.zooUpdateCmd(),
		a.zooDeleteCmd(),
	)
	c.Aliases = []string{"zoos"}
	return c
}

// zooVisibilityCmd is a command "NAME WS/ZOO --visibility public|private"
// that sends the zoo and its visibility with call and shows the zoo it
// answers: create and update differ only in the call.
func (a *app) zooVisibilityCmd(name, short string, call func(ctx context.Context, c pb.WorkspaceServiceClient, ws, zoo string, vis pb.Visibility) (*pb.Zoo, error)) *cobra.Command {
	var visibility string
	c := &cobra.Command{
		Use:               name + " WS/ZOO --visibility public|private",
		Short:             short,
		Args:              args("WS/ZOO"),
		ValidArgsFunction: a.completeZooArg,
		RunE: func(cmd *cobra.Command, argv []string) error {
			ws, zoo, err := splitZoo(argv[0])
			if err != nil {
				return err
			}
			vis, err := parseVisibility(visibility)
			if err != nil {
				return err
			}
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			z, err := call(ctx, client, ws, zoo, vis)
			if err != nil {
				return err
			}
			return a.show(zooView(z))
		},
	}
	c.Flags().StringVar(&visibility, "visibility", "", "public (anyone may download) or private (only the workspace's tokens)")
	_ = c.MarkFlagRequired("visibility")
	_ = c.RegisterFlagCompletionFunc("visibility", cobra.FixedCompletions([]string{"public", "private"}, noFiles))
	return c
}

// zooView shows one zoo.
func zooView(z *pb.Zoo) view {
	name := z.GetWorkspaceId() + "/" + z.GetZooId()
	return view{msg: z, names: []string{name}, table: func(t *table) {
		t.field("Zoo", name)
		t.field("Visibility", visibilityName(z.GetVisibility()))
		t.field("Created", t.time(z.GetCreateTime(), "-"))
	}}
}

// visibilityName is "public" for VISIBILITY_PUBLIC.
func visibilityName(v pb.Visibility) string {
	return strings.ToLower(strings.TrimPrefix(v.String(), "VISIBILITY_"))
}

// parseVisibility accepts public or private (or the enum names).
func parseVisibility(s string) (pb.Visibility, error) {
	name := "VISIBILITY_" + strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "VISIBILITY_"))
	v, ok := pb.Visibility_value[name]
	if !ok || v == int32(pb.Visibility_VISIBILITY_UNSPECIFIED) {
		return 0, usageError(fmt.Sprintf("--visibility %q: want public or private", s))
	}
	return pb.Visibility(v), nil
}
