package server

import (
	"regexp"
	"strings"
	"testing"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// TestEveryMethodHasAnAuditAction walks every RPC of the API's proto
// descriptors: each must be in the audit table; methods that only read
// (Get*, List*, and the named checks) record nothing, except RevealToken,
// and every other method records an action of the form <entity>.<verb>.
func TestEveryMethodHasAnAuditAction(t *testing.T) {
	t.Parallel()
	readOnly := map[string]bool{
		"ValidateToken": true, "CheckAccess": true, "GetTokenInfo": true, "VerifyAuditLog": true,
	}
	actionForm := regexp.MustCompile(`^[a-z]+\.[a-z_]+$`)
	seen := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("tokenauthority.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			ms := fd.Services().Get(i).Methods()
			for j := 0; j < ms.Len(); j++ {
				m := ms.Get(j)
				seen++
				name := "/" + string(m.Parent().FullName()) + "/" + string(m.Name())
				action, ok := auditAction(name)
				if !ok {
					t.Errorf("%s is missing from the audit table", name)
					continue
				}
				short := string(m.Name())
				reads := readOnly[short] || strings.HasPrefix(short, "Get") || strings.HasPrefix(short, "List")
				switch {
				case short == "Backup":
					if action != "store.backup" {
						t.Errorf("Backup records %q; want store.backup", action)
					}
				case short == "RevealToken":
					if action != "token.reveal" {
						t.Errorf("RevealToken records %q; want token.reveal", action)
					}
				case reads && action != notAudited:
					t.Errorf("%s only reads but records %q", name, action)
				case !reads && !actionForm.MatchString(action):
					t.Errorf("%s changes state but records %q; want an action <entity>.<verb>", name, action)
				}
			}
		}
		return true
	})
	if seen < 30 {
		t.Errorf("walked %d methods; the descriptors were not all found", seen)
	}
	if action, ok := auditAction(authv3.Authorization_Check_FullMethodName); !ok || action != notAudited {
		t.Errorf("Envoy's Check = %q, %v; want a read that records nothing", action, ok)
	}
	if _, ok := auditAction("/tokenauthority.v1.TokenService/NoSuchMethod"); ok {
		t.Error("an unknown method has an audit action")
	}
}
