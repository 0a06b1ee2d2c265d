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

func (a *app) zooCreateCmd() *cobra.Command {
	var visibility string
	c := &cobra.Command{
		Use:   "create WS/ZOO --visibility public|private",
		Short: "Create a model zoo",
		Args:  args("WS/ZOO"),
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
			resp, err := client.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: ws, ZooId: zoo, Visibility: vis})
			if err != nil {
				return err
			}
			return a.show(zooView(resp.GetZoo()))
		},
	}
	c.Flags().StringVar(&visibility, "visibility", "", "public (anyone may download) or private (only the workspace's tokens)")
	_ = c.MarkFlagRequired("visibility")
	return c
}

func (a *app) zooGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "get WS/ZOO",
		Aliases: []string{"show"},
		Short:   "Show a model zoo",
		Args:    args("WS/ZOO"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ws, zoo, err := splitZoo(argv[0])
			if err != nil {
				return err
			}
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			resp, err := client.GetZoo(ctx, &pb.GetZooRequest{WorkspaceId: ws, ZooId: zoo})
			if err != nil {
				return err
			}
			return a.show(zooView(resp.GetZoo()))
		},
	}
}

func (a *app) zooListCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list WS",
		Aliases: []string{"ls"},
		Short:   "List the model zoos of a workspace",
		Args:    args("WS"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			all, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Zoo, string, error) {
				r, err := client.ListZoos(ctx, &pb.ListZoosRequest{WorkspaceId: argv[0], PageSize: pageSize, PageToken: page})
				return r.GetZoos(), r.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			names := make([]string, len(all))
			for i, z := range all {
				names[i] = z.GetWorkspaceId() + "/" + z.GetZooId()
			}
			return a.show(view{msg: &pb.ListZoosResponse{Zoos: all}, names: names, table: func(t *table) {
				t.row("ZOO", "VISIBILITY", "CREATED")
				for i, z := range all {
					t.row(names[i], visibilityName(z.GetVisibility()), t.date(z.GetCreateTime(), "-"))
				}
			}})
		},
	}
}

func (a *app) zooUpdateCmd() *cobra.Command {
	var visibility string
	c := &cobra.Command{
		Use:   "update WS/ZOO --visibility public|private",
		Short: "Change the visibility of a model zoo",
		Args:  args("WS/ZOO"),
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
			resp, err := client.UpdateZoo(ctx, &pb.UpdateZooRequest{WorkspaceId: ws, ZooId: zoo, Visibility: vis})
			if err != nil {
				return err
			}
			return a.show(zooView(resp.GetZoo()))
		},
	}
	c.Flags().StringVar(&visibility, "visibility", "", "public or private")
	_ = c.MarkFlagRequired("visibility")
	return c
}

func (a *app) zooDeleteCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete WS/ZOO [--yes]",
		Short: "Delete a model zoo",
		Args:  args("WS/ZOO"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ws, zoo, err := splitZoo(argv[0])
			if err != nil {
				return err
			}
			client, err := a.workspaces()
			if err != nil {
				return err
			}
			ctx, cancel := a.ctx(cmd)
			defer cancel()
			z, err := client.GetZoo(ctx, &pb.GetZooRequest{WorkspaceId: ws, ZooId: zoo})
			if err != nil {
				return err
			}
			question := fmt.Sprintf("Delete %s zoo %s? No token can download from it or run inference on it any more.", visibilityName(z.GetZoo().GetVisibility()), argv[0])
			if err := a.confirm(cmd.Context(), question, yes); err != nil {
				return err
			}
			// A fresh timeout: the prompt may have taken a while.
			ctx, cancel = a.ctx(cmd)
			defer cancel()
			resp, err := client.DeleteZoo(ctx, &pb.DeleteZooRequest{WorkspaceId: ws, ZooId: zoo})
			if err != nil {
				return err
			}
			return a.done(resp, "Deleted zoo "+argv[0], argv[0])
		},
	}
	addYesFlag(c, &yes)
	return c
}
