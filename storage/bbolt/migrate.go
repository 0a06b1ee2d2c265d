package bbolt

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// A file written by the store of the release before the storage core
// (schema version 1 or 2: one bucket per entity; "the old store" below) is
// rewritten into the engine's layout the first time OpenEngine opens it,
// in one bbolt transaction: a crash or a failure leaves the old file as it
// was. This file names the old layout itself; nothing else here knows it.
//
// The mapping, the contract of the engine layout (bucket kv):
//
//	workspaces, members, zoos, tokens, token_hashes, workspace_tokens, seeds:
//	    "<bucket>/" + old key -> old value
//	meta schema_version      -> "meta/schema_version" = "3" (decimal)
//	meta count/tokens, count/workspaces -> dropped (the index counts)
//	meta key_check           -> "meta/key_check"
//	meta key_check/<id>      -> "meta/key_check/<id>"
//	meta audit_head          -> "audit_head/" + chain (value unchanged)
//	meta audit_checkpoint    -> "audit_checkpoint/" + chain (value unchanged)
//	audit <8-byte seq>       -> core.AuditKey(T, core.LegacyChain, seq), value unchanged
//
// and T is auditTime's. Any other meta key,
// bucket or nested bucket fails the migration, naming it: unknown data is
// never dropped. The old buckets are deleted; bucket meta is then created
// again holding only schema_version = 3 (8 bytes, big-endian), so that the
// old store's build opening the file refuses it (ErrSchemaTooNew) instead
// of starting an empty store beside the data. There is no way back: a
// downgrade needs a backup taken before the upgrade. The engine's revision
// starts at 0 (a reader loads the migrated data by View).
//
// The whole file is rewritten inside one transaction, which bbolt holds in
// memory until it commits: a migration's peak resident memory is about
// 2.5 times the file's size (310 MB for the 121 MiB file of BenchmarkMigrate,
// 100,000 tokens and as many audit events, migrated in about 2s), and the
// file grows to about twice its size, the old pages staying free for later
// writes.

// The old store's layout, as written by schema versions 1 and 2.
var (
	oldMeta  = []byte("meta")
	oldAudit = []byte("audit")
	// oldCopied are copied key for key under "<bucket>/".
	oldCopied = [][]byte{
		[]byte("workspaces"), []byte("members"), []byte("zoos"), []byte("tokens"),
		[]byte("token_hashes"), []byte("workspace_tokens"), []byte("seeds"),
	}
	oldSchemaVersion   = []byte("schema_version")
	oldTokenCount      = []byte("count/tokens")
	oldWorkspaceCount  = []byte("count/workspaces")
	oldKeyCheck        = []byte("key_check")
	oldKeyCheckPrefix  = []byte("key_check/")
	oldAuditHead       = []byte("audit_head")
	oldAuditCheckpoint = []byte("audit_checkpoint")
)

// engineSchemaVersion is the layout of a file with bucket kv: written as
// "meta/schema_version" in kv (decimal) and, as the guard for older builds,
// in bucket meta (8 bytes, big-endian).
const engineSchemaVersion = 3

// auditTime is the T of an audit key for an event of a chain: the event's
// own time (ev nil, an event that cannot be read, counts as time 0), but
// strictly after prev, the T of the chain's previous event (first: no
// previous event), so that key order is sequence order however the clock
// moved. Times before 1970 count as 0, times past 2262 as the largest
// int64.
func auditTime(ev *pb.AuditEvent, prev uint64, first bool) (uint64, error) {
	t := eventNanos(ev)
	if first {
		return t, nil
	}
	if prev == ^uint64(0) {
		return 0, fmt.Errorf("no key time left after %d", prev)
	}
	return max(t, prev+1), nil
}

// eventNanos is ev's time in unix nanoseconds, clamped to [0, MaxInt64].
func eventNanos(ev *pb.AuditEvent) uint64 {
	const maxSec = (1<<63 - 1) / 1_000_000_000
	ts := ev.GetTime()
	sec, nsec := ts.GetSeconds(), int64(ts.GetNanos())
	switch {
	case sec < 0 || sec == 0 && nsec <= 0:
		return 0
	case sec > maxSec:
		return 1<<63 - 1
	}
	n := sec*1e9 + min(max(nsec, 0), 999_999_999)
	if n < 0 { // sec == maxSec and nanos past the int64 range
		return 1<<63 - 1
	}
	return uint64(n)
}

// prepareEngineFile readies the file for the engine inside tx: a file with
// bucket kv is used as it is; an old store's file is migrated (migrateSchema2);
// any other file gets the engine's buckets and the guard of bucket meta.
func prepareEngineFile(tx *bolt.Tx) error {
	if tx.Bucket(engineData) != nil {
		if tx.Bucket(oldJournal) != nil {
			if err := tx.DeleteBucket(oldJournal); err != nil {
				return err
			}
		}
		return createEngineBuckets(tx)
	}
	migrated, err := migrateSchema2(tx)
	if err != nil || migrated {
		return err
	}
	if err := createEngineBuckets(tx); err != nil {
		return err
	}
	return writeSchemaGuard(tx)
}

func createEngineBuckets(tx *bolt.Tx) error {
	for _, name := range [][]byte{engineData, engineMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// writeSchemaGuard leaves bucket meta holding only the engine's schema
// version, in the old store's encoding: the old store refuses the file
// with ErrSchemaTooNew rather than create its buckets beside the data.
func writeSchemaGuard(tx *bolt.Tx) error {
	if tx.Bucket(oldMeta) != nil {
		if err := tx.DeleteBucket(oldMeta); err != nil {
			return err
		}
	}
	meta, err := tx.CreateBucket(oldMeta)
	if err != nil {
		return err
	}
	return meta.Put(oldSchemaVersion, binary.BigEndian.AppendUint64(nil, engineSchemaVersion))
}

// migrateSchema2 rewrites an old store's file (schema 1 or 2) into the engine
// layout in tx, as described at the top of this file, and reports whether
// it did. A file with bucket kv, or without bucket meta, is left alone
// (false). A meta bucket with a newer schema version fails with an error
// wrapping ErrSchemaTooNew; one with no version, or a version or key this
// build does not know, fails too. On error the caller must roll tx back.
func migrateSchema2(tx *bolt.Tx) (bool, error) {
	if tx.Bucket(engineData) != nil {
		return false, nil
	}
	meta := tx.Bucket(oldMeta)
	if meta == nil {
		return false, nil
	}
	version, err := oldVersion(meta)
	if err != nil {
		return false, err
	}
	if err := checkOldBuckets(tx); err != nil {
		return false, err
	}
	if err := createEngineBuckets(tx); err != nil {
		return false, err
	}
	sources, err := oldSources(tx, meta)
	if err != nil {
		return false, fmt.Errorf("migrate schema %d: %w", version, err)
	}
	if err := putMerged(tx.Bucket(engineData), sources); err != nil {
		return false, fmt.Errorf("migrate schema %d: %w", version, err)
	}
	for _, name := range append([][]byte{oldAudit}, oldCopied...) {
		if tx.Bucket(name) == nil {
			continue
		}
		if err := tx.DeleteBucket(name); err != nil {
			return false, fmt.Errorf("migrate schema %d: delete bucket %s: %w", version, name, err)
		}
	}
	if err := writeSchemaGuard(tx); err != nil {
		return false, fmt.Errorf("migrate schema %d: %w", version, err)
	}
	return true, nil
}

// oldVersion reads the old store's schema version: 1 or 2 are migrated.
func oldVersion(meta *bolt.Bucket) (uint64, error) {
	v := meta.Get(oldSchemaVersion)
	if v == nil {
		return 0, fmt.Errorf("bucket meta has no schema_version: not a file this build knows")
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("schema version has %d bytes, want 8", len(v))
	}
	switch got := binary.BigEndian.Uint64(v); {
	case got > 2:
		return 0, fmt.Errorf("file has schema version %d in bucket meta and no bucket kv; this build migrates 1 and 2: %w",
			got, storage.ErrSchemaTooNew)
	case got < 1:
		return 0, fmt.Errorf("file has unknown schema version %d", got)
	default:
		return got, nil
	}
}

// checkOldBuckets refuses a file holding a top-level bucket the old store
// never wrote, before anything is changed.
func checkOldBuckets(tx *bolt.Tx) error {
	known := map[string]bool{string(oldMeta): true, string(oldAudit): true,
		string(oldJournal): true, string(engineMeta): true}
	for _, name := range oldCopied {
		known[string(name)] = true
	}
	return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !known[string(name)] {
			return fmt.Errorf("migrate: bucket %q is unknown to this build; nothing was changed", name)
		}
		return nil
	})
}
