package client

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Client asks the authority about tokens. It is safe for concurrent use.
type Client struct {
	tokens pb.TokenServiceClient
	conn   *grpc.ClientConn // owned: closed by Close; nil for New
	cache  *cache
	now    func() time.Time
}

// Verdict is the authority's answer about a request's token, as stored in
// the request context by the middleware and the interceptor.
type Verdict struct {
	Allowed bool
	Reason  pb.Reason
	// The valid token's identity; empty for an anonymous allow.
	WorkspaceID, TokenID, UserID string
	// ExpireTime is when the token expires; zero when it never does (or
	// when no valid token was presented).
	ExpireTime time.Time
}

// Anonymous reports whether the verdict was reached without a valid token.
func (v Verdict) Anonymous() bool { return v.TokenID == "" }

// Option configures a Client.
type Option func(*options)

type options struct {
	credential string
	transport  credentials.TransportCredentials
	cacheTTL   time.Duration
	cacheMax   int
	now        func() time.Time
	dial       []grpc.DialOption
}

// WithCredential sends cred, a service credential with the validator (or
// admin) role, on every call.
func WithCredential(cred string) Option { return func(o *options) { o.credential = cred } }

// WithTransportCredentials sets Dial's transport security; without it Dial
// connects in plaintext, which is only fit for loopback.
func WithTransportCredentials(c credentials.TransportCredentials) Option {
	return func(o *options) { o.transport = c }
}

// WithDialOptions adds grpc-go dial options to Dial.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dial = append(o.dial, opts...) }
}

// WithCache keeps positive answers (valid tokens, allowed checks) for up to
// ttl, and at most max entries (0 means 10000). An answer is never used
// after the token's own expiry. A token revoked at the authority is thus
// still accepted here for up to ttl after it was last asked about.
func WithCache(ttl time.Duration, max int) Option {
	return func(o *options) { o.cacheTTL, o.cacheMax = ttl, max }
}

// WithClock sets the clock of the cache; nil means time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Dial connects to the authority's gRPC address.
func Dial(target string, opts ...Option) (*Client, error) {
	o := collect(opts)
	tc := o.transport
	if tc == nil {
		tc = insecure.NewCredentials()
	}
	dial := append([]grpc.DialOption{grpc.WithTransportCredentials(tc)}, o.dial...)
	if o.credential != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{cred: o.credential, secure: o.transport != nil}))
	}
	conn, err := grpc.NewClient(target, dial...)
	if err != nil {
		return nil, err
	}
	c := newClient(conn, o)
	c.conn = conn
	return c, nil
}

// New returns a Client over an existing connection; Close leaves conn open.
// The credential of WithCredential is sent as call metadata.
func New(conn grpc.ClientConnInterface, opts ...Option) *Client {
	o := collect(opts)
	if o.credential != "" {
		conn = &withCredential{ClientConnInterface: conn, cred: bearer{cred: o.credential}}
	}
	return newClient(conn, o)
}

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}

func newClient(conn grpc.ClientConnInterface, o options) *Client {
	c := &Client{tokens: pb.NewTokenServiceClient(conn), now: o.now}
	if o.cacheTTL > 0 {
		c.cache = newCache(o.cacheTTL, o.cacheMax)
	}
	return c
}

// Close closes the connection Dial opened.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// Validate asks whether secret is a valid token. A token that is not valid
// is a Verdict with Allowed false and its reason, not an error; errors are
// the call's (a bad credential, an unreachable authority).
func (c *Client) Validate(ctx context.Context, secret string) (Verdict, error) {
	if secret == "" {
		return Verdict{Reason: pb.Reason_REASON_TOKEN_REQUIRED}, nil
	}
	key := cacheKey(secret, "", 0)
	if v, ok := c.cache.get(key, c.now()); ok {
		return v, nil
	}
	resp, err := c.tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: secret})
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{Allowed: resp.GetValid(), Reason: resp.GetReason()}
	if v.Allowed {
		t := resp.GetToken()
		v.WorkspaceID, v.TokenID, v.UserID, v.ExpireTime = t.GetWorkspaceId(), t.GetTokenId(), t.GetUserId(), asTime(t.GetExpireTime())
		c.cache.put(key, v, c.now())
	}
	return v, nil
}

// CheckAccess asks whether secret (empty: none) may perform op on zoo
// ("workspace/zoo").
func (c *Client) CheckAccess(ctx context.Context, secret, zoo string, op pb.Operation) (Verdict, error) {
	key := cacheKey(secret, zoo, op)
	if v, ok := c.cache.get(key, c.now()); ok {
		return v, nil
	}
	resp, err := c.tokens.CheckAccess(ctx, &pb.CheckAccessRequest{Secret: secret, Zoo: zoo, Operation: op})
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{
		Allowed:     resp.GetAllowed(),
		Reason:      resp.GetReason(),
		WorkspaceID: resp.GetWorkspaceId(),
		TokenID:     resp.GetTokenId(),
		UserID:      resp.GetUserId(),
		ExpireTime:  asTime(resp.GetExpireTime()),
	}
	if v.Allowed {
		c.cache.put(key, v, c.now())
	}
	return v, nil
}

func asTime(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// bearer is the service credential as per-RPC credentials.
type bearer struct {
	cred   string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.cred}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.secure }

// withCredential adds the credential to every call on a connection the
// client does not own.
type withCredential struct {
	grpc.ClientConnInterface
	cred bearer
}

func (w *withCredential) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return w.ClientConnInterface.Invoke(ctx, method, args, reply, append(opts, grpc.PerRPCCredentials(w.cred))...)
}

func (w *withCredential) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return w.ClientConnInterface.NewStream(ctx, desc, method, append(opts, grpc.PerRPCCredentials(w.cred))...)
}
