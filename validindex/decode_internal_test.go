package validindex

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestDecodeCoversToken decodes tokens through the fast path and checks
// that it handles them (no fall back to proto.Unmarshal) and gives what
// proto.Unmarshal gives; and that every field pb.Token has is one the fast
// path reads, so a new field fails here instead of silently taking the slow
// path on every lookup.
func TestDecodeCoversToken(t *testing.T) {
	t.Parallel()
	known := map[int32]bool{}
	for _, n := range []int32{fTokenID, fWorkspaceID, fUserID, fDescription, fMaskedKey, fCreateTime, fExpireTime,
		fState, fRevokeTime, fReplacedBy, fLastUsedTime, fOperations, fZoos, fDisabled, fRevokeReason, fReplaces, fFamilyID,
		fEffectiveExpireTime, fCreatedForSeed} {
		known[n] = true
	}
	fields := (&pb.Token{}).ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		if f := fields.Get(i); !known[int32(f.Number())] {
			t.Errorf("pb.Token field %s (%d) is not decoded by the fast path", f.Name(), f.Number())
		}
	}
	if fields.Len() != len(known) {
		t.Errorf("pb.Token has %d fields, the fast path knows %d", fields.Len(), len(known))
	}

	full := &pb.Token{
		TokenId: "t1", WorkspaceId: "acme", UserId: "ann", Description: "d", MaskedKey: "dg_…x",
		CreateTime: timestamppb.New(timestamppb.Now().AsTime()), ExpireTime: &timestamppb.Timestamp{Seconds: -5, Nanos: 7},
		State: pb.TokenState(2), RevokeTime: &timestamppb.Timestamp{}, ReplacedBy: "t2",
		LastUsedTime: &timestamppb.Timestamp{Seconds: 1 << 40}, Disabled: true, RevokeReason: pb.RevokeReason(1),
		Replaces: "t0", FamilyId: "t0", CreatedForSeed: true,
		Operations: []pb.Operation{pb.Operation_OPERATION_DOWNLOAD, pb.Operation_OPERATION_CLOUD_INFERENCE, pb.Operation_OPERATION_DOWNLOAD},
		Zoos:       []string{"acme/a", "acme/b", "acme/c"},
	}
	tests := []struct {
		name string
		tok  *pb.Token
	}{
		{"empty", &pb.Token{}},
		{"identity only", &pb.Token{TokenId: "t1", WorkspaceId: "acme", UserId: "ann"}},
		{"every field, more scopes than the room in one allocation", full},
		{"lengths at the one-byte boundary", &pb.Token{TokenId: strings.Repeat("a", 127), Description: strings.Repeat("d", 128), UserId: strings.Repeat("u", 126)}},
		{"one scope each", &pb.Token{TokenId: "t1", Operations: []pb.Operation{pb.Operation_OPERATION_DOWNLOAD}, Zoos: []string{"acme/a"}}},
	}
	otherEnc, err := proto.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := proto.Marshal(tt.tok)
			if err != nil {
				t.Fatal(err)
			}
			var d decoded
			if !d.fast(string(enc)) {
				t.Fatalf("fast path refused %v", tt.tok)
			}
			if !proto.Equal(&d.tok, tt.tok) {
				t.Errorf("fast path = %v, want %v", &d.tok, tt.tok)
			}
			// Reusing d (reset, as Each does) leaves nothing of the
			// previous token.
			var other decoded
			other.decode(string(otherEnc))
			other.reset()
			other.decode(string(enc))
			if !proto.Equal(&other.tok, tt.tok) {
				t.Errorf("decoded after another token = %v, want %v", &d.tok, tt.tok)
			}
		})
	}

	// An encoding the fast path does not read (an unknown field) still
	// decodes, through proto.Unmarshal.
	enc, err := proto.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	enc = append(enc, 0xa8, 0x06, 0x01) // field 101, varint 1
	var d decoded
	if d.fast(string(enc)) {
		t.Fatal("fast path accepted an unknown field")
	}
	d.decode(string(enc))
	if d.tok.GetTokenId() != "t1" || len(d.tok.GetZoos()) != 3 {
		t.Errorf("slow path = %v", &d.tok)
	}
}
