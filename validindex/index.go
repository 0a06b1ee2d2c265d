package validindex

import (
	"errors"
	"sync"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// Member names one membership: a user of a workspace.
type Member struct{ WorkspaceID, UserID string }

// zooKey names one zoo.
type zooKey struct{ workspaceID, zooID string }

// Index is the validation index. It is safe for concurrent use: lookups
// share a read lock, Apply takes the write lock for one batch, so a lookup
// sees a batch wholly or not at all.
//
// Each token is kept as the protobuf encoding of its pb.Token in a table
// of its own (see table), followed by the numbers of its membership's and
// its workspace's cells (see cells), and decoded at lookup.
type Index struct {
	mu     sync.RWMutex
	tokens *table
	cells  cells
	zoos   map[zooKey]*pb.Zoo
	// For writers, under the write lock: the record being built, and the
	// token whose workspace and user they read (reset after each use).
	rec []byte
	dec decoded
}

// New returns an empty index.
func New() *Index {
	return &Index{tokens: newTable(0), cells: newCells(), zoos: map[zooKey]*pb.Zoo{}}
}

// Lookup finds the token whose secret hashes to secretHash and reports
// whether its user is a member of its workspace (never of one that is
// gone) and that workspace's token policy (nil: none, or the workspace is
// gone). ok is false when no token
// has that secret. The record holds the token and the secret hash, not the
// sealed secret; it and its token are the caller's own, new on every
// lookup (one allocation), and may be changed; their strings share the
// index's memory, which is never changed. The policy is shared: never
// change it.
func (x *Index) Lookup(secretHash [32]byte) (rec *storagepb.TokenRecord, member bool, policy *pb.TokenPolicy, ok bool) {
	d := new(decoded)
	if !x.lookupInto(secretHash, d) {
		return nil, false, nil, false
	}
	return &d.rec, d.member, d.policy, true
}

// LookupInto is Lookup decoding into rec, an ordinary record the caller
// owns and may reuse from one lookup to the next, so that a caller reusing
// one allocates nothing. On a hit it overwrites rec, its token and what the
// token points to: the token's timestamps and the backing arrays of its
// scopes are reused (a timestamp rec's token lacks is allocated), so the
// caller must not have handed them on; a token without scopes comes with
// empty scope slices that keep the arrays. On a miss rec is left as it was.
// The strings share the index's memory, which is never changed.
func (x *Index) LookupInto(secretHash [32]byte, rec *storagepb.TokenRecord) (member bool, policy *pb.TokenPolicy, ok bool) {
	t := rec.GetToken()
	if t == nil {
		t = new(pb.Token)
	}
	ts := [4]*timestamppb.Timestamp{t.CreateTime, t.ExpireTime, t.RevokeTime, t.LastUsedTime}
	ops, zoos := t.Operations[:0], t.Zoos[:0]
	x.mu.RLock()
	r, _, ok := x.tokens.get(&secretHash)
	if !ok {
		x.mu.RUnlock()
		return false, nil, false
	}
	enc, p, s := splitRefs(r)
	member, policy = x.cells.verdict(p, s)
	*t = pb.Token{}
	if !fastInto(t, enc, &ts, ops, zoos) {
		*t = pb.Token{}
		unmarshalToken(enc, t)
	} else {
		// A token without scopes keeps the empty arrays (no scope either
		// way), for the next token that has some.
		if t.Operations == nil {
			t.Operations = ops[:0:cap(ops)]
		}
		if t.Zoos == nil {
			t.Zoos = zoos[:0:cap(zoos)]
		}
	}
	x.mu.RUnlock()
	*rec = storagepb.TokenRecord{Token: t, SecretHash: append(rec.SecretHash[:0], secretHash[:]...)}
	return member, policy, true
}

// Has reports whether a token's secret hashes to secretHash, decoding
// nothing.
func (x *Index) Has(secretHash [32]byte) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, _, ok := x.tokens.get(&secretHash)
	return ok
}

// lookupInto is Lookup decoding into d, which it overwrites.
func (x *Index) lookupInto(secretHash [32]byte, d *decoded) bool {
	x.mu.RLock()
	r, seen, ok := x.tokens.get(&secretHash)
	if !ok {
		x.mu.RUnlock()
		return false
	}
	enc, p, s := splitRefs(r)
	d.reset()
	d.member, d.policy = x.cells.verdict(p, s)
	d.seen = seen
	d.decode(enc)
	x.mu.RUnlock()
	d.hash = secretHash
	d.rec.Token = &d.tok
	d.rec.SecretHash = d.hash[:]
	return true
}

// Zoo returns the zoo, or false when it does not exist. The zoo is
// shared: never change it.
func (x *Index) Zoo(workspaceID, zooID string) (*pb.Zoo, bool) {
	x.mu.RLock()
	z, ok := x.zoos[zooKey{workspaceID, zooID}]
	x.mu.RUnlock()
	return z, ok
}

// Each calls f with every indexed token and its workspace's token policy,
// under the read lock (writers wait until it returns). The token is decoded
// into one value reused between calls: f must not keep it or change it.
func (x *Index) Each(f func(t *pb.Token, policy *pb.TokenPolicy)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var d decoded
	x.tokens.each(func(rec string) {
		enc, _, s := splitRefs(rec)
		d.reset()
		d.decode(enc)
		f(&d.tok, x.cells.spaces.cells[s].policy)
	})
}

// Workspaces is the number of workspaces indexed.
func (x *Index) Workspaces() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.cells.existing
}

// Len is the number of tokens indexed.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.tokens.live
}

// Bytes is about how much memory the index's tokens take: their records'
// chunks (also dropped ones something still references), the slots, and
// the membership and workspace cells. Only the
// workspace cells hold pointers: the garbage collector marks the rest
// without scanning it.
func (x *Index) Bytes() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := int64(len(x.tokens.slots))*8 + int64(cap(x.cells.pairs.cells))*int64(unsafe.Sizeof(pairCell{})) +
		int64(cap(x.cells.spaces.cells))*int64(unsafe.Sizeof(spaceCell{}))
	for _, c := range x.tokens.chunks {
		n += int64(cap(c.mem))
	}
	return n + x.tokens.retainedBytes()
}

// Apply makes the batch's changes visible, all at once.
func (x *Index) Apply(b *Batch) {
	if b.Empty() {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for h, e := range b.tokens {
		if !e.present {
			x.deleteToken(&h)
		} else {
			x.putToken(&h, e.enc)
		}
	}
	x.tokens.compact()
	for m, present := range b.members {
		x.cells.setMember(m, present)
	}
	for id, ws := range b.workspaces {
		if ws == nil {
			x.cells.setWorkspace(id, nil, false)
		} else {
			x.cells.setWorkspace(id, ws.policy, true)
		}
	}
	for k, z := range b.zoos {
		if z == nil {
			delete(x.zoos, k)
		} else {
			x.zoos[k] = z
		}
	}
}

// putToken stores a token's encoding under h, with the numbers of its
// cells, in place of what h held. The caller holds the write lock.
func (x *Index) putToken(h *[32]byte, enc []byte) {
	x.dec.reset()
	x.dec.decode(unsafe.String(unsafe.SliceData(enc), len(enc)))
	x.rec = x.cells.appendRefs(append(x.rec[:0], enc...), x.dec.tok.WorkspaceId, x.dec.tok.UserId)
	x.dec = decoded{}
	if old, replaced := x.tokens.put(h, x.rec); replaced {
		x.releaseRecord(old)
	}
}

// deleteToken removes h's token. The caller holds the write lock.
func (x *Index) deleteToken(h *[32]byte) {
	if old, ok := x.tokens.delete(h); ok {
		x.releaseRecord(old)
	}
}

// releaseRecord drops the references of a record that left the table to
// its cells.
func (x *Index) releaseRecord(rec string) {
	enc, p, s := splitRefs(rec)
	x.dec.decode(enc)
	x.cells.release(x.dec.tok.WorkspaceId, x.dec.tok.UserId, p, s)
	// Its strings point into a chunk that compaction may drop.
	x.dec = decoded{}
}

// workspace is a Batch's change of a workspace: its token policy (nil:
// none).
type workspace struct{ policy *pb.TokenPolicy }

// tokenChange is a Batch's change of one token: its encoding, or a delete.
type tokenChange struct {
	enc     []byte
	present bool
}

// Batch collects the changes of one commit, latest change of a key wins.
// The zero value is ready to use; a Batch is not safe for concurrent use.
type Batch struct {
	tokens     map[[32]byte]tokenChange
	members    map[Member]bool
	workspaces map[string]*workspace // nil: deleted
	zoos       map[zooKey]*pb.Zoo    // nil: deleted
}

// Empty reports whether the batch changes nothing.
func (b *Batch) Empty() bool {
	return len(b.tokens) == 0 && len(b.members) == 0 && len(b.workspaces) == 0 && len(b.zoos) == 0
}

func (b *Batch) setToken(h [32]byte, c tokenChange) {
	if b.tokens == nil {
		b.tokens = map[[32]byte]tokenChange{}
	}
	b.tokens[h] = c
}

// PutToken indexes rec's token under its secret hash (the sealed secret is
// not kept). A record whose secret hash is not 32 bytes, or without a
// token, is ignored (a store never writes one).
func (b *Batch) PutToken(rec *storagepb.TokenRecord) {
	if len(rec.GetSecretHash()) != 32 || rec.GetToken() == nil {
		return
	}
	enc, err := proto.Marshal(rec.GetToken())
	if err != nil {
		return
	}
	b.setToken([32]byte(rec.GetSecretHash()), tokenChange{enc: enc, present: true})
}

// PutEncoded indexes the token of a stored record given in its protobuf
// encoding (a storagepb.TokenRecord), without decoding it. It returns the
// record's secret hash, and an error when the encoding is broken or has no
// token or no 32-byte secret hash.
func (b *Batch) PutEncoded(record []byte) ([32]byte, error) {
	h, tok, err := splitRecord(record)
	if err != nil {
		return h, err
	}
	// record is the caller's: the batch keeps a copy until Apply.
	b.setToken(h, tokenChange{enc: append([]byte(nil), tok...), present: true})
	return h, nil
}

// DeleteToken removes the token with that secret hash.
func (b *Batch) DeleteToken(secretHash [32]byte) {
	b.setToken(secretHash, tokenChange{})
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

// PutZoo records the zoo (z is kept: the caller must not change it
// afterwards), DeleteZoo that it is gone.
func (b *Batch) PutZoo(workspaceID, zooID string, z *pb.Zoo) { b.setZoo(workspaceID, zooID, z) }

// DeleteZoo records that the zoo is gone.
func (b *Batch) DeleteZoo(workspaceID, zooID string) { b.setZoo(workspaceID, zooID, nil) }

func (b *Batch) setZoo(workspaceID, zooID string, z *pb.Zoo) {
	if b.zoos == nil {
		b.zoos = map[zooKey]*pb.Zoo{}
	}
	b.zoos[zooKey{workspaceID, zooID}] = z
}

// Load builds an index from what fill hands the Loader: every token,
// membership and workspace of a consistent snapshot. tokens is a size hint
// (0 when unknown).
func Load(tokens int, fill func(l *Loader) error) (*Index, error) {
	x := New()
	x.tokens = newTable(tokens)
	if err := fill(&Loader{x: x}); err != nil {
		return nil, err
	}
	return x, nil
}

// Loader adds records to an index being loaded.
type Loader struct{ x *Index }

// Token indexes rec (see Batch.PutToken).
func (l *Loader) Token(rec *storagepb.TokenRecord) {
	if len(rec.GetSecretHash()) != 32 || rec.GetToken() == nil {
		return
	}
	enc, err := proto.Marshal(rec.GetToken())
	if err != nil {
		return
	}
	l.x.putToken((*[32]byte)(rec.GetSecretHash()), enc)
}

// Encoded indexes a stored record given in its protobuf encoding (see
// Batch.PutEncoded).
func (l *Loader) Encoded(record []byte) error {
	h, tok, err := splitRecord(record)
	if err != nil {
		return err
	}
	l.x.putToken(&h, tok)
	return nil
}

// Member records a membership.
func (l *Loader) Member(workspaceID, userID string) {
	l.x.cells.setMember(Member{workspaceID, userID}, true)
}

// Workspace records a workspace and its token policy (nil: none).
func (l *Loader) Workspace(id string, p *pb.TokenPolicy) {
	l.x.cells.setWorkspace(id, p, true)
}

// Zoo records a zoo (kept: the caller must not change it afterwards).
func (l *Loader) Zoo(workspaceID, zooID string, z *pb.Zoo) {
	l.x.zoos[zooKey{workspaceID, zooID}] = z
}

// Field numbers of storagepb.TokenRecord.
const (
	recordToken      = 1
	recordSecretHash = 2
)

var errRecord = errors.New("token record: broken encoding, or no token or no 32-byte secret hash")

// splitRecord returns the secret hash and the token's encoding of an
// encoded storagepb.TokenRecord (the last occurrence of each field wins, as
// when decoding; a token split over several occurrences is refused).
func splitRecord(b []byte) (hash [32]byte, token []byte, err error) {
	var haveHash, haveToken, tokens int
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return hash, nil, errRecord
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == recordToken || num == recordSecretHash) {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return hash, nil, errRecord
			}
			b = b[m:]
			if num == recordToken {
				token, haveToken = v, 1
				tokens++
			} else {
				if len(v) != 32 {
					return hash, nil, errRecord
				}
				hash, haveHash = [32]byte(v), 1
			}
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return hash, nil, errRecord
		}
		b = b[m:]
	}
	if haveHash == 0 || haveToken == 0 || tokens > 1 {
		return hash, nil, errRecord
	}
	return hash, token, nil
}
