package audit_test

import (
	"encoding/hex"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 500_000_000, time.UTC)

func golden() *pb.AuditEvent {
	return &pb.AuditEvent{
		Sequence:      1,
		Time:          timestamppb.New(t0),
		Actor:         "web",
		Action:        "token.create",
		WorkspaceId:   "acme",
		Target:        "01jdz8m4y2q0x7c5n3v1b9k6hf",
		ClientAddress: "127.0.0.1:5000",
		PrevHash:      audit.Genesis,
	}
}

// TestHashGolden pins the canonical encoding: the hash was computed
// independently (Python struct and hashlib), so a change to the encoding,
// which would break every stored chain, fails here.
func TestHashGolden(t *testing.T) {
	t.Parallel()
	const want = "6e1b597c88142421c75aad31f974b8a9c830675235b9aeed9f84b56d85c92c1d"
	if got := hex.EncodeToString(audit.Hash(golden())); got != want {
		t.Errorf("Hash(golden) = %s, want %s", got, want)
	}
}

// TestHashCoversEveryField changes each field in turn, including moving
// bytes from one string field to the next, which a plain concatenation would
// not notice.
func TestHashCoversEveryField(t *testing.T) {
	t.Parallel()
	base := audit.Hash(golden())
	tests := []struct {
		name   string
		change func(*pb.AuditEvent)
	}{
		{"sequence", func(e *pb.AuditEvent) { e.Sequence = 2 }},
		{"seconds", func(e *pb.AuditEvent) { e.Time.Seconds++ }},
		{"nanos", func(e *pb.AuditEvent) { e.Time.Nanos++ }},
		{"actor", func(e *pb.AuditEvent) { e.Actor = "wex" }},
		{"action", func(e *pb.AuditEvent) { e.Action = "token.revoke" }},
		{"workspace", func(e *pb.AuditEvent) { e.WorkspaceId = "acmf" }},
		{"target", func(e *pb.AuditEvent) { e.Target = "01jdz8m4y2q0x7c5n3v1b9k6hg" }},
		{"client address", func(e *pb.AuditEvent) { e.ClientAddress = "127.0.0.1:5001" }},
		{"prev hash", func(e *pb.AuditEvent) { e.PrevHash = append([]byte{1}, e.PrevHash[1:]...) }},
		{"bytes moved between fields", func(e *pb.AuditEvent) { e.Actor, e.Action = "webt", "oken.create" }},
		{"empty actor", func(e *pb.AuditEvent) { e.Actor = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := golden()
			tt.change(ev)
			if got := audit.Hash(ev); string(got) == string(base) {
				t.Errorf("changing %s left the hash unchanged", tt.name)
			}
		})
	}
	ev := golden()
	ev.Hash = []byte("ignored")
	if got := audit.Hash(ev); string(got) != string(base) {
		t.Error("the hash field itself changed the hash")
	}
}

// TestHashOfRevokedTokenIDs pins the encoding of the revoked token ids
// (computed independently, like TestHashGolden) and checks that adding,
// changing, reordering or re-splitting them changes the hash.
func TestHashOfRevokedTokenIDs(t *testing.T) {
	t.Parallel()
	batch := func() *pb.AuditEvent {
		ev := golden()
		ev.Action, ev.Target = "token.batch_revoke", "acme"
		ev.RevokedTokenIds = []string{"01jdz8m4y2q0x7c5n3v1b9k6hf", "01jdz8m4y2q0x7c5n3v1b9k6hg"}
		return ev
	}
	const want = "f243c5da97d99ce59f9bcebf657a98a3e0d74d50c122a8e3f5beeb121576fdfa"
	base := audit.Hash(batch())
	if got := hex.EncodeToString(base); got != want {
		t.Errorf("Hash(batch) = %s, want %s", got, want)
	}
	tests := []struct {
		name   string
		change func(*pb.AuditEvent)
	}{
		{"none", func(e *pb.AuditEvent) { e.RevokedTokenIds = nil }},
		{"one more", func(e *pb.AuditEvent) { e.RevokedTokenIds = append(e.RevokedTokenIds, "x") }},
		{"one changed", func(e *pb.AuditEvent) { e.RevokedTokenIds[1] = "01jdz8m4y2q0x7c5n3v1b9k6hh" }},
		{"reordered", func(e *pb.AuditEvent) {
			e.RevokedTokenIds[0], e.RevokedTokenIds[1] = e.RevokedTokenIds[1], e.RevokedTokenIds[0]
		}},
		{"split differently", func(e *pb.AuditEvent) {
			e.RevokedTokenIds = []string{"01jdz8m4y2q0x7c5n3v1b9k6hf0", "1jdz8m4y2q0x7c5n3v1b9k6hg"}
		}},
	}
	for _, tt := range tests {
		ev := batch()
		tt.change(ev)
		if string(audit.Hash(ev)) == string(base) {
			t.Errorf("%s: the hash did not change", tt.name)
		}
	}
	// No ids encode as before the field existed: stored chains stay valid.
	ev := golden()
	ev.RevokedTokenIds = []string{}
	if string(audit.Hash(ev)) != string(audit.Hash(golden())) {
		t.Error("an empty list of revoked ids changed the hash")
	}
}

// TestHashOfCreatedForSeed pins the seed mark's encoding (computed
// independently, like TestHashGolden): a marked event hashes differently,
// and an unmarked one exactly as before the field existed.
func TestHashOfCreatedForSeed(t *testing.T) {
	t.Parallel()
	ev := golden()
	ev.CreatedForSeed = true
	const want = "5871c9b3572ab9c218b696e322dff680f6c097a5ef9da9ce502834e6fa76c7ba"
	if got := hex.EncodeToString(audit.Hash(ev)); got != want {
		t.Errorf("Hash(golden marked for a seed) = %s, want %s", got, want)
	}
	both := golden()
	both.CreatedForSeed = true
	both.RevokedTokenIds = []string{"01jdz8m4y2q0x7c5n3v1b9k6hf"}
	ids := golden()
	ids.RevokedTokenIds = []string{"01jdz8m4y2q0x7c5n3v1b9k6hf"}
	if string(audit.Hash(both)) == string(audit.Hash(ids)) {
		t.Error("the seed mark beside revoked ids left the hash unchanged")
	}
}

// chain builds n sealed events.
func chain(n int) []*pb.AuditEvent {
	var out []*pb.AuditEvent
	prev := audit.Genesis
	for i := range n {
		ev := golden()
		ev.Time = timestamppb.New(t0.Add(time.Duration(i) * time.Second))
		ev.Target = "t" + string(rune('a'+i))
		audit.Seal(ev, uint64(i), prev)
		prev = ev.Hash
		out = append(out, ev)
	}
	return out
}

func TestVerifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// tamper edits a chain of 5 and returns it with the head the store
		// would hold.
		tamper      func(evs []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte)
		wantBroken  uint64
		wantChecked uint64
	}{
		{"intact", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) { return e, 5, e[4].Hash }, 0, 5},
		{"empty", func([]*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) { return nil, 0, nil }, 0, 0},
		{"field edited", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) {
			e[2].Actor = "someone-else"
			return e, 5, e[4].Hash
		}, 3, 5},
		{"field edited and its hash recomputed", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) {
			e[2].Action = "token.create"
			e[2].Target = "other"
			e[2].Hash = audit.Hash(e[2])
			return e, 5, e[4].Hash
		}, 4, 5},
		{"first event edited", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) {
			e[0].ClientAddress = "10.0.0.1:1"
			return e, 5, e[4].Hash
		}, 1, 5},
		{"event deleted", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) {
			return append(e[:1], e[2:]...), 5, e[4].Hash
		}, 2, 4},
		{"events reordered", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) {
			e[1], e[2] = e[2], e[1]
			return e, 5, e[4].Hash
		}, 2, 5},
		{"renumbered after a deletion", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) {
			e = append(e[:1], e[2:]...)
			for i, ev := range e {
				ev.Sequence = uint64(i + 1)
			}
			return e, 4, e[3].Hash
		}, 2, 4},
		{"newest cut off", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) { return e[:3], 5, e[4].Hash }, 4, 3},
		{"newest cut off and head rolled back", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) { return e, 3, e[2].Hash }, 4, 5},
		{"head hash differs", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) { return e, 5, e[3].Hash }, 5, 5},
		{"head missing", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) { return e, 0, nil }, 1, 5},
		{"all deleted, head kept", func(e []*pb.AuditEvent) ([]*pb.AuditEvent, uint64, []byte) { return nil, 5, e[4].Hash }, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs, headSeq, headHash := tt.tamper(chain(5))
			var v audit.Verifier
			for _, ev := range evs {
				v.Add(proto.CloneOf(ev))
			}
			got := v.End(headSeq, headHash)
			want := audit.Result{OK: tt.wantBroken == 0, Checked: tt.wantChecked, FirstBroken: tt.wantBroken}
			if got != want {
				t.Errorf("result = %+v, want %+v", got, want)
			}
		})
	}
}

func TestVerifierUnreadable(t *testing.T) {
	t.Parallel()
	evs := chain(3)
	var v audit.Verifier
	v.Add(evs[0])
	v.AddUnreadable()
	v.Add(evs[2])
	want := audit.Result{Checked: 3, FirstBroken: 2}
	if got := v.End(3, evs[2].Hash); got != want {
		t.Errorf("result = %+v, want %+v", got, want)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	ev := golden() // web, token.create, acme, at t0
	tests := []struct {
		name string
		f    audit.Filter
		want bool
	}{
		{"zero", audit.Filter{}, true},
		{"workspace", audit.Filter{WorkspaceID: "acme"}, true},
		{"other workspace", audit.Filter{WorkspaceID: "acm"}, false},
		{"actor", audit.Filter{Actor: "web"}, true},
		{"other actor", audit.Filter{Actor: "we"}, false},
		{"action", audit.Filter{Action: "token.create"}, true},
		{"other action", audit.Filter{Action: "token.reveal"}, false},
		{"start at the event", audit.Filter{Start: t0}, true},
		{"start after", audit.Filter{Start: t0.Add(time.Nanosecond)}, false},
		{"end after", audit.Filter{End: t0.Add(time.Nanosecond)}, true},
		{"end at the event (exclusive)", audit.Filter{End: t0}, false},
		{"all match", audit.Filter{WorkspaceID: "acme", Actor: "web", Action: "token.create", Start: t0, End: t0.Add(time.Second)}, true},
		{"all but one match", audit.Filter{WorkspaceID: "acme", Actor: "web", Action: "token.revoke", Start: t0, End: t0.Add(time.Second)}, false},
	}
	for _, tt := range tests {
		if got := tt.f.Match(ev); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPending(t *testing.T) {
	t.Parallel()
	var none *audit.Pending
	none.SetTarget("w", "x")
	none.SetActor("a")
	none.Done(golden())
	if none.Draft() != nil || none.Recorded() != nil {
		t.Error("a nil Pending has an event")
	}
	ctx, p := audit.NewContext(t.Context(), golden())
	if audit.FromContext(ctx) != p {
		t.Fatal("FromContext does not return the Pending of NewContext")
	}
	p.SetTarget("", "new-target")
	p.SetActor("token:abc")
	d := p.Draft()
	if d.GetTarget() != "new-target" || d.GetWorkspaceId() != "acme" || d.GetActor() != "token:abc" {
		t.Errorf("draft = %v; want target, actor set and workspace kept", d)
	}
	d.Actor = "edited copy"
	if p.Draft().GetActor() != "token:abc" {
		t.Error("editing a draft changed the pending event")
	}
	p.Done(d)
	if p.Draft() != nil || p.Recorded() != d {
		t.Error("after Done, Draft is not nil or Recorded is not the event")
	}
	if audit.FromContext(audit.Without(ctx)).Draft() != nil {
		t.Error("Without still carries the event")
	}
}
