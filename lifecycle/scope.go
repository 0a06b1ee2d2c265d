package lifecycle

import (
	"slices"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/policy"
)

// InScope reports whether t's scopes include op on the zoo
// workspaceID/zooID: its operations list is empty or names op, and its zoos
// list is empty or names the zoo. It says nothing of what the workspace
// grants; Narrow combines the two.
func InScope(t *pb.Token, workspaceID, zooID string, op pb.Operation) bool {
	if ops := t.GetOperations(); len(ops) > 0 && !slices.Contains(ops, op) {
		return false
	}
	if zoos := t.GetZoos(); len(zoos) > 0 && !slices.Contains(zoos, workspaceID+"/"+zooID) {
		return false
	}
	return true
}

// Narrow applies t's scopes to the access table's decision d for op on
// workspaceID/zooID. Scopes only take away: a denial stands with its own
// reason (so a scope naming another workspace's private zoo still sees
// REASON_ZOO_NOT_FOUND, and probing names through scopes reveals nothing),
// and an allowance outside the scopes becomes a denial with
// REASON_OUT_OF_SCOPE, also where no token would have been needed (a public
// download): the holder learns the token is not meant for this.
func Narrow(d policy.Decision, t *pb.Token, workspaceID, zooID string, op pb.Operation) policy.Decision {
	if !d.Allowed || InScope(t, workspaceID, zooID, op) {
		return d
	}
	return policy.Decision{Allowed: false, Reason: pb.Reason_REASON_OUT_OF_SCOPE}
}
