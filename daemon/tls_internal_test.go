package daemon

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
)

func TestWarnPlaintext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr net.Addr
		warn bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, false},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, true},
		{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 8080}, true},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		warnPlaintext(slog.New(slog.NewTextHandler(&buf, nil)), tt.addr)
		if got := strings.Contains(buf.String(), "plaintext"); got != tt.warn {
			t.Errorf("warnPlaintext(%v) logged %q; want a warning: %v", tt.addr, buf.String(), tt.warn)
		}
	}
}

func TestTLSFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--tls-cert", "c.pem"}, "go together"},
		{[]string{"--tls-key", "k.pem"}, "go together"},
		{[]string{"--tls-client-ca", "ca.pem"}, "needs --tls-cert"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem"}, ""},
	}
	for _, tt := range tests {
		_, err := ParseConfig(tt.args, func(string) string { return "" }, &bytes.Buffer{})
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("ParseConfig(%q) = %v; want error %q", tt.args, err, tt.wantErr)
		}
	}
}
