package rest

import (
	"bytes"
	"errors"
	"io"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// maxFastBody is the largest body the decoder reads itself (see
// decodeFlat); larger ones go to protojson as they stream in.
const maxFastBody = 4 << 10

// jsonMarshaler is the gateway's JSONPb with proto field names and
// unpopulated fields on output, strict parsing of either spelling on input,
// and decode failures reported to the request's exchange. The common
// messages take the cheaper paths of fastjson.go; the output and the
// accepted input are protojson's either way.
type jsonMarshaler struct {
	*runtime.JSONPb
}

func newJSONMarshaler() *jsonMarshaler {
	return &jsonMarshaler{JSONPb: &runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{UseProtoNames: true, EmitUnpopulated: true},
		// DiscardUnknown stays false: a misspelt field is refused rather
		// than silently ignored.
		UnmarshalOptions: protojson.UnmarshalOptions{},
	}}
}

// Marshal writes a message with appendMessage when it can, else as JSONPb
// does.
func (m *jsonMarshaler) Marshal(v any) ([]byte, error) {
	if msg, ok := v.(proto.Message); ok {
		if b, ok := appendMessage(make([]byte, 0, 512), msg.ProtoReflect()); ok {
			return b, nil
		}
	}
	return m.JSONPb.Marshal(v)
}

// bodyBuffers hold bodies while decodeFlat reads them; decodeFlat copies
// what it keeps.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, maxFastBody+1); return &b }}

// readSmall reads all of r into buf when it fits, reporting false (with
// what it read) when r holds more or failed.
func readSmall(r io.Reader, buf []byte) ([]byte, bool) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return buf[:n], true
		}
		if err != nil {
			return buf[:n], false
		}
	}
	return buf[:n], false
}

// NewDecoder reads a small flat body with decodeFlat and anything else
// with JSONPb's decoder. It records a decode failure in the exchange of the
// body it reads, because the generated gateway code turns it into a plain
// InvalidArgument status and the error handler could not tell it from the
// service's own.
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	body, _ := r.(*limitedBody)
	var d runtime.Decoder
	drained := false
	return runtime.DecoderFunc(func(v any) error {
		if drained {
			return io.EOF // decodeFlat read the whole body
		}
		if d == nil {
			msg, ok := v.(proto.Message)
			if ok {
				buf := bodyBuffers.Get().(*[]byte)
				head, whole := readSmall(r, *buf)
				if whole && decodeFlat(head, msg) {
					bodyBuffers.Put(buf)
					drained = true
					return nil
				}
				// A read error (the size limit) stays in r for the
				// decoder below to meet at the same place.
				r = io.MultiReader(bytes.NewReader(bytes.Clone(head)), r)
				bodyBuffers.Put(buf)
			}
			d = m.JSONPb.NewDecoder(r)
		}
		err := d.Decode(v)
		if err != nil && !errors.Is(err, io.EOF) && body != nil {
			body.ex.decodeErr = err
			if msg, ok := v.(proto.Message); ok {
				body.ex.decodeMsg = msg.ProtoReflect().Descriptor()
			}
		}
		return err
	})
}
