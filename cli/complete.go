package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Shell completion of ids asks the server, with the address and credential
// the command line or environment gives. When that fails, it offers nothing
// rather than printing an error into the shell.

const noFiles = cobra.ShellCompDirectiveNoFileComp

// completeWorkspaceArg completes a workspace id as the first argument.
func (a *app) completeWorkspaceArg(cmd *cobra.Command, argv []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(argv) > 0 {
		return nil, noFiles
	}
	return a.workspaceIDs(cmd), noFiles
}

// completeWorkspaceFlag completes --workspace.
func (a *app) completeWorkspaceFlag(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	return a.workspaceIDs(cmd), noFiles
}

// completeZooArg completes WS/ZOO: workspaces with a slash first, then the
// zoos of the workspace typed so far.
func (a *app) completeZooArg(cmd *cobra.Command, argv []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(argv) > 0 {
		return nil, noFiles
	}
	ws, _, found := strings.Cut(toComplete, "/")
	if !found {
		ids := a.workspaceIDs(cmd)
		for i := range ids {
			ids[i] += "/"
		}
		return ids, noFiles | cobra.ShellCompDirectiveNoSpace
	}
	client, err := a.workspaces()
	if err != nil {
		return nil, noFiles
	}
	ctx, cancel := a.completionCtx(cmd)
	defer cancel()
	zoos, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Zoo, string, error) {
		r, err := client.ListZoos(ctx, &pb.ListZoosRequest{WorkspaceId: ws, PageSize: pageSize, PageToken: page})
		return r.GetZoos(), r.GetNextPageToken(), err
	})
	if err != nil {
		return nil, noFiles
	}
	names := make([]string, len(zoos))
	for i, z := range zoos {
		names[i] = ws + "/" + z.GetZooId()
	}
	return names, noFiles
}

func (a *app) workspaceIDs(cmd *cobra.Command) []string {
	client, err := a.workspaces()
	if err != nil {
		return nil
	}
	ctx, cancel := a.completionCtx(cmd)
	defer cancel()
	all, err := collect(ctx, func(ctx context.Context, page string) ([]*pb.Workspace, string, error) {
		r, err := client.ListWorkspaces(ctx, &pb.ListWorkspacesRequest{PageSize: pageSize, PageToken: page})
		return r.GetWorkspaces(), r.GetNextPageToken(), err
	})
	if err != nil {
		return nil
	}
	ids := make([]string, len(all))
	for i, w := range all {
		ids[i] = w.GetWorkspaceId()
	}
	return ids
}

// completionCtx bounds a completion's call; cobra may run completions
// without the command's context.
func (a *app) completionCtx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, a.opts.timeout)
}
