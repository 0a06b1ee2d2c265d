package bbolt

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// encode marshals a value for storage.
func encode(m proto.Message) ([]byte, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", m, err)
	}
	return b, nil
}

// decode unmarshals a stored value. proto.Unmarshal copies strings and bytes
// out of b, so the result stays valid after the transaction that produced b
// ends.
func decode[T any, P interface {
	*T
	proto.Message
}](b []byte) (P, error) {
	m := P(new(T))
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode %T: %w", m, err)
	}
	return m, nil
}
