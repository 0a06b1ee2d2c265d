package validindex

import (
	"sync"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// Member names one membership: a user of a workspace.
type Member struct{ WorkspaceID, UserID string }

// workspace is what the index keeps of a workspace: that it exists, and its
// token policy (nil: none).
type workspace struct{ policy *pb.TokenPolicy }

// Index is the validation index. It is safe for concurrent use: lookups
// share a read lock, Apply takes the write lock for one batch, so a lookup
// sees a batch wholly or not at all.
type Index struct {
	mu         sync.RWMutex
	tokens     map[[32]byte]*storagepb.TokenRecord
	members    map[Member]struct{}
	workspaces map[string]workspace
}

// New returns an empty index.
func New() *Index {
	return &Index{
		tokens:     map[[32]byte]*storagepb.TokenRecord{},
		members:    map[Member]struct{}{},
		workspaces: map[string]workspace{},
	}
}

// Lookup finds the token whose secret hashes to secretHash and reports
// whether its user is a member of its workspace and that workspace's token
// policy (nil: none, or the workspace is gone). ok is false when no token
// has that secret. The record is shared: never change it.
func (x *Index) Lookup(secretHash [32]byte) (rec *storagepb.TokenRecord, member bool, policy *pb.TokenPolicy, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	rec, ok = x.tokens[secretHash]
	if !ok {
		return nil, false, nil, false
	}
	t := rec.GetToken()
	_, member = x.members[Member{t.GetWorkspaceId(), t.GetUserId()}]
	return rec, member, x.workspaces[t.GetWorkspaceId()].policy, true
}

// Len is the number of tokens indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.tokens)
}

// Apply makes the batch's changes visible, all at once.
func (x *Index) Apply(b *Batch) {
	if b.Empty() {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for h, rec := range b.tokens {
		if rec == nil {
			delete(x.tokens, h)
		} else {
			x.tokens[h] = rec
		}
	}
	for m, present := range b.members {
		if present {
			x.members[m] = struct{}{}
		} else {
			delete(x.members, m)
		}
	}
	for id, ws := range b.workspaces {
		if ws == nil {
			delete(x.workspaces, id)
		} else {
			x.workspaces[id] = workspace{policy: ws.policy}
		}
	}
}

// Batch collects the changes of one commit, latest change of a key wins.
// The zero value is ready to use; a Batch is not safe for concurrent use.
type Batch struct {
	tokens     map[[32]byte]*storagepb.TokenRecord // nil: deleted
	members    map[Member]bool
	workspaces map[string]*workspace // nil: deleted
}

// Empty reports whether the batch changes nothing.
func (b *Batch) Empty() bool {
	return len(b.tokens) == 0 && len(b.members) == 0 && len(b.workspaces) == 0
}

// PutToken indexes rec under its secret hash. rec is kept and shared by
// lookups: the caller must not change it afterwards. A record whose secret
// hash is not 32 bytes is ignored (a store never writes one).
func (b *Batch) PutToken(rec *storagepb.TokenRecord) {
	if len(rec.GetSecretHash()) != 32 || rec.GetToken() == nil {
		return
	}
	if b.tokens == nil {
		b.tokens = map[[32]byte]*storagepb.TokenRecord{}
	}
	b.tokens[[32]byte(rec.GetSecretHash())] = rec
}

// DeleteToken removes the token with that secret hash.
func (b *Batch) DeleteToken(secretHash [32]byte) {
	if b.tokens == nil {
		b.tokens = map[[32]byte]*storagepb.TokenRecord{}
	}
	b.tokens[secretHash] = nil
}

// SetMember records that user is (present) or is no longer a member of
// workspaceID.
func (b *Batch) SetMember(workspaceID, userID string, present bool) {
	if b.members == nil {
		b.members = map[Member]bool{}
	}
	b.members[Member{workspaceID, userID}] = present
}

// PutWorkspace records that the workspace exists with token policy p (nil:
// none). p is kept: the caller must not change it afterwards.
func (b *Batch) PutWorkspace(id string, p *pb.TokenPolicy) {
	if b.workspaces == nil {
		b.workspaces = map[string]*workspace{}
	}
	b.workspaces[id] = &workspace{policy: p}
}

// DeleteWorkspace records that the workspace is gone.
func (b *Batch) DeleteWorkspace(id string) {
	if b.workspaces == nil {
		b.workspaces = map[string]*workspace{}
	}
	b.workspaces[id] = nil
}

// Load builds an index from what fill hands the Loader: every token,
// membership and workspace of a consistent snapshot. tokens is a size hint
// (0 when unknown).
func Load(tokens int, fill func(l *Loader) error) (*Index, error) {
	x := New()
	x.tokens = make(map[[32]byte]*storagepb.TokenRecord, tokens)
	if err := fill(&Loader{x: x}); err != nil {
		return nil, err
	}
	return x, nil
}

// Loader adds records to an index being loaded.
type Loader struct{ x *Index }

// Token indexes rec (see Batch.PutToken).
func (l *Loader) Token(rec *storagepb.TokenRecord) {
	if len(rec.GetSecretHash()) == 32 && rec.GetToken() != nil {
		l.x.tokens[[32]byte(rec.GetSecretHash())] = rec
	}
}

// Member records a membership.
func (l *Loader) Member(workspaceID, userID string) {
	l.x.members[Member{workspaceID, userID}] = struct{}{}
}

// Workspace records a workspace and its token policy (nil: none).
func (l *Loader) Workspace(id string, p *pb.TokenPolicy) {
	l.x.workspaces[id] = workspace{policy: p}
}
