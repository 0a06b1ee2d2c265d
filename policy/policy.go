package policy

import (
	pb "tokenauthority/gen/tokenauthority/v1"
)

// Caller describes who asks: Anonymous when no token was presented, else the
// valid token's workspace. When Anonymous is set, WorkspaceID is ignored.
type Caller struct {
	Anonymous   bool
	WorkspaceID string
}

// Decision is the outcome of Decide. Reason says why, in the terms of the
// API's Reason enum, for allowed and denied outcomes alike.
type Decision struct {
	Allowed bool
	Reason  pb.Reason
}

// Decide applies the access table to a zoo (nil when it does not exist), an
// operation and a caller. It must be called only after a presented token was
// found valid.
//
// A Caller that is neither anonymous nor carries a workspace cannot come
// from a valid token; it is denied with REASON_UNKNOWN rather than being
// matched against a zoo whose workspace might also be empty.
func Decide(zoo *pb.Zoo, op pb.Operation, c Caller) Decision {
	if zoo == nil {
		return deny(pb.Reason_REASON_ZOO_NOT_FOUND)
	}
	if op != pb.Operation_OPERATION_DOWNLOAD && op != pb.Operation_OPERATION_CLOUD_INFERENCE {
		return deny(pb.Reason_REASON_ZOO_NOT_FOUND)
	}
	if !c.Anonymous && c.WorkspaceID == "" {
		return deny(pb.Reason_REASON_UNKNOWN)
	}
	switch zoo.GetVisibility() {
	case pb.Visibility_VISIBILITY_PUBLIC:
		switch {
		case !c.Anonymous:
			return allow(pb.Reason_REASON_VALID)
		case op == pb.Operation_OPERATION_DOWNLOAD:
			return allow(pb.Reason_REASON_PUBLIC)
		default:
			return deny(pb.Reason_REASON_TOKEN_REQUIRED)
		}
	case pb.Visibility_VISIBILITY_PRIVATE:
		if !c.Anonymous && c.WorkspaceID == zoo.GetWorkspaceId() {
			return allow(pb.Reason_REASON_VALID)
		}
		return deny(pb.Reason_REASON_ZOO_NOT_FOUND)
	default:
		return deny(pb.Reason_REASON_ZOO_NOT_FOUND)
	}
}

func allow(r pb.Reason) Decision { return Decision{Allowed: true, Reason: r} }

func deny(r pb.Reason) Decision { return Decision{Allowed: false, Reason: r} }
