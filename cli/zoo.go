package cli

import (
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
