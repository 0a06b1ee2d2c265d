package storage

import "errors"

// A store's domain errors wrap exactly one of these (errors.Is maps them
// to status codes). Texts name ids, never secrets or hashes.
var (
	// ErrNotFound: absent, or a token of another workspace.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: the id, secret hash or seed hash is taken; nothing
	// was written.
	ErrAlreadyExists = errors.New("already exists")
	ErrNotMember     = errors.New("user is not a member of the workspace")
	// ErrNotEmpty: an unforced delete of a workspace that holds records.
	ErrNotEmpty = errors.New("workspace is not empty")
	// ErrSchemaTooNew: a newer build's layout, refused rather than misread.
	ErrSchemaTooNew = errors.New("schema version too new")
	ErrClosed       = errors.New("store closed")
	// ErrUnavailable: the store could not be reached or could not commit
	// (no quorum); nothing is known written; the call may be retried.
	ErrUnavailable = errors.New("store unavailable")
	// ErrUnsupported: not offered by this store; the text says what to use.
	ErrUnsupported = errors.New("not supported by this store")
	// ErrTooLarge: a write larger than the store takes at once; nothing was
	// written, and the same call will fail again.
	ErrTooLarge = errors.New("write too large for the store")
	ErrLocked   = errors.New("database file is locked by another process")
	// ErrInvalid: an argument that can never be stored. The server checks
	// input first, so seeing it means a rule is missing upstream.
	ErrInvalid = errors.New("invalid argument")
)
