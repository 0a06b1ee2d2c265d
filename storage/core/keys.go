package core

import "strings"

// The key layout: one prefix per kind of record (a schema-2 bbolt file's
// bucket name, so a record migrates by taking it in front of its key).
//
//	meta/schema_version       decimal layout version
//	meta/key_check, meta/key_check/<id>       a constant sealed under a master key
//	workspaces/<ws>           pb.Workspace
//	members/<ws> 0x00 <user>  pb.Member
//	zoos/<ws> 0x00 <zoo>      pb.Zoo
//	tokens/<token>            storagepb.TokenRecord
//	token_hashes/<sha256>     token id (32 raw bytes of key)
//	workspace_tokens/<ws> 0x00 <token>  user id
//	seeds/<sha256>            storagepb.SeedRecord
//	seed_of/<token>           sha256 of the token's parked seed, to delete it with the token
//	used/<token>              when the token was last used (used.go)
//	audit/<T> <chain> 0x00 <seq>  pb.AuditEvent (audit.go)
//	audit_head/<chain>        the chain's newest sequence and hash
//	audit_checkpoint/<chain>  the chain's last event removed by retention
//	cleanup/...               split changes still to be finished (cleanup.go)
//
// storage.CheckID refuses ids holding 0x00, so a composite key splits one
// way only, and all keys of one workspace are contiguous.
type kind string

const (
	meta            kind = "meta/"
	workspaces      kind = "workspaces/"
	members         kind = "members/"
	zoos            kind = "zoos/"
	tokens          kind = "tokens/"
	tokenHashes     kind = "token_hashes/"
	workspaceTokens kind = "workspace_tokens/"
	seeds           kind = "seeds/"
	seedOf          kind = "seed_of/"
	used            kind = "used/"
	audits          kind = "audit/"
	auditHeads      kind = "audit_head/"
	auditCPs        kind = "audit_checkpoint/"
	cleanups        kind = "cleanup/"
)

// sep joins the parts of a composite key.
const sep = "\x00"

// key joins parts under k with sep, in one allocation (every write builds keys).
func (k kind) key(parts ...string) []byte {
	n := len(k)
	for _, p := range parts {
		n += len(p) + len(sep)
	}
	b := append(make([]byte, 0, n), k...)
	for i, p := range parts {
		if i > 0 {
			b = append(b, sep...)
		}
		b = append(b, p...)
	}
	return b
}

// raw is the key of a binary id (a hash) under k.
func (k kind) raw(id []byte) []byte { return append([]byte(k), id...) }

// children is the prefix of every key(parent, ...) under k.
func (k kind) children(parent string) []byte { return append(k.key(parent), sep...) }

func (k kind) all() []byte { return []byte(k) }

// pair returns the two parts of a composite key under k.
func (k kind) pair(key []byte) (parent, child string, ok bool) {
	rest, isK := strings.CutPrefix(string(key), string(k))
	parent, child, ok = strings.Cut(rest, sep)
	if !isK || !ok || strings.Contains(child, sep) {
		return "", "", false
	}
	return parent, child, true
}

func hasKind(key []byte, k kind) bool {
	return len(key) >= len(k) && string(key[:len(k)]) == string(k)
}

var keySchemaVersion = meta.key("schema_version")
