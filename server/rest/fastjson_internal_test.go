package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/google/go-cmp/cmp"

	pb "tokenauthority/gen/tokenauthority/v1"
)

var wantProtojson = protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true}

// apiMessages are every message of the API's package.
func apiMessages(t *testing.T) []protoreflect.MessageType {
	t.Helper()
	var out []protoreflect.MessageType
	pkg := pb.File_tokenauthority_v1_token_service_proto.Package()
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		if mt.Descriptor().ParentFile().Package() == pkg {
			out = append(out, mt)
		}
		return true
	})
	if len(out) < 20 {
		t.Fatalf("found %d messages of %s, want the whole API", len(out), pkg)
	}
	return out
}

// tricky strings cover every escape protojson writes and characters it
// leaves alone.
var tricky = []string{"", "plain", `quote " backslash \ slash /`, "\b\f\n\r\t\x00\x01\x1f\x7f", "<>&", "ünïcødé ✓ \u2028\u2029 😀"}

// fill sets every field of m, cycling through values by seed, down to
// depth nested messages.
func fill(m protoreflect.Message, seed, depth int) {
	fds := m.Descriptor().Fields()
	if m.Descriptor().FullName() == timestampName {
		nanos := []int32{0, 500_000_000, 123_456_000, 1, 999_999_999}
		m.Set(fds.ByNumber(1), protoreflect.ValueOfInt64(int64(seed)*1_234_567_891-5_000_000_000))
		m.Set(fds.ByNumber(2), protoreflect.ValueOfInt32(nanos[seed%len(nanos)]))
		return
	}
	if m.Descriptor().FullName().Parent() == "google.protobuf" {
		return // other well-known types are left to protojson; empty is valid
	}
	for i := range fds.Len() {
		fd := fds.Get(i)
		if fd.ContainingOneof() != nil && (seed+i)%2 == 0 {
			continue // leave some oneof members and optional fields unset
		}
		if fd.IsMap() {
			continue
		}
		if fd.IsList() {
			l := m.Mutable(fd).List()
			for j := range (seed + i) % 3 {
				if fd.Kind() == protoreflect.MessageKind {
					if depth > 0 {
						e := l.NewElement()
						fill(e.Message(), seed+j, depth-1)
						l.Append(e)
					}
					continue
				}
				l.Append(sample(fd, seed+i+j))
			}
			continue
		}
		if fd.Kind() == protoreflect.MessageKind {
			if depth > 0 && (seed+i)%4 != 0 {
				fill(m.Mutable(fd).Message(), seed+i, depth-1)
			}
			continue
		}
		m.Set(fd, sample(fd, seed+i))
	}
}

func sample(fd protoreflect.FieldDescriptor, seed int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(tricky[seed%len(tricky)])
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(seed%2 == 0)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if seed%5 == 4 {
			return protoreflect.ValueOfEnum(99) // not a declared value: written as a number
		}
		return protoreflect.ValueOfEnum(vals.Get(seed % vals.Len()).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(seed*7919 - 50000))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(seed)*-9_007_199_254_740_993 + 1)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(seed) * 4_000_000_007)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(seed) * 18_000_000_000_000_000_007)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(seed) / 3)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(float64(seed) / 3)
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte(tricky[seed%len(tricky)]))
	}
	panic(fmt.Sprintf("no sample for %v", fd.Kind()))
}

// TestAppendMessageMatchesProtojson checks that whatever appendMessage
// writes is byte for byte protojson's output, compacted, for every API
// message empty and filled many ways, and that it writes the responses of
// the hot routes itself.
func TestAppendMessageMatchesProtojson(t *testing.T) {
	t.Parallel()
	handled := map[protoreflect.FullName]bool{}
	for _, mt := range apiMessages(t) {
		for seed := range 12 {
			m := mt.New()
			if seed > 0 {
				fill(m, seed, 2)
			}
			want, err := wantProtojson.Marshal(m.Interface())
			if err != nil {
				t.Fatalf("protojson %s: %v", mt.Descriptor().FullName(), err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, want); err != nil {
				t.Fatal(err)
			}
			got, ok := appendMessage(nil, m)
			if !ok {
				continue
			}
			handled[mt.Descriptor().FullName()] = true
			if !bytes.Equal(got, compact.Bytes()) {
				t.Errorf("%s seed %d:\n got %s\nwant %s", mt.Descriptor().FullName(), seed, got, compact.Bytes())
			}
		}
	}
	for _, m := range []proto.Message{&pb.ValidateTokenResponse{}, &pb.CheckAccessResponse{}, &pb.CreateTokenResponse{}, &pb.ListTokensResponse{}, &pb.GetTokenInfoResponse{}} {
		if name := m.ProtoReflect().Descriptor().FullName(); !handled[name] {
			t.Errorf("appendMessage left %s to protojson", name)
		}
	}
}

func TestAppendTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ts   *timestamppb.Timestamp
		want string
		ok   bool
	}{
		{&timestamppb.Timestamp{Seconds: 0}, `"1970-01-01T00:00:00Z"`, true},
		{&timestamppb.Timestamp{Seconds: 1, Nanos: 500_000_000}, `"1970-01-01T00:00:01.500Z"`, true},
		{&timestamppb.Timestamp{Seconds: 1, Nanos: 1_000}, `"1970-01-01T00:00:01.000001Z"`, true},
		{&timestamppb.Timestamp{Seconds: 1, Nanos: 1}, `"1970-01-01T00:00:01.000000001Z"`, true},
		{&timestamppb.Timestamp{Seconds: minTimestampSeconds}, `"0001-01-01T00:00:00Z"`, true},
		{&timestamppb.Timestamp{Seconds: maxTimestampSeconds, Nanos: 999_999_999}, `"9999-12-31T23:59:59.999999999Z"`, true},
		{&timestamppb.Timestamp{Seconds: minTimestampSeconds - 1}, "", false},
		{&timestamppb.Timestamp{Seconds: maxTimestampSeconds + 1}, "", false},
		{&timestamppb.Timestamp{Nanos: -1}, "", false},
		{&timestamppb.Timestamp{Nanos: 1_000_000_000}, "", false},
	}
	for _, tt := range tests {
		got, ok := appendTimestamp(nil, tt.ts.ProtoReflect())
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("appendTimestamp(%v) = %s, %v; want %s, %v", tt.ts, got, ok, tt.want, tt.ok)
		}
		if !ok {
			continue
		}
		want, err := protojson.Marshal(tt.ts)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("appendTimestamp(%v) = %s, protojson writes %s", tt.ts, got, want)
		}
	}
}

// decodeBodies are request bodies decodeFlat must either read exactly as
// protojson does or leave to it.
var decodeBodies = []string{
	`{"secret":"tka_abc"}`,
	` {"secret" : "tka_abc" } `,
	"{\n\t\"secret\":\"x\"\r\n}",
	`{"secret":""}`,
	`{}`,
	``,
	`{"secret":"a","secret":"b"}`,
	`{"secret":"a"} trailing`,
	`{"secret":"a"}{}`,
	`{"secret":"a",}`,
	`{"secret":"a"`,
	`{"secret":"a\"b"}`,
	`{"secret":"\u0041"}`,
	"{\"secret\":\"a\x01\"}",
	"{\"secret\":\"\xff\"}",
	`{"secret":null}`,
	`{"secret":1}`,
	`{"secret":["a"]}`,
	`{"Secret":"a"}`,
	`{"sekret":"a"}`,
	`{"zoo":"acme/priv","operation":"OPERATION_DOWNLOAD","secret":"s"}`,
	`{"zoo":"acme/priv","operation":"OPERATION_NOPE"}`,
	`{"operation":1}`,
	`{"operation":"1"}`,
	`{"workspace_id":"acme","user_id":"ann","description":"laptop ✓"}`,
	`{"workspaceId":"acme","workspace_id":"acme"}`,
	`{"workspaceId":"acme","userId":"ann"}`,
	`{"workspace_id":"acme","expire_time":"2027-01-01T00:00:00Z"}`,
	`{"show_revoked":true,"workspace_id":"w"}`,
	`{"show_revoked":false}`,
	`{"show_revoked":"true"}`,
	`{"show_revoked":tru}`,
	`{"page_size":10}`,
	`[]`,
	`"secret"`,
}

func TestDecodeFlatMatchesProtojson(t *testing.T) {
	t.Parallel()
	msgs := []proto.Message{&pb.ValidateTokenRequest{}, &pb.CheckAccessRequest{}, &pb.CreateTokenRequest{}, &pb.ListTokensRequest{}}
	fastOnce := map[string]bool{}
	for _, body := range decodeBodies {
		for _, m := range msgs {
			checkDecode(t, m, []byte(body), fastOnce)
		}
	}
	for _, body := range []string{`{"secret":"tka_abc"}`, `{"zoo":"acme/priv","operation":"OPERATION_DOWNLOAD","secret":"s"}`} {
		if !fastOnce[body] {
			t.Errorf("decodeFlat left %s to protojson", body)
		}
	}
}

// checkDecode fails t when decodeFlat reads body into a message other than
// protojson's, or reads a body protojson refuses.
func checkDecode(t *testing.T, m proto.Message, body []byte, fast map[string]bool) {
	t.Helper()
	got := m.ProtoReflect().Type().New().Interface()
	if !decodeFlat(body, got) {
		if !proto.Equal(got, m.ProtoReflect().Type().New().Interface()) {
			t.Errorf("decodeFlat(%q) into %T gave up but changed the message: %v", body, m, got)
		}
		return
	}
	fast[string(body)] = true
	want := m.ProtoReflect().Type().New().Interface()
	if err := protojson.Unmarshal(body, want); err != nil {
		t.Errorf("decodeFlat(%q) into %T accepted a body protojson refuses: %v", body, m, err)
		return
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("decodeFlat(%q) into %T (-protojson +fast):\n%s", body, m, diff)
	}
}

func FuzzDecodeFlat(f *testing.F) {
	for _, b := range decodeBodies {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Count(body, "\"") > 64 {
			return
		}
		for _, m := range []proto.Message{&pb.ValidateTokenRequest{}, &pb.CheckAccessRequest{}, &pb.CreateTokenRequest{}} {
			checkDecode(t, m, []byte(body), map[string]bool{})
		}
	})
}
