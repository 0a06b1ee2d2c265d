package validindex

import (
	"encoding/binary"
	"strings"
	"unsafe"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// cells hold what a lookup reads beside the token: whether its user is a
// member of its workspace, and that workspace's token policy. Each token's
// record ends with the numbers of its membership's cell and its
// workspace's cell (refsLen bytes), so a lookup reads both cells at once
// from two small arrays. Looking them up by name instead, in maps keyed by
// strings, read each map's control word and then the key's bytes: with a
// hub's hundreds of thousands of memberships and workspaces those were four
// cache misses a lookup, more than the slot and the record together.
//
// A cell lives while a token refers to it or it holds a membership (or an
// existing workspace); then its number is reused. The maps from names to
// numbers are read only by writes.
type cells struct {
	pairs     []pairCell
	pairOf    map[Member]int32
	freePairs []int32
	spaces    []spaceCell
	spaceOf   map[string]int32
	freeSpace []int32
}

// pairCell is one (workspace, user) pair's membership.
type pairCell struct {
	tokens int32 // records that refer to the cell
	member bool
}

// spaceCell is one workspace's token policy (nil: none, or it is gone).
type spaceCell struct {
	tokens int32 // records that refer to the cell
	exists bool
	policy *pb.TokenPolicy
}

// refsLen is the length of the cell numbers at the end of a record: the
// membership's, then the workspace's, 4 bytes each, little-endian.
const refsLen = 8

func newCells() cells {
	return cells{pairOf: map[Member]int32{}, spaceOf: map[string]int32{}}
}

// pair returns the number of m's cell, making one when there is none. m's
// strings may be borrowed: a new cell's key is a copy.
func (c *cells) pair(m Member) int32 {
	if i, ok := c.pairOf[m]; ok {
		return i
	}
	m = Member{strings.Clone(m.WorkspaceID), strings.Clone(m.UserID)}
	var i int32
	if n := len(c.freePairs); n > 0 {
		i, c.freePairs = c.freePairs[n-1], c.freePairs[:n-1]
		c.pairs[i] = pairCell{}
	} else {
		i = int32(len(c.pairs))
		c.pairs = append(c.pairs, pairCell{})
	}
	c.pairOf[m] = i
	return i
}

// tidyPair frees m's cell i if nothing needs it any more.
func (c *cells) tidyPair(m Member, i int32) {
	if p := c.pairs[i]; p.tokens == 0 && !p.member {
		delete(c.pairOf, m)
		c.freePairs = append(c.freePairs, i)
	}
}

// space returns the number of workspace id's cell, making one when there
// is none. id may be borrowed.
func (c *cells) space(id string) int32 {
	if i, ok := c.spaceOf[id]; ok {
		return i
	}
	id = strings.Clone(id)
	var i int32
	if n := len(c.freeSpace); n > 0 {
		i, c.freeSpace = c.freeSpace[n-1], c.freeSpace[:n-1]
		c.spaces[i] = spaceCell{}
	} else {
		i = int32(len(c.spaces))
		c.spaces = append(c.spaces, spaceCell{})
	}
	c.spaceOf[id] = i
	return i
}

// tidySpace frees workspace id's cell i if nothing needs it any more.
func (c *cells) tidySpace(id string, i int32) {
	if s := c.spaces[i]; s.tokens == 0 && !s.exists {
		delete(c.spaceOf, id)
		c.freeSpace = append(c.freeSpace, i)
	}
}

// setMember records whether m is a membership.
func (c *cells) setMember(m Member, present bool) {
	if present {
		i := c.pair(m)
		c.pairs[i].member = true
		return
	}
	if i, ok := c.pairOf[m]; ok {
		c.pairs[i].member = false
		c.tidyPair(m, i)
	}
}

// setWorkspace records that workspace id exists with policy p, or, when
// exists is false, that it is gone.
func (c *cells) setWorkspace(id string, p *pb.TokenPolicy, exists bool) {
	if exists {
		i := c.space(id)
		c.spaces[i].exists, c.spaces[i].policy = true, p
		return
	}
	if i, ok := c.spaceOf[id]; ok {
		c.spaces[i].exists, c.spaces[i].policy = false, nil
		c.tidySpace(id, i)
	}
}

// appendRefs appends to dst the numbers of the cells of a token of user in
// workspace ws, which the record made of dst now refers to.
func (c *cells) appendRefs(dst []byte, ws, user string) []byte {
	p := c.pair(Member{ws, user})
	s := c.space(ws)
	c.pairs[p].tokens++
	c.spaces[s].tokens++
	dst = binary.LittleEndian.AppendUint32(dst, uint32(p))
	return binary.LittleEndian.AppendUint32(dst, uint32(s))
}

// release drops the references of a record of a token of user in
// workspace ws, whose cell numbers are p and s.
func (c *cells) release(ws, user string, p, s int32) {
	c.pairs[p].tokens--
	c.tidyPair(Member{ws, user}, p)
	c.spaces[s].tokens--
	c.tidySpace(ws, s)
}

// splitRefs returns a record's token encoding and its cell numbers.
func splitRefs(rec string) (enc string, pair, space int32) {
	n := len(rec) - refsLen
	tail := (*[refsLen]byte)(unsafe.Pointer(unsafe.StringData(rec[n:])))
	return rec[:n], int32(binary.LittleEndian.Uint32(tail[:4])), int32(binary.LittleEndian.Uint32(tail[4:]))
}
