package seal

import "errors"

var (
	// ErrKeySize is returned for a key that is not KeySize bytes long. The
	// error never says more about the key than its length.
	ErrKeySize = errors.New("seal: key must be 32 bytes")

	// ErrKeyEncoding is returned by ParseKey for text that is not standard
	// base64.
	ErrKeyEncoding = errors.New("seal: key is not standard base64")

	// ErrKeyFile wraps every failure of LoadOrCreateKey: a key file that
	// cannot be read or created, that others may read, or that does not hold
	// a valid key. The service must not start without its key.
	ErrKeyFile = errors.New("seal: unusable key file")

	// ErrUnknownKey is returned by Ring.Open for a value sealed under a key
	// id that the ring does not hold (a retired key, or a ring file from
	// another store). The error names the id.
	ErrUnknownKey = errors.New("seal: sealed under a key that is not in the key ring")

	// ErrEmptyRing is returned for a key ring without keys.
	ErrEmptyRing = errors.New("seal: key ring has no keys")

	// ErrOpen is returned by Open for anything that does not authenticate:
	// a wrong key, wrong additional data, a truncated or tampered value.
	// The causes are deliberately indistinguishable.
	ErrOpen = errors.New("seal: message authentication failed")
)
