package rest

import (
	"bytes"
	"errors"
	"io"

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

// NewDecoder reads a small flat body with decodeFlat and anything else
// with JSONPb's decoder. It records a decode failure in the exchange of the
// body it reads, because the generated gateway code turns it into a plain
// InvalidArgument status and the error handler could not tell it from the
// service's own.
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	body, _ := r.(*limitedBody)
	var d runtime.Decoder
	return runtime.DecoderFunc(func(v any) error {
		if d == nil {
			msg, ok := v.(proto.Message)
			if ok {
				// A read error (the size limit) stays in r for the
				// decoder below to meet at the same place.
				head, err := io.ReadAll(io.LimitReader(r, maxFastBody+1))
				if err == nil && len(head) <= maxFastBody && decodeFlat(head, msg) {
					d = m.JSONPb.NewDecoder(r)
					return nil
				}
				r = io.MultiReader(bytes.NewReader(head), r)
			}
			d = m.JSONPb.NewDecoder(r)
		}
		err := d.Decode(v)
		if err != nil && !errors.Is(err, io.EOF) && body != nil {
			body.ex.decodeErr = err
		}
		return err
	})
}
