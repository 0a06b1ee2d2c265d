package storage

import "errors"

// Every error a store returns for a domain reason wraps exactly one of
// these, so callers map them to status codes with errors.Is. The text names
// the ids involved (ids are not secret), never secrets or hashes.
var (
	// ErrNotFound means the workspace, member, zoo, token or seed does not
	// exist (a token of another workspace counts as not existing).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a record with the same id, secret hash or seed
	// hash is already stored; nothing was written.
	ErrAlreadyExists = errors.New("already exists")
	// ErrNotMember means the token's user is not a member of its workspace.
	ErrNotMember = errors.New("user is not a member of the workspace")
	// ErrNotEmpty means a workspace still has members, zoos or tokens and
	// the delete was not forced.
	ErrNotEmpty = errors.New("workspace is not empty")
	// ErrSchemaTooNew means a newer build wrote the store in a layout this
	// one does not read; it is refused rather than misread.
	ErrSchemaTooNew = errors.New("schema version too new")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable means the store could not be reached or could not
	// commit (an etcd cluster without a quorum); nothing is known to have
	// been written, and the call may be retried.
	ErrUnavailable = errors.New("store unavailable")
	// ErrUnsupported means the store does not offer the operation (a
	// streamed backup of an etcd store); the message says what to use.
	ErrUnsupported = errors.New("not supported by this store")
	// ErrTooLarge means the store refused a write as larger than it takes
	// at once (etcd's request size or operations per transaction); nothing
	// was written, and the same call will fail again.
	ErrTooLarge = errors.New("write too large for the store")
	// ErrLocked means another process holds the bbolt file (one per file).
	ErrLocked = errors.New("database file is locked by another process")
	// ErrInvalid means an argument can never be stored: a missing record,
	// an empty id or one holding the 0x00 key separator, a secret hash not
	// of 32 bytes. The server validates input first, so seeing it usually
	// means a validation rule is missing upstream.
	ErrInvalid = errors.New("invalid argument")
)
