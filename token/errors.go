package token

import "errors"

var (
	// ErrMalformed is returned by Check for a string that cannot be a token
	// of this authority: wrong prefix, wrong length or a character outside
	// the alphabet. The caller learns nothing about stored tokens from it.
	ErrMalformed = errors.New("token: malformed secret")

	// ErrChecksum is returned by Check for a string of the right shape whose
	// checksum does not match: almost always a typo or a truncated copy.
	ErrChecksum = errors.New("token: checksum mismatch")

	// ErrTimeRange is returned by NewID for a time that a 48-bit count of
	// Unix milliseconds cannot hold (before 1970 or after the year 10889),
	// because such an id would not sort by creation time.
	ErrTimeRange = errors.New("token: time outside the id range")
)
