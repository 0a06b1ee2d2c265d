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
// from two small arrays instead of two string-keyed maps, which cost more
// cache misses than the slot and the record together at a hub's scale
// (docs/benchmarks.md, "validindex").
//
// A cell lives while a token refers to it or it holds a membership (or an
// existing workspace); then its number is reused. The maps from names to
// numbers are read only by writes.
type cells struct {
	pairs  numbered[Member, pairCell]
	spaces numbered[string, spaceCell]
	// existing counts the workspaces that exist.
	existing int
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
	return cells{pairs: numbered[Member, pairCell]{of: map[Member]int32{}}, spaces: numbered[string, spaceCell]{of: map[string]int32{}}}
}

// numbered holds cells by number, and the numbers by name; numbers of
// dropped cells are reused.
type numbered[K comparable, C any] struct {
	cells []C
	of    map[K]int32
	free  []int32
}

// number returns the number of k's cell, making a zero one when there is
// none; clone copies a k that is kept.
func (n *numbered[K, C]) number(k K, clone func(K) K) int32 {
	if i, ok := n.of[k]; ok {
		return i
	}
	var i int32
	var zero C
	if f := len(n.free); f > 0 {
		i, n.free = n.free[f-1], n.free[:f-1]
		n.cells[i] = zero
	} else {
		i = int32(len(n.cells))
		n.cells = append(n.cells, zero)
	}
	n.of[clone(k)] = i
	return i
}

// drop frees k's cell i.
func (n *numbered[K, C]) drop(k K, i int32) {
	delete(n.of, k)
	n.free = append(n.free, i)
}

// pair returns the number of m's cell, making one when there is none. m's
// strings may be borrowed: a new cell's key is a copy.
func (c *cells) pair(m Member) int32 {
	return c.pairs.number(m, func(m Member) Member {
		return Member{strings.Clone(m.WorkspaceID), strings.Clone(m.UserID)}
	})
}

// tidyPair frees m's cell i if nothing needs it any more.
func (c *cells) tidyPair(m Member, i int32) {
	if p := c.pairs.cells[i]; p.tokens == 0 && !p.member {
		c.pairs.drop(m, i)
	}
}

// space returns the number of workspace id's cell, making one when there
// is none. id may be borrowed.
func (c *cells) space(id string) int32 { return c.spaces.number(id, strings.Clone) }

// tidySpace frees workspace id's cell i if nothing needs it any more.
func (c *cells) tidySpace(id string, i int32) {
	if s := c.spaces.cells[i]; s.tokens == 0 && !s.exists {
		c.spaces.drop(id, i)
	}
}

// setMember records whether m is a membership.
func (c *cells) setMember(m Member, present bool) {
	if present {
		i := c.pair(m)
		c.pairs.cells[i].member = true
		return
	}
	if i, ok := c.pairs.of[m]; ok {
		c.pairs.cells[i].member = false
		c.tidyPair(m, i)
	}
}

// verdict is whether the user of member-pair cell p is a member of the
// workspace of cell s, and its policy. A member of a workspace that is
// gone is a member no more: a workspace's deletion ends its tokens the
// moment its key goes, even while its memberships are still being deleted.
func (c *cells) verdict(p, s int32) (member bool, policy *pb.TokenPolicy) {
	space := &c.spaces.cells[s]
	return c.pairs.cells[p].member && space.exists, space.policy
}

// setWorkspace records that workspace id exists with policy p, or, when
// exists is false, that it is gone.
func (c *cells) setWorkspace(id string, p *pb.TokenPolicy, exists bool) {
	if exists {
		i := c.space(id)
		if !c.spaces.cells[i].exists {
			c.existing++
		}
		c.spaces.cells[i].exists, c.spaces.cells[i].policy = true, p
		return
	}
	if i, ok := c.spaces.of[id]; ok {
		if c.spaces.cells[i].exists {
			c.existing--
		}
		c.spaces.cells[i].exists, c.spaces.cells[i].policy = false, nil
		c.tidySpace(id, i)
	}
}

// appendRefs appends to dst the numbers of the cells of a token of user in
// workspace ws, which the record made of dst now refers to.
func (c *cells) appendRefs(dst []byte, ws, user string) []byte {
	p := c.pair(Member{ws, user})
	s := c.space(ws)
	c.pairs.cells[p].tokens++
	c.spaces.cells[s].tokens++
	dst = binary.LittleEndian.AppendUint32(dst, uint32(p))
	return binary.LittleEndian.AppendUint32(dst, uint32(s))
}

// release drops the references of a record of a token of user in
// workspace ws, whose cell numbers are p and s.
func (c *cells) release(ws, user string, p, s int32) {
	c.pairs.cells[p].tokens--
	c.tidyPair(Member{ws, user}, p)
	c.spaces.cells[s].tokens--
	c.tidySpace(ws, s)
}

// splitRefs returns a record's token encoding and its cell numbers.
func splitRefs(rec string) (enc string, pair, space int32) {
	n := len(rec) - refsLen
	tail := (*[refsLen]byte)(unsafe.Pointer(unsafe.StringData(rec[n:])))
	return rec[:n], int32(binary.LittleEndian.Uint32(tail[:4])), int32(binary.LittleEndian.Uint32(tail[4:]))
}
