package bbolt

import ()

// Bucket names. The layout, one bucket per entity plus two indexes:
//
//	meta              "schema_version" -> big-endian uint64 (2)
//	                  "count/tokens", "count/workspaces" -> big-endian uint64 (counts.go)
//	                  "key_check" -> a constant sealed under master key 0 (keycheck.go)
//	                  "key_check/<id>" -> the same under ring key <id>, decimal
//	workspaces        workspace_id -> pb.Workspace
//	members           workspace_id 0x00 user_id -> pb.Member
//	zoos              workspace_id 0x00 zoo_id -> pb.Zoo
//	tokens            token_id -> storagepb.TokenRecord
//	token_hashes      sha256(secret) (32 bytes) -> token_id
//	workspace_tokens  workspace_id 0x00 token_id -> user_id
//	seeds             sha256(seed) (32 bytes) -> storagepb.SeedRecord
//	audit             big-endian uint64 sequence -> pb.AuditEvent
//
// meta also holds "audit_head": the newest event's sequence (8 bytes,
// big-endian) and hash (32 bytes), rewritten with every event, so that
// events cut off the end of the log are noticed.
//
// workspace_tokens lets a workspace's tokens be listed newest first (token
// ids are time-ordered) without a scan of all tokens; its value, the owner,
// lets RemoveMember find a user's tokens without decoding every record.
var (
	bucketMeta            = []byte("meta")
	bucketWorkspaces      = []byte("workspaces")
	bucketMembers         = []byte("members")
	bucketZoos            = []byte("zoos")
	bucketTokens          = []byte("tokens")
	bucketTokenHashes     = []byte("token_hashes")
	bucketWorkspaceTokens = []byte("workspace_tokens")
	bucketSeeds           = []byte("seeds")
	bucketAudit           = []byte("audit")
)

// allBuckets is every bucket Open creates.
var allBuckets = [][]byte{
	bucketMeta, bucketWorkspaces, bucketMembers, bucketZoos,
	bucketTokens, bucketTokenHashes, bucketWorkspaceTokens, bucketSeeds,
	bucketAudit,
}

// keySchemaVersion is the meta key holding the layout version.
var keySchemaVersion = []byte("schema_version")

// keyAuditHead is the meta key of the audit log's newest sequence and hash.
var keyAuditHead = []byte("audit_head")

// keyAuditCheckpoint is the meta key of the sequence and hash of the newest
// audit event a retention sweep removed (audit.EncodeCheckpoint).
var keyAuditCheckpoint = []byte("audit_checkpoint")

// sep separates the parts of a composite key. It sorts before every other
// byte, so all keys of one workspace are contiguous and ordered by the second
// part alone. storage.CheckID refuses ids holding it, so a composite key
// splits one way only.
const sep = 0x00

// compositeKey encodes parent 0x00 child.
func compositeKey(parent, child string) []byte {
	k := make([]byte, 0, len(parent)+1+len(child))
	k = append(k, parent...)
	k = append(k, sep)
	return append(k, child...)
}

// childPrefix is the common prefix of every compositeKey(parent, ...).
func childPrefix(parent string) []byte {
	k := make([]byte, 0, len(parent)+1)
	k = append(k, parent...)
	return append(k, sep)
}
