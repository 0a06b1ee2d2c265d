package bbolt

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/validindex"
)

// journal lists what the transaction being committed touched of the
// validation index's inputs: token records (by id, with the secret hash
// they were indexed under), memberships, workspaces and zoos. Only the committer
// goroutine uses it. A nil journal records nothing (the benchmarks' raw
// transactions).
//
// It lists keys, not values: resolve reads what the transaction left under
// each key just before the commit, so the index gets exactly what was
// written whatever path wrote it, and a change undone later in the same
// transaction comes out as no change.
type journal struct {
	tokens     map[string][32]byte
	members    map[string]struct{}
	workspaces map[string]struct{}
	zoos       map[string]struct{}
}

func newJournal() *journal {
	return &journal{tokens: map[string][32]byte{}, members: map[string]struct{}{}, workspaces: map[string]struct{}{}, zoos: map[string]struct{}{}}
}

// token notes a write or delete of token id, whose secret hash is hash.
func (j *journal) token(id []byte, hash []byte) {
	if j == nil || len(hash) != 32 {
		return
	}
	j.tokens[string(id)] = [32]byte(hash)
}

// member notes a write or delete of members key (workspace 0x00 user).
func (j *journal) member(key []byte) {
	if j != nil {
		j.members[string(key)] = struct{}{}
	}
}

// workspace notes a write or delete of workspace id.
func (j *journal) workspace(id []byte) {
	if j != nil {
		j.workspaces[string(id)] = struct{}{}
	}
}

// zoo notes a write or delete of zoos key (workspace 0x00 zoo).
func (j *journal) zoo(key []byte) {
	if j != nil {
		j.zoos[string(key)] = struct{}{}
	}
}

// resolve reads the journal's keys in tx and returns the index changes
// that make the index match tx.
func (j *journal) resolve(tx *bolt.Tx) (*validindex.Batch, error) {
	b := &validindex.Batch{}
	if j == nil {
		return b, nil
	}
	records := tx.Bucket(bucketTokens)
	for id, hash := range j.tokens {
		v := records.Get([]byte(id))
		if v == nil {
			b.DeleteToken(hash)
			continue
		}
		h, err := b.PutEncoded(v)
		if err != nil {
			// Not indexable; a record that does not decode at all is an error.
			if _, err := decodeToken(v); err != nil {
				return nil, fmt.Errorf("token %q: %w", id, err)
			}
			b.DeleteToken(hash)
			continue
		}
		if h != hash {
			b.DeleteToken(hash)
		}
	}
	members := tx.Bucket(bucketMembers)
	for key := range j.members {
		ws, user, ok := splitComposite([]byte(key))
		if !ok {
			continue
		}
		b.SetMember(ws, user, members.Get([]byte(key)) != nil)
	}
	workspaces := tx.Bucket(bucketWorkspaces)
	for id := range j.workspaces {
		v := workspaces.Get([]byte(id))
		if v == nil {
			b.DeleteWorkspace(id)
			continue
		}
		ws, err := decode[pb.Workspace](v)
		if err != nil {
			return nil, fmt.Errorf("workspace %q: %w", id, err)
		}
		b.PutWorkspace(id, ws.GetTokenPolicy())
	}
	zoos := tx.Bucket(bucketZoos)
	for key := range j.zoos {
		ws, zoo, ok := splitComposite([]byte(key))
		if !ok {
			continue
		}
		v := zoos.Get([]byte(key))
		if v == nil {
			b.DeleteZoo(ws, zoo)
			continue
		}
		z, err := decode[pb.Zoo](v)
		if err != nil {
			return nil, fmt.Errorf("zoo %q: %w", key, err)
		}
		b.PutZoo(ws, zoo, z)
	}
	return b, nil
}

// splitComposite splits a compositeKey into its parts.
func splitComposite(key []byte) (parent, child string, ok bool) {
	i := bytes.IndexByte(key, sep)
	if i < 0 {
		return "", "", false
	}
	return string(key[:i]), string(key[i+1:]), true
}

// loadIndex builds the validation index from the file, in one read
// transaction.
func loadIndex(db *bolt.DB) (*validindex.Index, error) {
	var x *validindex.Index
	err := db.View(func(tx *bolt.Tx) error {
		hint := 0
		if n, err := readCount(tx.Bucket(bucketMeta), keyTokenCount); err == nil {
			hint = int(min(n, 1<<26))
		}
		var err error
		x, err = validindex.Load(hint, func(l *validindex.Loader) error {
			err := tx.Bucket(bucketWorkspaces).ForEach(func(k, v []byte) error {
				ws, err := decode[pb.Workspace](v)
				if err != nil {
					return fmt.Errorf("workspace %q: %w", k, err)
				}
				l.Workspace(string(k), ws.GetTokenPolicy())
				return nil
			})
			if err != nil {
				return err
			}
			err = tx.Bucket(bucketZoos).ForEach(func(k, v []byte) error {
				ws, zoo, ok := splitComposite(k)
				if !ok {
					return nil
				}
				z, err := decode[pb.Zoo](v)
				if err != nil {
					return fmt.Errorf("zoo %q: %w", k, err)
				}
				l.Zoo(ws, zoo, z)
				return nil
			})
			if err != nil {
				return err
			}
			err = tx.Bucket(bucketMembers).ForEach(func(k, _ []byte) error {
				if ws, user, ok := splitComposite(k); ok {
					l.Member(ws, user)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
				if err := l.Encoded(v); err != nil {
					// Not indexable (no token or no secret hash); a record
					// that does not decode at all is an error.
					if _, err := decodeToken(v); err != nil {
						return fmt.Errorf("token %q: %w", k, err)
					}
				}
				return nil
			})
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load the validation index: %w", err)
	}
	return x, nil
}
