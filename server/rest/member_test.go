package rest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"google.golang.org/grpc/peer"

	"tokenauthority/principal"
	"tokenauthority/server/rest"
)

// TestTrustedUser checks which requests the facade marks as signed in by the
// trusted proxy, as the services see them.
func TestTrustedUser(t *testing.T) {
	t.Parallel()
	proxies, err := rest.ParseProxies("127.0.0.0/8, ::1, 192.0.2.0/24")
	if err != nil {
		t.Fatal(err)
	}
	who := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := principal.TrustedUser(r.Context())
		if !ok {
			user = "-"
		}
		w.Write([]byte(user))
	})
	h := memberFacade(t, proxies, "GET /who", who)
	tests := []struct {
		name    string
		remote  string
		headers map[string][]string
		want    string
	}{
		{"loopback proxy", "127.0.0.1:5000", map[string][]string{"X-Forwarded-User": {"alice"}}, "alice"},
		{"IPv6 loopback proxy", "[::1]:5000", map[string][]string{"X-Forwarded-User": {"alice"}}, "alice"},
		{"IPv4-mapped address", "[::ffff:192.0.2.9]:5000", map[string][]string{"X-Forwarded-User": {"alice"}}, "alice"},
		{"untrusted address", "198.51.100.1:5000", map[string][]string{"X-Forwarded-User": {"alice"}}, "-"},
		{"unparsable address", "pipe", map[string][]string{"X-Forwarded-User": {"alice"}}, "-"},
		{"no header", "127.0.0.1:5000", nil, "-"},
		{"empty header", "127.0.0.1:5000", map[string][]string{"X-Forwarded-User": {" "}}, "-"},
		{"two headers", "127.0.0.1:5000", map[string][]string{"X-Forwarded-User": {"alice", "bob"}}, "-"},
		{"same-origin fetch", "127.0.0.1:5000", map[string][]string{"X-Forwarded-User": {"alice"}, "Sec-Fetch-Site": {"same-origin"}}, "alice"},
		{"typed into the address bar", "127.0.0.1:5000", map[string][]string{"X-Forwarded-User": {"alice"}, "Sec-Fetch-Site": {"none"}}, "alice"},
		{"request another site made", "127.0.0.1:5000", map[string][]string{"X-Forwarded-User": {"alice"}, "Sec-Fetch-Site": {"cross-site"}}, "-"},
		{"request a sibling site made", "127.0.0.1:5000", map[string][]string{"X-Forwarded-User": {"alice"}, "Sec-Fetch-Site": {"same-site"}}, "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/who", nil)
			req.RemoteAddr = tc.remote
			for k, vs := range tc.headers {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("user = %q; want %q", got, tc.want)
			}
		})
	}
}

func TestParseProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []netip.Prefix
		wantErr bool
	}{
		{"", nil, false},
		{"127.0.0.0/8,::1/128", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}, false},
		{" 10.1.2.3 , 10.9.0.0/16 ", []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32"), netip.MustParsePrefix("10.9.0.0/16")}, false},
		{"10.9.8.7/16", []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}, false},
		{"10.0.0.0/33", nil, true},
		{"proxy.local", nil, true},
	}
	for _, tc := range tests {
		got, err := rest.ParseProxies(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseProxies(%q) error = %v; want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("ParseProxies(%q) = %v; want %v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseProxies(%q)[%d] = %v; want %v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// TestForwardedClient: behind a trusted proxy the services see the client
// the proxy appended to X-Forwarded-For; anyone else's header is ignored.
func TestForwardedClient(t *testing.T) {
	t.Parallel()
	proxies, err := rest.ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	where := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := peer.FromContext(r.Context())
		if !ok {
			w.Write([]byte("-"))
			return
		}
		w.Write([]byte(p.Addr.String()))
	})
	h := memberFacade(t, proxies, "GET /where", where)
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"trusted proxy", "127.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7:0"},
		{"the proxy's entry is the last", "127.0.0.1:5000", []string{"203.0.113.1, 198.51.100.7"}, "198.51.100.7:0"},
		{"the last of several headers", "127.0.0.1:5000", []string{"203.0.113.1", "198.51.100.7"}, "198.51.100.7:0"},
		{"IPv6 client", "127.0.0.1:5000", []string{"2001:db8::7"}, "[2001:db8::7]:0"},
		{"no header", "127.0.0.1:5000", nil, "127.0.0.1:5000"},
		{"not an address", "127.0.0.1:5000", []string{"evil.test"}, "127.0.0.1:5000"},
		{"untrusted sender", "192.0.2.9:5000", []string{"198.51.100.7"}, "192.0.2.9:5000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/where", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Body.String(); got != tc.want {
				t.Errorf("client = %q; want %q", got, tc.want)
			}
		})
	}
}

// memberFacade is the REST facade in member mode, trusting proxies, with h
// served at pattern.
func memberFacade(t *testing.T, proxies []netip.Prefix, pattern string, h http.Handler) http.Handler {
	t.Helper()
	f, err := rest.New(context.Background(), rest.Config{
		Routes:      map[string]http.Handler{pattern: h},
		TrustedUser: &rest.TrustedUser{Header: "X-Forwarded-User", Proxies: proxies},
	}, tokens{}, workspaces{}, self{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
