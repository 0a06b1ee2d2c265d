package rest

import (
	"context"
	"errors"
	"io"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// unmatchedRoute labels requests that matched no route, so that metrics
// never see a raw path.
const unmatchedRoute = "unmatched"

// exchange is what the layers of one request learn about it and report to
// each other: the routers record the matched route pattern for logs and
// metrics, and the request body records why reading it failed, which the
// gateway would otherwise flatten into an InvalidArgument message. It lives
// in the request context and is used by one goroutine at a time.
type exchange struct {
	// route is the matched route pattern, such as
	// "GET /api/v1/tokens/{token}/info"; empty when nothing matched.
	route string
	// bodyTooLarge is set when reading the body hit the size limit.
	bodyTooLarge bool
	// decodeErr is the error of decoding the body as the request message,
	// decodeMsg that message's descriptor.
	decodeErr error
	decodeMsg protoreflect.MessageDescriptor
	// code is the gRPC code of the error response, when there was one.
	code    codes.Code
	errored bool
}

type exchangeKey struct{}

func withExchange(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

// exchangeFrom returns the request's exchange; a throwaway one when the
// context has none, so callers need not check.
func exchangeFrom(ctx context.Context) *exchange {
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return ex
	}
	return &exchange{}
}

// limitedBody is a request body cut off at the configured size that notes
// in the exchange when the limit was hit.
type limitedBody struct {
	io.ReadCloser
	ex *exchange
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
		b.ex.bodyTooLarge = true
	}
	return n, err
}
