package cli

import (
	"context"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooCreateCmd() *cobra.Command {
	return a.zooVisibilityCmd("create", "Create a model zoo",
		func(ctx context.Context, c pb.WorkspaceServiceClient, ws, zoo string, vis pb.Visibility) (*pb.Zoo, error) {
			resp, err := c.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: ws, ZooId: zoo, Visibility: vis})
			return resp.GetZoo(), err
		})
}
