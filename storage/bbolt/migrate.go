package bbolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"tokenauthority/storage"
)

// A file of the store before the storage core (schema 1 or 2, one bucket per
// entity: "the old store") is rewritten into the engine's layout the first
// time OpenEngine opens it, in one bbolt transaction: a failure leaves it as
// it was. Only this file and migrate_records.go know the old layout.
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
// with T from core.MigratedAuditTime. Any other meta key, bucket or nested
// bucket fails the migration, naming it: unknown data is never dropped. Bucket meta is
// left holding only schema_version = 3, so the old build refuses the file
// (ErrSchemaTooNew) rather than start an empty store beside the data: a
// downgrade needs a backup. The engine's revision starts at 0. Peak memory
// is about 2.5 times the file (310 MB, 2s for BenchmarkMigrate's 121 MiB).

// The old store's layout, as written by schema versions 1 and 2.
var (
	oldMeta  = []byte("meta")
	oldAudit = []byte("audit")
	// oldCopied are copied key for key under "<bucket>/".
	oldCopied = [][]byte{
		[]byte("workspaces"), []byte("members"), []byte("zoos"), []byte("tokens"),
		[]byte("token_hashes"), []byte("workspace_tokens"), []byte("seeds"),
	}
	oldData            = append([][]byte{oldAudit}, oldCopied...) // emptied by the migration
	oldSchemaVersion   = []byte("schema_version")
	oldTokenCount      = []byte("count/tokens")
	oldWorkspaceCount  = []byte("count/workspaces")
	oldKeyCheck        = []byte("key_check")
	oldKeyCheckPrefix  = []byte("key_check/")
	oldAuditHead       = []byte("audit_head")
	oldAuditCheckpoint = []byte("audit_checkpoint")
)

// engineSchemaVersion is the layout of a file with bucket kv: at
// kvSchemaVersion (decimal) and, as the guard against the old build, in
// bucket meta (8 bytes, big-endian).
const engineSchemaVersion = 3

var kvSchemaVersion = []byte("meta/schema_version")

// prepareEngineFile readies the file in tx: bucket kv is used as it is, an
// old store's file migrated, any other file given the engine's buckets.
func prepareEngineFile(tx *bolt.Tx) error {
	if tx.Bucket(engineData) != nil {
		if err := tx.DeleteBucket(oldJournal); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		return createEngineBuckets(tx)
	}
	if migrated, err := migrateSchema2(tx); err != nil || migrated {
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

// writeSchemaGuard leaves bucket meta holding only schema_version = 3.
func writeSchemaGuard(tx *bolt.Tx) error {
	if err := tx.DeleteBucket(oldMeta); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	meta, err := tx.CreateBucket(oldMeta)
	if err != nil {
		return err
	}
	return meta.Put(oldSchemaVersion, binary.BigEndian.AppendUint64(nil, engineSchemaVersion))
}

// migrateSchema2 migrates an old store's file in tx (see the mapping above)
// and reports whether it did: a file without bucket meta is left alone. A
// newer schema fails with ErrSchemaTooNew; a missing or unknown version,
// key or bucket fails too. On error the caller must roll tx back.
func migrateSchema2(tx *bolt.Tx) (bool, error) {
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
	if err := moveOldRecords(tx, meta); err != nil {
		return false, fmt.Errorf("migrate schema %d: %w", version, err)
	}
	return true, nil
}

// moveOldRecords puts every old record into kv and deletes the old buckets.
func moveOldRecords(tx *bolt.Tx, meta *bolt.Bucket) error {
	records, err := oldRecords(tx, meta)
	if err != nil {
		return err
	}
	if err := putSorted(tx.Bucket(engineData), records); err != nil {
		return err
	}
	for _, name := range oldData {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return fmt.Errorf("delete bucket %s: %w", name, err)
		}
	}
	return writeSchemaGuard(tx)
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

// checkOldBuckets refuses a top-level bucket the old store never wrote.
func checkOldBuckets(tx *bolt.Tx) error {
	known := map[string]bool{string(oldMeta): true, string(oldJournal): true, string(engineMeta): true}
	for _, name := range oldData {
		known[string(name)] = true
	}
	return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if !known[string(name)] {
			return fmt.Errorf("migrate: bucket %q is unknown to this build; nothing was changed", name)
		}
		return nil
	})
}
