package rest

import (
	"errors"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
)

// jsonMarshaler is the gateway's JSONPb with proto field names and
// unpopulated fields on output, strict parsing of either spelling on input,
// and decode failures reported to the request's exchange.
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

// NewDecoder records a decode failure in the exchange of the body it reads,
// because the generated gateway code turns it into a plain InvalidArgument
// status and the error handler could not tell it from the service's own.
func (m *jsonMarshaler) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.JSONPb.NewDecoder(r)
	body, ok := r.(*limitedBody)
	if !ok {
		return d
	}
	return runtime.DecoderFunc(func(v any) error {
		err := d.Decode(v)
		if err != nil && !errors.Is(err, io.EOF) {
			body.ex.decodeErr = err
		}
		return err
	})
}
