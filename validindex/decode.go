package validindex

import (
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// decoded is the memory a looked-up token is decoded into, in one piece:
// the record, its token, the token's timestamps and room for its scopes,
// and what the lookup read beside them. Its strings are substrings of the
// index's encoding, which is never changed. Lookup hands each caller a new
// one; the index's writers reuse theirs under the write lock.
type decoded struct {
	rec  storagepb.TokenRecord
	tok  pb.Token
	ts   [4]timestamppb.Timestamp // create, expire, revoke, last used
	ops  [2]pb.Operation
	zoos [2]string
	hash [32]byte
	seen byte // what the index's early loads of the record read (see table.get)
	// The membership and workspace policy the lookup read (policy shared).
	member bool
	policy *pb.TokenPolicy
}

// Field numbers of pb.Token that the decoder reads (fast path); any other
// field sends it to proto.Unmarshal. TestDecodeCoversToken fails when
// pb.Token gains a field missing here.
const (
	fTokenID      = 1
	fWorkspaceID  = 2
	fUserID       = 3
	fDescription  = 4
	fMaskedKey    = 5
	fCreateTime   = 6
	fExpireTime   = 7
	fState        = 8
	fRevokeTime   = 9
	fReplacedBy   = 10
	fLastUsedTime = 11
	fOperations   = 12
	fZoos         = 13
	fDisabled     = 14
	fRevokeReason = 15
	fReplaces     = 16
	fFamilyID     = 17
	// fEffectiveExpireTime is computed when a token is shown and never
	// stored: an encoding carrying it takes the slow path.
	fEffectiveExpireTime = 18
	fCreatedForSeed      = 19
)

// decode sets d.tok (and the values it points to) from enc, the encoding
// of a pb.Token; d must be zero (fresh, or reset). The index only holds
// encodings that proto.Marshal made or that a store decoded before; an
// encoding the fast path does not handle goes through proto.Unmarshal,
// which copies.
func (d *decoded) decode(enc string) {
	if !d.fast(enc) {
		d.reset()
		unmarshalToken(enc, &d.tok)
	}
}

// unmarshalToken is the slow path: proto.Unmarshal of enc into t, which
// must be zero; it copies.
func unmarshalToken(enc string, t *pb.Token) {
	b := unsafe.Slice(unsafe.StringData(enc), len(enc))
	// The index never holds an encoding proto.Unmarshal refuses (it was
	// marshalled, or decoded by the store, before it was indexed); if it
	// did, the token would come out partial, never wrong about identity.
	_ = proto.Unmarshal(b, t)
}

// reset makes d zero again, for reuse.
func (d *decoded) reset() {
	d.rec = storagepb.TokenRecord{}
	d.tok = pb.Token{}
	d.ts = [4]timestamppb.Timestamp{}
}

// fast decodes the fields pb.Token has today, without copying strings and
// with the timestamps and up to two scopes of each kind inside d. It
// reports false on anything else.
func (d *decoded) fast(enc string) bool {
	ts := [4]*timestamppb.Timestamp{&d.ts[0], &d.ts[1], &d.ts[2], &d.ts[3]}
	return fastInto(&d.tok, enc, &ts, d.ops[:0], d.zoos[:0])
}

// fastInto is fast decoding into t, which must be zero: the timestamps go
// into ts's (create, expire, revoke, last used; a nil one is allocated),
// the scopes are appended to ops and zoos.
func fastInto(t *pb.Token, enc string, ts *[4]*timestamppb.Timestamp, ops []pb.Operation, zoos []string) bool {
	b := unsafe.Slice(unsafe.StringData(enc), len(enc))
	var seen [4]bool
	off := 0
	for off < len(b) {
		num, typ, n := consumeTag(b[off:])
		if n < 0 {
			return false
		}
		off += n
		switch typ {
		case protowire.VarintType:
			v, m := consumeVarint(b[off:])
			if m < 0 {
				return false
			}
			off += m
			switch num {
			case fState:
				t.State = pb.TokenState(int32(v))
			case fOperations:
				ops = append(ops, pb.Operation(int32(v)))
			case fDisabled:
				t.Disabled = v != 0
			case fCreatedForSeed:
				t.CreatedForSeed = v != 0
			case fRevokeReason:
				t.RevokeReason = pb.RevokeReason(int32(v))
			default:
				return false
			}
		case protowire.BytesType:
			v, m := consumeBytes(b[off:])
			if m < 0 {
				return false
			}
			start := off + m - len(v)
			s := enc[start : start+len(v)]
			off += m
			switch num {
			case fTokenID:
				t.TokenId = s
			case fWorkspaceID:
				t.WorkspaceId = s
			case fUserID:
				t.UserId = s
			case fDescription:
				t.Description = s
			case fMaskedKey:
				t.MaskedKey = s
			case fReplacedBy:
				t.ReplacedBy = s
			case fReplaces:
				t.Replaces = s
			case fFamilyID:
				t.FamilyId = s
			case fZoos:
				zoos = append(zoos, s)
			case fCreateTime:
				if seen[0] {
					return false
				}
				seen[0] = true
				if t.CreateTime = timestamp(ts, 0, v); t.CreateTime == nil {
					return false
				}
			case fExpireTime:
				if seen[1] {
					return false
				}
				seen[1] = true
				if t.ExpireTime = timestamp(ts, 1, v); t.ExpireTime == nil {
					return false
				}
			case fRevokeTime:
				if seen[2] {
					return false
				}
				seen[2] = true
				if t.RevokeTime = timestamp(ts, 2, v); t.RevokeTime == nil {
					return false
				}
			case fLastUsedTime:
				if seen[3] {
					return false
				}
				seen[3] = true
				if t.LastUsedTime = timestamp(ts, 3, v); t.LastUsedTime == nil {
					return false
				}
			case fOperations: // packed
				for len(v) > 0 {
					x, k := consumeVarint(v)
					if k < 0 {
						return false
					}
					v = v[k:]
					ops = append(ops, pb.Operation(int32(x)))
				}
			default:
				return false
			}
		default:
			return false
		}
	}
	if len(ops) > 0 {
		t.Operations = ops
	}
	if len(zoos) > 0 {
		t.Zoos = zoos
	}
	return true
}

// consumeTag, consumeVarint and consumeBytes are protowire's, answering
// the one-byte case (every tag of pb.Token's first 15 fields, every small
// number and short length) without a call.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] >= 1<<3 && b[0] < 0x80 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return protowire.ConsumeTag(b)
}

func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

func consumeBytes(b []byte) ([]byte, int) {
	if len(b) > 0 && b[0] < 0x80 {
		if n := int(b[0]); n < len(b) {
			return b[1 : 1+n], 1 + n
		}
	}
	return protowire.ConsumeBytes(b)
}

// timestamp decodes a google.protobuf.Timestamp into ts[i] (zeroed first;
// a new one when nil); nil when the encoding holds anything but its two
// fields.
func timestamp(tss *[4]*timestamppb.Timestamp, i int, b []byte) *timestamppb.Timestamp {
	ts := tss[i]
	if ts == nil {
		ts = new(timestamppb.Timestamp)
		tss[i] = ts
	} else {
		*ts = timestamppb.Timestamp{}
	}
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 || typ != protowire.VarintType {
			return nil
		}
		b = b[n:]
		v, m := consumeVarint(b)
		if m < 0 {
			return nil
		}
		b = b[m:]
		switch num {
		case 1:
			ts.Seconds = int64(v)
		case 2:
			ts.Nanos = int32(v)
		default:
			return nil
		}
	}
	return ts
}
