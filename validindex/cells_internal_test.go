package validindex

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// TestCellsAgainstMaps applies random batches of token, membership and
// workspace changes to an index, and to plain maps that say what each
// lookup should answer, and checks after every batch that every token's
// lookup gives its membership and its workspace's policy as the maps do,
// that a cell lives exactly while a token refers to it or it holds a
// membership or an existing workspace, and that numbers of freed cells
// are reused. Then it removes everything and checks that no cell is left.
func TestCellsAgainstMaps(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	workspaces := []string{"acme", "beta", "core", "dune"}
	users := []string{"ann", "bob", "cid"}
	policies := map[string]*pb.TokenPolicy{}
	for i, ws := range workspaces {
		policies[ws] = &pb.TokenPolicy{MaxLifetime: durationpb.New(time.Duration(i+1) * time.Hour)}
	}
	type tok struct{ ws, user string }
	var (
		tokens  = map[[32]byte]tok{}
		members = map[Member]bool{}
		spaces  = map[string]*pb.TokenPolicy{} // present: exists; value: its policy
	)
	x := New()
	for round := range 300 {
		var b Batch
		for range 1 + r.IntN(8) {
			ws, user := workspaces[r.IntN(len(workspaces))], users[r.IntN(len(users))]
			switch r.IntN(6) {
			case 0, 1: // a new token, or a token replaced (its owner may change)
				h := sha256.Sum256(fmt.Appendf(nil, "t%d", r.IntN(40)))
				b.PutToken(&storagepb.TokenRecord{Token: &pb.Token{TokenId: fmt.Sprint(h[0]), WorkspaceId: ws, UserId: user}, SecretHash: h[:]})
				tokens[h] = tok{ws, user}
			case 2:
				h := sha256.Sum256(fmt.Appendf(nil, "t%d", r.IntN(40)))
				b.DeleteToken(h)
				delete(tokens, h)
			case 3:
				present := r.IntN(2) == 0
				b.SetMember(ws, user, present)
				if present {
					members[Member{ws, user}] = true
				} else {
					delete(members, Member{ws, user})
				}
			case 4:
				p := policies[ws]
				if r.IntN(2) == 0 {
					p = nil
				}
				b.PutWorkspace(ws, p)
				spaces[ws] = p
			case 5:
				b.DeleteWorkspace(ws)
				delete(spaces, ws)
			}
		}
		x.Apply(&b)
		if x.Len() != len(tokens) {
			t.Fatalf("round %d: %d tokens indexed, want %d", round, x.Len(), len(tokens))
		}
		for h, tk := range tokens {
			rec, member, policy, ok := x.Lookup(h)
			if !ok {
				t.Fatalf("round %d: token %x of %s/%s not found", round, h[:4], tk.ws, tk.user)
			}
			if got := rec.GetToken(); got.GetWorkspaceId() != tk.ws || got.GetUserId() != tk.user {
				t.Fatalf("round %d: token %x is %s/%s, want %s/%s", round, h[:4], got.GetWorkspaceId(), got.GetUserId(), tk.ws, tk.user)
			}
			_, exists := spaces[tk.ws]
			if want := members[Member{tk.ws, tk.user}] && exists; member != want {
				t.Fatalf("round %d: token of %s/%s: member %v, want %v", round, tk.ws, tk.user, member, want)
			}
			if want := spaces[tk.ws]; policy != want {
				t.Fatalf("round %d: token of %s/%s: policy %v, want %v", round, tk.ws, tk.user, policy, want)
			}
		}
		// Every cell is needed: by a token, a membership or a workspace.
		for m, i := range x.cells.pairs.of {
			if x.cells.pairs.cells[i].tokens == 0 && !members[m] {
				t.Fatalf("round %d: the cell of %v is kept with nothing needing it", round, m)
			}
		}
		for id, i := range x.cells.spaces.of {
			if _, exists := spaces[id]; x.cells.spaces.cells[i].tokens == 0 && !exists {
				t.Fatalf("round %d: the cell of workspace %s is kept with nothing needing it", round, id)
			}
		}
		if n := len(users) * len(workspaces); len(x.cells.pairs.cells) > n || len(x.cells.spaces.cells) > len(workspaces) {
			t.Fatalf("round %d: %d pair cells and %d workspace cells for %d pairs and %d workspaces: freed cells are not reused",
				round, len(x.cells.pairs.cells), len(x.cells.spaces.cells), n, len(workspaces))
		}
	}

	var b Batch
	for h := range tokens {
		b.DeleteToken(h)
	}
	for m := range members {
		b.SetMember(m.WorkspaceID, m.UserID, false)
	}
	for id := range spaces {
		b.DeleteWorkspace(id)
	}
	x.Apply(&b)
	if len(x.cells.pairs.of) != 0 || len(x.cells.spaces.of) != 0 || x.Len() != 0 {
		t.Fatalf("with everything removed, %d pair cells, %d workspace cells and %d tokens are left", len(x.cells.pairs.of), len(x.cells.spaces.of), x.Len())
	}
}
