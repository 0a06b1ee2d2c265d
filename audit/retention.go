package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// CheckpointSize is the length of a stored checkpoint: a sequence
// (big-endian) and the hash of that event.
const CheckpointSize = 8 + HashSize

// ErrBroken fails a retention sweep that met a broken chain: it removes
// nothing from there on, so that the evidence stays for VerifyAuditLog.
var ErrBroken = errors.New("the audit chain is broken")

// EncodeCheckpoint is the stored form of a checkpoint (and of a chain head).
func EncodeCheckpoint(seq uint64, hash []byte) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, CheckpointSize), seq), hash...)
}

// DecodeCheckpoint reads a stored checkpoint; nil (none stored) is 0 and
// nil.
func DecodeCheckpoint(v []byte) (uint64, []byte, error) {
	if v == nil {
		return 0, nil, nil
	}
	if len(v) != CheckpointSize {
		return 0, nil, fmt.Errorf("audit checkpoint has %d bytes, want %d", len(v), CheckpointSize)
	}
	return binary.BigEndian.Uint64(v), append([]byte(nil), v[8:]...), nil
}

// Sweep decides, from the oldest event on, which events a retention sweep
// removes: those older than the cutoff, at most a batch of them, each
// checked against the chain first (a sweep never removes a broken part,
// which would hide it). Feed it the stored events in order after the
// checkpoint the store holds.
type Sweep struct {
	cutoff time.Time
	limit  int
	v      Verifier
	taken  int
	done   bool
}

// NewSweep starts a sweep after the checkpoint (cpSeq, cpHash); 0 and nil
// when no event was removed yet.
func NewSweep(cpSeq uint64, cpHash []byte, cutoff time.Time, limit int) *Sweep {
	s := &Sweep{cutoff: cutoff, limit: limit}
	if cpSeq > 0 || cpHash != nil {
		s.v.Start(cpSeq, cpHash)
	}
	return s
}

// Take reports whether ev, the next stored event, is removed. Once it
// returns false, the sweep is over (later events are kept too). An event
// that breaks the chain ends the sweep with ErrBroken.
func (s *Sweep) Take(ev *pb.AuditEvent) (bool, error) {
	if s.done || s.taken >= s.limit || !ev.GetTime().AsTime().Before(s.cutoff) {
		s.done = true
		return false, nil
	}
	s.v.Add(ev)
	if b := s.v.Broken(); b != 0 {
		s.done = true
		return false, fmt.Errorf("%w at sequence %d; the retention sweep stops before it", ErrBroken, b)
	}
	s.taken++
	return true, nil
}

// Checkpoint is the checkpoint to store once the taken events are removed:
// the sequence and hash of the newest of them.
func (s *Sweep) Checkpoint() []byte { return EncodeCheckpoint(s.v.Last()) }

// Taken counts the events taken.
func (s *Sweep) Taken() int { return s.taken }
