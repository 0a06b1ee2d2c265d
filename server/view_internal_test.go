package server

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestFillViewCopiesEveryField sets every field of a stored token and
// checks that its view carries each one (state and effective end apart,
// which the view computes): a field added to Token and forgotten in fillView fails here.
func TestFillViewCopiesEveryField(t *testing.T) {
	t.Parallel()
	st := &pb.Token{}
	m := st.ProtoReflect()
	fields := m.Descriptor().Fields()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for i := range fields.Len() {
		f := fields.Get(i)
		switch {
		case f.IsList() && f.Kind() == protoreflect.EnumKind:
			m.Mutable(f).List().Append(protoreflect.ValueOfEnum(1))
		case f.IsList():
			m.Mutable(f).List().Append(protoreflect.ValueOfString("x" + string(f.Name())))
		case f.Kind() == protoreflect.StringKind:
			m.Set(f, protoreflect.ValueOfString("v-"+string(f.Name())))
		case f.Kind() == protoreflect.BoolKind:
			m.Set(f, protoreflect.ValueOfBool(true))
		case f.Kind() == protoreflect.EnumKind:
			m.Set(f, protoreflect.ValueOfEnum(2))
		case f.Kind() == protoreflect.MessageKind:
			m.Set(f, protoreflect.ValueOfMessage(timestamppb.New(now.Add(time.Duration(i)*time.Hour)).ProtoReflect()))
		default:
			t.Fatalf("field %s has a kind this test does not fill (%v): teach it", f.Name(), f.Kind())
		}
	}
	got := viewUnder(&storagepb.TokenRecord{Token: st}, nil, now)
	// The view computes state and the effective end (here, without a
	// policy, the token's own expiry).
	want := proto.CloneOf(st)
	want.State = got.GetState()
	want.EffectiveExpireTime = st.GetExpireTime()
	if got.GetState() == pb.TokenState_TOKEN_STATE_UNSPECIFIED {
		t.Errorf("view state unset")
	}
	if !proto.Equal(got, want) {
		t.Errorf("view of a token with every field set:\n got %v\nwant %v", got, want)
	}
}
