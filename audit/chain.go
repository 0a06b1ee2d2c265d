package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// HashSize is the length of an event's hash and prev_hash.
const HashSize = sha256.Size

// Genesis is the prev_hash of the first event.
var Genesis = make([]byte, HashSize)

// domain starts every canonical encoding, so that an event's hash can never
// equal the hash of some other kind of record.
const domain = "tokenauthority.audit.v1\x00"

// Canonical returns the bytes an event's hash is computed over: every field
// but hash, in field order, fixed-width integers big-endian and every string
// or byte field prefixed by its length, so that no two different events
// share an encoding. The revoked token ids come last, as their count and
// then each id, and only when there are any: an event without them encodes
// exactly as before the field existed. created_for_seed, when set, adds one
// byte 1 after them: the ids parse to a fixed length, so a trailing byte can
// never be read as part of them, and an unmarked event encodes as before.
func Canonical(ev *pb.AuditEvent) []byte {
	b := make([]byte, 0, 128)
	b = append(b, domain...)
	b = binary.BigEndian.AppendUint64(b, ev.GetSequence())
	b = binary.BigEndian.AppendUint64(b, uint64(ev.GetTime().GetSeconds()))
	b = binary.BigEndian.AppendUint32(b, uint32(ev.GetTime().GetNanos()))
	for _, s := range []string{ev.GetActor(), ev.GetAction(), ev.GetWorkspaceId(), ev.GetTarget(), ev.GetClientAddress()} {
		b = appendBytes(b, []byte(s))
	}
	b = appendBytes(b, ev.GetPrevHash())
	if ids := ev.GetRevokedTokenIds(); len(ids) > 0 {
		b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
		for _, id := range ids {
			b = appendBytes(b, []byte(id))
		}
	}
	if ev.GetCreatedForSeed() {
		b = append(b, 1)
	}
	return b
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Hash is the SHA-256 of ev's canonical encoding.
func Hash(ev *pb.AuditEvent) []byte {
	h := sha256.Sum256(Canonical(ev))
	return h[:]
}

// Seal puts ev on the chain after the event with sequence prevSeq and hash
// prevHash (0 and Genesis for the first event): it assigns ev's sequence,
// prev_hash and hash.
func Seal(ev *pb.AuditEvent, prevSeq uint64, prevHash []byte) {
	ev.Sequence = prevSeq + 1
	ev.PrevHash = bytes.Clone(prevHash)
	ev.Hash = Hash(ev)
}

// Result is the outcome of checking a chain.
type Result struct {
	// OK is true when every event is present, in order and unmodified.
	OK bool
	// Checked counts the events read.
	Checked uint64
	// FirstBroken is the sequence of the first event that is missing, out
	// of place or modified; 0 when OK.
	FirstBroken uint64
	// Checkpoint is the sequence of the newest event a retention sweep
	// removed, from which the chain was checked; 0 when none was removed.
	Checkpoint uint64
	// Chain names the chain FirstBroken is in, for a log of several
	// chains (one per workspace): the workspace's id, or a description.
	Chain string
}

// Verifier checks a chain fed to it in stored order. The zero value is
// ready to check a chain from its first event; Start makes it check one
// from a retention checkpoint.
type Verifier struct {
	last     uint64
	lastHash []byte
	checked  uint64
	broken   uint64
	start    uint64
}

// Start makes v check a chain whose events up to sequence seq were removed
// by a retention sweep, which recorded seq and the hash of that event as
// the checkpoint: the first event fed must be seq+1 and name hash as its
// prev_hash, so that a checkpoint edited, or kept events deleted from the
// front, break the chain. Call it before Add.
func (v *Verifier) Start(seq uint64, hash []byte) {
	v.last, v.lastHash, v.start = seq, bytes.Clone(hash), seq
}

// StartBroken is Start for a checkpoint that cannot be read: the chain is
// broken at its first event.
func (v *Verifier) StartBroken() {
	if v.broken == 0 {
		v.broken = 1
	}
}

// Add checks the next stored event.
func (v *Verifier) Add(ev *pb.AuditEvent) {
	v.checked++
	if v.broken != 0 {
		return
	}
	want := v.last + 1
	switch {
	case ev.GetSequence() != want:
		// A missing or moved event: the one expected here is gone.
		v.broken = want
	case !bytes.Equal(ev.GetPrevHash(), v.prevHash()):
		v.broken = want
	case !bytes.Equal(Hash(ev), ev.GetHash()):
		v.broken = want
	default:
		v.last, v.lastHash = want, ev.GetHash()
	}
}

// AddUnreadable counts a stored event that cannot be decoded.
func (v *Verifier) AddUnreadable() {
	v.checked++
	if v.broken == 0 {
		v.broken = v.last + 1
	}
}

// End checks the chain's end against the head the store recorded with its
// newest event (0 and nil when it recorded none), which catches the newest
// events cut off, and returns the result.
func (v *Verifier) End(headSeq uint64, headHash []byte) Result {
	if v.broken == 0 {
		switch {
		case headSeq > v.last:
			v.broken = v.last + 1
		case headSeq < v.last:
			// Events beyond the head: the head itself was rolled back.
			v.broken = headSeq + 1
		case !bytes.Equal(headHash, v.lastHash):
			v.broken = max(headSeq, 1)
		}
	}
	return Result{OK: v.broken == 0, Checked: v.checked, FirstBroken: v.broken, Checkpoint: v.start}
}

// Broken is the sequence of the first event found missing, out of place or
// modified so far; 0 when none.
func (v *Verifier) Broken() uint64 { return v.broken }

// Last is the sequence and hash of the last event that checked out (the
// checkpoint's, or 0 and nil, when none has yet).
func (v *Verifier) Last() (uint64, []byte) { return v.last, v.lastHash }

func (v *Verifier) prevHash() []byte {
	if v.last == 0 && v.lastHash == nil {
		return Genesis
	}
	return v.lastHash
}
