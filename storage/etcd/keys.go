package etcd

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"tokenauthority/storage"
)

// The key layout under the prefix P (default /tokenauthority/). Values are
// the same protobuf messages the bbolt store keeps.
//
//	P schema_version           decimal layout version (1)
//	P key_check/<id>           a constant sealed under master key <id>
//	P ws/<workspace>           pb.Workspace
//	P member/<ws> 0x00 <user>  pb.Member
//	P zoo/<ws> 0x00 <zoo>      pb.Zoo
//	P token/<token>            storagepb.TokenRecord
//	P hash/<hex sha256>        token id (the secret-hash index)
//	P wstoken/<ws> 0x00 <tok>  user id (a workspace's tokens, newest last)
//	P seed/<hex sha256>        storagepb.SeedRecord
//	P seedtok/<token>          hex sha256 of the token's parked seed
//	P audit/<seq, 20 digits>   pb.AuditEvent, hash-chained
//	P audit_head               the newest event's sequence (8 bytes) and hash
//	P cleanup/ws/<ws>          a deleted workspace whose records are still being removed
//	P cleanup/member/<ws> 0x00 <user>  a removed member whose tokens are still being revoked
//	P cleanup/revoke/<random>  a decided revocation of many tokens still being written (bulk.go)
//	P cleanup/audit/<random>   a decided audit event whose continuations are still to be appended (continued.go)
//	P cleanup/audit/<random>/<n, 6 digits>  its n-th continuation, pb.AuditEvent not yet sealed
//
// A token validates only while its member and workspace keys exist with a
// create revision older than the token's own, so the removal of a member
// or a workspace is one small transaction however many tokens it ends;
// the cleanup/ markers say which bounded clean-ups are still to be done.
// A revocation of many tokens is decided the same way: one cleanup/revoke/
// record that validation honours until the records are all rewritten.
type keys struct{ p string }

const sep = "\x00"

func (k keys) schema() string { return k.p + "schema_version" }
func (k keys) keyCheck(id uint32) string {
	return k.p + "key_check/" + strconv.FormatUint(uint64(id), 10)
}
func (k keys) keyChecks() string             { return k.p + "key_check/" }
func (k keys) workspaces() string            { return k.p + "ws/" }
func (k keys) workspace(ws string) string    { return k.p + "ws/" + ws }
func (k keys) members(ws string) string      { return k.p + "member/" + ws + sep }
func (k keys) member(ws, user string) string { return k.members(ws) + user }
func (k keys) zoos(ws string) string         { return k.p + "zoo/" + ws + sep }
func (k keys) zoo(ws, zoo string) string     { return k.zoos(ws) + zoo }
func (k keys) tokens() string                { return k.p + "token/" }
func (k keys) token(id string) string        { return k.p + "token/" + id }
func (k keys) hash(h []byte) string          { return k.p + "hash/" + hex.EncodeToString(h) }
func (k keys) wsTokens(ws string) string     { return k.p + "wstoken/" + ws + sep }
func (k keys) wsToken(ws, id string) string  { return k.wsTokens(ws) + id }
func (k keys) seeds() string                 { return k.p + "seed/" }
func (k keys) seed(h []byte) string          { return k.p + "seed/" + hex.EncodeToString(h) }
func (k keys) seedOf(token string) string    { return k.p + "seedtok/" + token }
func (k keys) auditHead() string             { return k.p + "audit_head" }
func (k keys) auditCheckpoint() string       { return k.p + "audit_checkpoint" }
func (k keys) audits() string                { return k.p + "audit/" }
func (k keys) audit(seq uint64) string       { return fmt.Sprintf("%saudit/%020d", k.p, seq) }
func (k keys) cleanups() string              { return k.p + "cleanup/" }
func (k keys) wsCleanup(ws string) string    { return k.p + "cleanup/ws/" + ws }
func (k keys) memberCleanup(ws, user string) string {
	return k.p + "cleanup/member/" + ws + sep + user
}
func (k keys) auditGroups() string         { return k.p + "cleanup/audit/" }
func (k keys) auditGroup(id string) string { return k.auditGroups() + id }
func (k keys) auditParts(id string) string { return k.auditGroups() + id + "/" }
func (k keys) auditPart(id string, n int) string {
	return fmt.Sprintf("%s%06d", k.auditParts(id), n)
}
func (k keys) revocations() string         { return k.p + "cleanup/revoke/" }
func (k keys) revocation(id string) string { return k.revocations() + id }

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return "\x00"
}

// hexKey decodes the hex hash at the end of a seed key.
func hexKey(s string) ([]byte, error) { return hex.DecodeString(s) }

var _ storage.Backend = (*Store)(nil)
