package access

import (
	"errors"
	"strings"
)

// MaxIDLen is the longest workspace, zoo or user id.
const MaxIDLen = 63

// ErrBadZoo is returned by ParseZoo for a name that is not "workspace/zoo".
var ErrBadZoo = errors.New("zoo must be workspace/zoo, each part matching [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")

// ValidID reports whether id matches [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?: lowercase
// letters, digits and inner hyphens. Workspace, zoo and user ids all have
// this shape, so it is safe in paths, keys and headers.
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

// ParseZoo splits a zoo name "workspace/zoo".
func ParseZoo(name string) (workspaceID, zooID string, err error) {
	workspaceID, zooID, ok := strings.Cut(name, "/")
	if !ok || !ValidID(workspaceID) || !ValidID(zooID) {
		return "", "", ErrBadZoo
	}
	return workspaceID, zooID, nil
}
