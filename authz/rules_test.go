package authz_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/authz"
	pb "tokenauthority/gen/tokenauthority/v1"
)

const (
	dl    = pb.Operation_OPERATION_DOWNLOAD
	cloud = pb.Operation_OPERATION_CLOUD_INFERENCE
)

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	rs := authz.MustDefaultRules()
	long := "/zoo/v1/public/models/acme/pub/" + strings.Repeat("a", authz.MaxURILen)
	tests := []struct {
		name, method, uri string
		want              authz.Target
		err               error
	}{
		{"download", "GET", "/zoo/v1/public/models/acme/pub/model.bin", authz.Target{"acme", "pub", dl}, nil},
		{"deep download", "GET", "/zoo/v1/public/models/acme/pub/a/b/c.json", authz.Target{"acme", "pub", dl}, nil},
		{"zoo root", "GET", "/zoo/v1/public/models/acme/pub", authz.Target{"acme", "pub", dl}, nil},
		{"trailing slash", "GET", "/zoo/v1/public/models/acme/pub/", authz.Target{"acme", "pub", dl}, nil},
		{"any method", "", "/zoo/v1/inference/acme/priv/predict", authz.Target{"acme", "priv", cloud}, nil},
		{"query ignored", "POST", "/zoo/v1/inference/acme/priv/predict?x=1&next=/zoo/v1/public/models/a/b", authz.Target{"acme", "priv", cloud}, nil},
		{"query cannot make a match", "GET", "/elsewhere?/zoo/v1/public/models/acme/pub/x", authz.Target{}, authz.ErrNoRule},
		{"encoded file name", "GET", "/zoo/v1/public/models/acme/pub/my%20model.bin", authz.Target{"acme", "pub", dl}, nil},
		{"encoded letter after the zoo", "GET", "/zoo/v1/public/models/acme/pub/%6d", authz.Target{"acme", "pub", dl}, nil},
		{"sdk file name", "GET", "/zoo/v1/public/models/acme/pub/org/my-model_v2.1~rc/model-00001-of-00002.safetensors?download=true", authz.Target{"acme", "pub", dl}, nil},
		{"sub-delims, colon and at", "GET", "/zoo/v1/public/models/acme/pub/a!$&'()*+,=:@b", authz.Target{"acme", "pub", dl}, nil},
		{"encoded sub-delims and space", "GET", "/zoo/v1/public/models/acme/pub/m%20%281%29%2B%21.bin", authz.Target{"acme", "pub", dl}, nil},
		{"query may hold ; % and ?", "GET", "/zoo/v1/public/models/acme/pub/m?a=1;b=%zz?c", authz.Target{"acme", "pub", dl}, nil},

		{"other prefix", "GET", "/api/v1/tokens/x/info", authz.Target{}, authz.ErrNoRule},
		{"too short", "GET", "/zoo/v1/public/models/acme", authz.Target{}, authz.ErrNoRule},
		{"upper-case workspace", "GET", "/zoo/v1/public/models/Acme/pub/m", authz.Target{}, authz.ErrNoRule},
		{"id too long", "GET", "/zoo/v1/public/models/" + strings.Repeat("a", 64) + "/pub/m", authz.Target{}, authz.ErrNoRule},
		{"literal case", "GET", "/ZOO/v1/public/models/acme/pub/m", authz.Target{}, authz.ErrNoRule},

		{"dot dot", "GET", "/zoo/v1/public/models/acme/pub/../../inference/acme/priv/x", authz.Target{}, authz.ErrBadPath},
		{"dot dot into other workspace", "GET", "/zoo/v1/public/models/acme/../other/pub/m", authz.Target{}, authz.ErrBadPath},
		{"encoded dot dot", "GET", "/zoo/v1/public/models/acme/pub/%2e%2e/m", authz.Target{}, authz.ErrBadPath},
		{"dot", "GET", "/zoo/v1/public/models/./acme/pub/m", authz.Target{}, authz.ErrBadPath},
		{"double slash", "GET", "/zoo/v1/public/models//acme/pub/m", authz.Target{}, authz.ErrBadPath},
		{"leading double slash", "GET", "//zoo/v1/public/models/acme/pub/m", authz.Target{}, authz.ErrBadPath},
		{"encoded slash", "GET", "/zoo/v1/public/models/acme%2Fpub/x/m", authz.Target{}, authz.ErrBadPath},
		{"encoded slash lower", "GET", "/zoo/v1/public/models/acme/pub%2fx/m", authz.Target{}, authz.ErrBadPath},
		{"encoded backslash", "GET", "/zoo/v1/public/models/acme/pub/%5C..%5Cm", authz.Target{}, authz.ErrBadPath},
		{"backslash", "GET", `/zoo/v1/public/models/acme/pub\..\m`, authz.Target{}, authz.ErrBadPath},
		{"bad escape", "GET", "/zoo/v1/public/models/acme/pub/%zz", authz.Target{}, authz.ErrBadPath},
		{"encoded NUL", "GET", "/zoo/v1/public/models/acme/pub/m%00", authz.Target{}, authz.ErrBadPath},
		{"control character", "GET", "/zoo/v1/public/models/acme/pub/m\n", authz.Target{}, authz.ErrBadPath},
		{"fragment", "GET", "/zoo/v1/public/models/acme/pub/m#frag", authz.Target{}, authz.ErrBadPath},
		{"encoded workspace letter", "GET", "/zoo/v1/public/models/%61cme/pub/m", authz.Target{}, authz.ErrBadPath},
		{"encoded zoo letter", "GET", "/zoo/v1/public/models/acme/pu%62/m", authz.Target{}, authz.ErrBadPath},
		{"encoded literal", "GET", "/%7aoo/v1/public/models/acme/pub/m", authz.Target{}, authz.ErrBadPath},
		{"# then dot dot", "GET", "/zoo/v1/public/models/acme/pub#/../../acme/priv/m", authz.Target{}, authz.ErrBadPath},
		{"# in the query", "GET", "/zoo/v1/public/models/acme/pub/m?a#/../../priv", authz.Target{}, authz.ErrBadPath},
		{"encoded #", "GET", "/zoo/v1/public/models/acme/pub/%23/m", authz.Target{}, authz.ErrBadPath},
		{"double encoding", "GET", "/zoo/v1/public/models/acme/pub/%252e%252e/m", authz.Target{}, authz.ErrBadPath},
		{"double encoded #", "GET", "/zoo/v1/public/models/acme/pub/%2523/m", authz.Target{}, authz.ErrBadPath},
		{"path parameter", "GET", "/zoo/v1/public/models/acme/pub;x/m", authz.Target{}, authz.ErrBadPath},
		{"dot dot parameter", "GET", "/zoo/v1/public/models/acme/pub/..;/priv/m", authz.Target{}, authz.ErrBadPath},
		{"encoded ;", "GET", "/zoo/v1/public/models/acme/pub/x%3B/m", authz.Target{}, authz.ErrBadPath},
		{"encoded ?", "GET", "/zoo/v1/public/models/acme/pub/x%3f/m", authz.Target{}, authz.ErrBadPath},
		{"fullwidth dots", "GET", "/zoo/v1/public/models/acme/pub/\uff0e\uff0e/priv/m", authz.Target{}, authz.ErrBadPath},
		{"encoded fullwidth dots", "GET", "/zoo/v1/public/models/acme/pub/%EF%BC%8E%EF%BC%8E/priv/m", authz.Target{}, authz.ErrBadPath},
		{"overlong dots", "GET", "/zoo/v1/public/models/acme/pub/\xc0\xae\xc0\xae/priv/m", authz.Target{}, authz.ErrBadPath},
		{"encoded overlong dots", "GET", "/zoo/v1/public/models/acme/pub/%c0%ae%c0%ae/priv/m", authz.Target{}, authz.ErrBadPath},
		{"non-ASCII file name", "GET", "/zoo/v1/public/models/acme/pub/mod\u00e8le.bin", authz.Target{}, authz.ErrBadPath},
		{"encoded non-ASCII file name", "GET", "/zoo/v1/public/models/acme/pub/mod%C3%A8le.bin", authz.Target{}, authz.ErrBadPath},
		{"three dots", "GET", "/zoo/v1/public/models/acme/pub/.../priv/m", authz.Target{}, authz.ErrBadPath},
		{"dots and space", "GET", "/zoo/v1/public/models/acme/pub/..%20/priv/m", authz.Target{}, authz.ErrBadPath},
		{"raw space", "GET", "/zoo/v1/public/models/acme/pub/my model.bin", authz.Target{}, authz.ErrBadPath},
		{"gen-delim [", "GET", "/zoo/v1/public/models/acme/pub/[m]", authz.Target{}, authz.ErrBadPath},
		{"NUL in the query", "GET", "/zoo/v1/public/models/acme/pub/m?a=\x00", authz.Target{}, authz.ErrBadPath},
		{"relative", "GET", "zoo/v1/public/models/acme/pub/m", authz.Target{}, authz.ErrBadPath},
		{"absolute URL", "GET", "http://evil/zoo/v1/public/models/acme/pub/m", authz.Target{}, authz.ErrBadPath},
		{"empty", "GET", "", authz.Target{}, authz.ErrBadPath},
		{"root", "GET", "/", authz.Target{}, authz.ErrBadPath},
		{"very long", "GET", long, authz.Target{}, authz.ErrBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := rs.Match(tt.method, tt.uri)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Match(%q) error = %v; want %v", tt.uri, err, tt.err)
			}
			if got != tt.want {
				t.Errorf("Match(%q) = %+v; want %+v", tt.uri, got, tt.want)
			}
		})
	}
}

func TestParseRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		wantErr    string // substring; "" for success
	}{
		{"defaults", authz.DefaultRules, ""},
		{"method", "GET /models/{workspace}/{zoo}/... download\n", ""},
		{"exact", "/m/{zoo}/{workspace} cloud_inference\n", ""},
		{"no rules", "# nothing\n\n", "no rules"},
		{"one field", "\n/models/{workspace}/{zoo}\n", "line 2: want"},
		{"four fields", "GET /m/{workspace}/{zoo} download extra\n", "line 1: want"},
		{"bad operation", "/m/{workspace}/{zoo} upload\n", `line 1: operation "upload"`},
		{"enum spelling", "/m/{workspace}/{zoo} OPERATION_DOWNLOAD\n", "line 1: operation"},
		{"bad method", "get /m/{workspace}/{zoo} download\n", `line 1: method "get"`},
		{"relative", "m/{workspace}/{zoo} download\n", "must start with /"},
		{"no zoo", "/m/{workspace}/x download\n", "exactly one {workspace} and one {zoo}"},
		{"two zoos", "/m/{workspace}/{zoo}/{zoo} download\n", "exactly one"},
		{"unknown capture", "/m/{workspace}/{zoo}/{file} download\n", "only {workspace} and {zoo}"},
		{"partial capture", "/m/ws-{workspace}/{zoo} download\n", "only {workspace} and {zoo}"},
		{"empty segment", "/m//{workspace}/{zoo} download\n", "empty, dot"},
		{"dot dot", "/m/../{workspace}/{zoo} download\n", "empty, dot"},
		{"inner rest", "/m/.../{workspace}/{zoo} download\n", "empty, dot"},
		{"percent", "/m%2F/{workspace}/{zoo} download\n", "no %"},
		{"semicolon", "/m;v=1/{workspace}/{zoo} download\n", "no %, ;"},
		{"non-ASCII", "/mod\u00e8les/{workspace}/{zoo} download\n", "RFC 3986 pchar"},
		{"four dots", "/..../{workspace}/{zoo} download\n", "empty, dot"},
		{"sub-delims", "/m:v1/a@b!/{workspace}/{zoo} download\n", ""},
		{"too long", "/" + strings.Repeat("a/", 31) + "{workspace}/{zoo} download\n", "more than 32 segments"},
		{"all errors", "/a download\n# ok\n/b/{workspace}/{zoo} nope\n", "line 3:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := authz.ParseRules(strings.NewReader(tt.file))
			if tt.wantErr == "" {
				if err != nil || rs == nil {
					t.Fatalf("ParseRules = %v, %v; want rules", rs, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseRules error = %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRulesOrderAndMethod(t *testing.T) {
	t.Parallel()
	rs, err := authz.ParseRules(strings.NewReader(`
POST /api/{workspace}/{zoo}/...  cloud_inference
/api/{workspace}/{zoo}/...       download
`))
	if err != nil {
		t.Fatal(err)
	}
	for method, want := range map[string]pb.Operation{"POST": cloud, "GET": dl, "": dl} {
		got, err := rs.Match(method, "/api/acme/pub/run")
		if err != nil {
			t.Fatal(err)
		}
		if got.Operation != want {
			t.Errorf("Match(%s) = %v; want %v", method, got.Operation, want)
		}
	}
}

func TestLoadRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.rules")
	bad := filepath.Join(dir, "bad.rules")
	if err := os.WriteFile(good, []byte("/m/{workspace}/{zoo}/... download\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("# header\n/m/{workspace} download\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := authz.LoadRules(good); err != nil {
		t.Errorf("LoadRules(good) = %v", err)
	}
	if _, err := authz.LoadRules(""); err != nil {
		t.Errorf("LoadRules(\"\") = %v; want the defaults", err)
	}
	if _, err := authz.LoadRules(bad); err == nil || !strings.Contains(err.Error(), bad+": line 2:") {
		t.Errorf("LoadRules(bad) = %v; want an error naming the file and line 2", err)
	}
	if _, err := authz.LoadRules(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadRules(missing) = %v; want ErrNotExist", err)
	}
}
