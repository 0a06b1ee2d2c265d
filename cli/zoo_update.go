package cli

import (
	"context"

	"github.com/spf13/cobra"

	pb "tokenauthority/gen/tokenauthority/v1"
)

func (a *app) zooUpdateCmd() *cobra.Command {
	return a.zooVisibilityCmd("update", "Change the visibility of a model zoo",
		func(ctx context.Context, c pb.WorkspaceServiceClient, ws, zoo string, vis pb.Visibility) (*pb.Zoo, error) {
			resp, err := c.UpdateZoo(ctx, &pb.UpdateZooRequest{WorkspaceId: ws, ZooId: zoo, Visibility: vis})
			return resp.GetZoo(), err
		})
}
