package etcd_test

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
)

// layout1KV is one key of a fixture of the first etcd layout
// (testdata/README.md): the key without the prefix, its raw value and the
// revisions the old Store's cluster gave it.
type layout1KV struct {
	Key            string `json:"key"`
	KeyB64         []byte `json:"keyB64"`
	Value          []byte `json:"value"`
	CreateRevision int64  `json:"create_revision"`
	ModRevision    int64  `json:"mod_revision"`
}

// readLayout1 reads testdata/<file>, a fixture of the first etcd layout.
func readLayout1(t testing.TB, file string) []layout1KV {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var kvs []layout1KV
	if err := json.Unmarshal(data, &kvs); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for i := range kvs {
		if len(kvs[i].KeyB64) > 0 {
			kvs[i].Key = string(kvs[i].KeyB64)
		}
		if kvs[i].Key == "" || kvs[i].CreateRevision <= 0 || kvs[i].ModRevision < kvs[i].CreateRevision {
			t.Fatalf("%s: entry %d has key %q, revisions %d, %d", file, i, kvs[i].Key, kvs[i].CreateRevision, kvs[i].ModRevision)
		}
	}
	return kvs
}

// loadLayout1 puts every key of testdata/<file> under prefix, which must
// hold no key yet. It replays the old revisions in order, one transaction
// per old revision (a key is put at its create revision and again at its
// mod revision, with its final value both times), so the keys' create and
// mod revisions compare among themselves as they did in the old cluster:
// the first layout judges a token by the create revisions of its member
// and workspace keys.
func loadLayout1(t testing.TB, cli *clientv3.Client, prefix, file string) {
	t.Helper()
	kvs := readLayout1(t, file)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatalf("count keys under %s: %v", prefix, err)
	}
	if resp.Count != 0 {
		t.Fatalf("load %s: %s already holds %d keys", file, prefix, resp.Count)
	}
	byRev := map[int64][]clientv3.Op{}
	for _, kv := range kvs {
		op := clientv3.OpPut(prefix+kv.Key, string(kv.Value))
		byRev[kv.CreateRevision] = append(byRev[kv.CreateRevision], op)
		if kv.ModRevision != kv.CreateRevision {
			byRev[kv.ModRevision] = append(byRev[kv.ModRevision], op)
		}
	}
	revs := make([]int64, 0, len(byRev))
	for rev := range byRev {
		revs = append(revs, rev)
	}
	slices.Sort(revs)
	for _, rev := range revs {
		if _, err := cli.Txn(ctx).Then(byRev[rev]...).Commit(); err != nil {
			t.Fatalf("load %s: keys of old revision %d: %v", file, rev, err)
		}
	}
}

// layout1Family is the family of a key of the first layout: what comes
// before its first "/", or the whole key (schema_version, audit_head).
func layout1Family(key string) string {
	family, _, _ := strings.Cut(key, "/")
	return family
}

// readmeFamilies reads the key family table of testdata/README.md: for
// each fixture (a column header), how many keys each family holds.
func readmeFamilies(t testing.TB) map[string]map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string]map[string]int{}
	var header []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(strings.Trim(sc.Text(), "| "), " | ")
		switch {
		case len(cells) >= 3 && cells[0] == "key (after the prefix)":
			header = cells
		case header != nil && !strings.HasPrefix(sc.Text(), "|"):
			header = nil
		case header != nil && strings.HasPrefix(cells[0], "`"):
			family := layout1Family(strings.Trim(cells[0], "`"))
			for i, fixture := range header[1:] {
				if !strings.HasPrefix(fixture, "layout1-") {
					continue
				}
				n, err := strconv.Atoi(cells[i+1])
				if err != nil {
					t.Fatalf("README.md: family %s, %s: %v", family, fixture, err)
				}
				if out[fixture+".json"] == nil {
					out[fixture+".json"] = map[string]int{}
				}
				if n > 0 {
					out[fixture+".json"][family] += n
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLayout1FixturesLoad loads each fixture of the first layout into a
// cluster and checks it against testdata/README.md (key families and
// their counts, the tokens' states, the audit sequences), that the load
// kept the order of the old revisions, and that this build refuses the
// prefix as a store of the first layout.
func TestLayout1FixturesLoad(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{Members: 1})
	cli := c.Client(t)
	readme := readmeFamilies(t)
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		file string
		// audit is the first and last sequence kept; checkpoint the
		// sequence of the audit checkpoint (0: none).
		auditFirst, auditLast, checkpoint uint64
		// seedMarked: the event of the token created for a seed says so.
		seedMarked bool
	}{
		{"layout1-v0.1.0.json", 1, 17, 0, false},
		{"layout1-97144d1.json", 3, 17, 2, true},
	}
	if len(readme) != len(tests) {
		t.Fatalf("README.md's key family table names fixtures %v, want %d", readme, len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			prefix := "/layout1/" + strconv.Itoa(i) + "/"
			want := readLayout1(t, tt.file)
			loadLayout1(t, cli, prefix, tt.file)

			resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]layout1KV{}
			families := map[string]int{}
			for _, kv := range resp.Kvs {
				key := strings.TrimPrefix(string(kv.Key), prefix)
				got[key] = layout1KV{Key: key, Value: kv.Value, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision}
				families[layout1Family(key)]++
			}
			if len(got) != len(want) {
				t.Errorf("loaded %d keys, the fixture has %d", len(got), len(want))
			}
			for _, w := range want {
				if g, ok := got[w.Key]; !ok || string(g.Value) != string(w.Value) {
					t.Errorf("key %q: loaded %v (found %v), want the fixture's value", w.Key, g.Value, ok)
				}
			}
			// The loaded revisions compare among themselves as the old ones did.
			for _, a := range want {
				for _, b := range want {
					ga, gb := got[a.Key], got[b.Key]
					if cmp.Compare(ga.CreateRevision, gb.ModRevision) != cmp.Compare(a.CreateRevision, b.ModRevision) ||
						cmp.Compare(ga.CreateRevision, gb.CreateRevision) != cmp.Compare(a.CreateRevision, b.CreateRevision) ||
						cmp.Compare(ga.ModRevision, gb.ModRevision) != cmp.Compare(a.ModRevision, b.ModRevision) {
						t.Fatalf("revisions of %q and %q compare otherwise than in the fixture", a.Key, b.Key)
					}
				}
			}
			if len(families) == 0 || !maps.Equal(families, readme[tt.file]) {
				t.Errorf("key families = %v, README.md says %v", families, readme[tt.file])
			}

			checkLayout1Tokens(t, got, t0)
			checkLayout1Audit(t, got, tt.auditFirst, tt.auditLast, tt.checkpoint, tt.seedMarked)
		})
	}
}

// checkLayout1Tokens checks the tokens' states and indexes that
// testdata/README.md lists.
func checkLayout1Tokens(t *testing.T, got map[string]layout1KV, t0 time.Time) {
	t.Helper()
	token := func(id string) *pb.Token {
		t.Helper()
		var rec storagepb.TokenRecord
		if err := proto.Unmarshal(got["token/"+id].Value, &rec); err != nil {
			t.Fatalf("token %s: %v", id, err)
		}
		h := sha256.Sum256([]byte("secret-" + id))
		if string(rec.GetSecretHash()) != string(h[:]) || string(rec.GetSealedSecret()) != "sealed-"+id {
			t.Errorf("token %s: secret hash or sealed secret is not the fixture's", id)
		}
		if v := string(got["hash/"+hex.EncodeToString(h[:])].Value); v != id {
			t.Errorf("hash index of %s = %q", id, v)
		}
		tok := rec.GetToken()
		if v := string(got["wstoken/"+tok.GetWorkspaceId()+"\x00"+id].Value); v != tok.GetUserId() || v == "" {
			t.Errorf("wstoken of %s = %q, want its user %q", id, v, tok.GetUserId())
		}
		return tok
	}
	const p = "01jnqx00000000000000000"
	if tok := token(p + "pa1"); tok.GetRevokeTime() != nil || tok.GetDisabled() || !tok.GetCreateTime().AsTime().Equal(t0) {
		t.Errorf("pa1 = %v, want plain, created t0", tok)
	}
	if old, next := token(p+"r01"), token(p+"r02"); old.GetReplacedBy() != p+"r02" || next.GetReplaces() != p+"r01" ||
		!old.GetRevokeTime().AsTime().Equal(t0.Add(2*time.Minute+time.Hour)) {
		t.Errorf("r01 = %v, r02 = %v, want r01 rolled to r02 with 1h grace", old, next)
	}
	if tok := token(p + "rv1"); tok.GetRevokeReason() != pb.RevokeReason_REVOKE_REASON_ADMIN || !tok.GetRevokeTime().AsTime().Equal(t0.Add(4*time.Minute)) {
		t.Errorf("rv1 = %v, want revoked at t0+4m by an admin", tok)
	}
	if tok := token(p + "d01"); !tok.GetDisabled() {
		t.Errorf("d01 = %v, want disabled", tok)
	}
	if tok := token(p + "v01"); !tok.GetLastUsedTime().AsTime().Equal(t0.Add(8 * time.Minute)) {
		t.Errorf("v01 = %v, want last used t0+8m", tok)
	}
	token(p + "s01")
	seedHash := sha256.Sum256([]byte("seed-" + p + "s01"))
	var seed storagepb.SeedRecord
	if err := proto.Unmarshal(got["seed/"+hex.EncodeToString(seedHash[:])].Value, &seed); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if seed.GetTokenId() != p+"s01" || !seed.GetExpireTime().AsTime().Equal(t0.Add(19*time.Minute)) {
		t.Errorf("seed = %v, want token s01, expiring t0+19m", &seed)
	}
	if v := string(got["seedtok/"+p+"s01"].Value); v != hex.EncodeToString(seedHash[:]) {
		t.Errorf("seedtok/s01 = %q, want the seed's hex hash", v)
	}
}

// checkLayout1Audit checks the audit events kept, the head and the
// checkpoint.
func checkLayout1Audit(t *testing.T, got map[string]layout1KV, first, last, checkpoint uint64, seedMarked bool) {
	t.Helper()
	for seq := uint64(1); seq <= last; seq++ {
		kv, ok := got[fmt.Sprintf("audit/%020d", seq)]
		if ok != (seq >= first) {
			t.Errorf("audit event %d present %v, want events %d to %d", seq, ok, first, last)
			continue
		}
		if !ok {
			continue
		}
		var ev pb.AuditEvent
		if err := proto.Unmarshal(kv.Value, &ev); err != nil {
			t.Fatalf("audit event %d: %v", seq, err)
		}
		if ev.GetSequence() != seq || ev.GetActor() != "admin" || len(ev.GetHash()) != 32 {
			t.Errorf("audit event %d = %v", seq, &ev)
		}
		if seq == last && ev.GetCreatedForSeed() != seedMarked {
			t.Errorf("audit event %d created_for_seed = %v, want %v", seq, ev.GetCreatedForSeed(), seedMarked)
		}
	}
	head := got["audit_head"].Value
	if len(head) != 40 || binary.BigEndian.Uint64(head) != last {
		t.Errorf("audit_head = %x, want sequence %d and a hash", head, last)
	}
	cp, ok := got["audit_checkpoint"]
	if ok != (checkpoint > 0) || ok && (len(cp.Value) != 40 || binary.BigEndian.Uint64(cp.Value) != checkpoint) {
		t.Errorf("audit_checkpoint = %x (present %v), want sequence %d", cp.Value, ok, checkpoint)
	}
}
