package access

import (
	"errors"
	"strings"
)

// The id rule of workspace, zoo and user ids: lowercase letters, digits and
// inner hyphens, as in DNS labels, so an id is safe in paths, keys and
// headers. ValidID implements it; IDPattern and IDRule state it, and
// TestIDRule holds the three together.
const (
	// MaxIDLen is the longest id.
	MaxIDLen = 63
	// IDPattern is the rule as a regular expression (unanchored).
	IDPattern = `[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?`
	// IDRule is the rule as an error about an id states it.
	IDRule = "must match " + IDPattern + " (lowercase letters, digits and inner hyphens, at most 63 characters)"
	// ZooRule is the rule of a zoo name as an error about one states it.
	ZooRule = "must be workspace/zoo, each part matching " + IDPattern
)

// ErrBadZoo is returned by ParseZoo for a name that is not "workspace/zoo".
var ErrBadZoo = errors.New("zoo " + ZooRule)

// ValidID reports whether id follows the id rule (IDPattern).
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < len(id)-1) {
			return false
		}
	}
	return true
}

// ParseZoo splits a zoo name "workspace/zoo" whose parts are valid ids.
func ParseZoo(name string) (workspaceID, zooID string, err error) {
	workspaceID, zooID, ok := strings.Cut(name, "/")
	if !ok || !ValidID(workspaceID) || !ValidID(zooID) {
		return "", "", ErrBadZoo
	}
	return workspaceID, zooID, nil
}
