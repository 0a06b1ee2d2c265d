package deploy_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// containerfile reads ../Containerfile as instructions of its last stage
// (continuation lines joined) and the text of the whole file.
func containerfile(t *testing.T) (map[string][]string, string) {
	t.Helper()
	b, err := os.ReadFile("../Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	last := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		instr = strings.ToUpper(instr)
		if instr == "FROM" {
			last = map[string][]string{}
		}
		last[instr] = append(last[instr], strings.TrimSpace(args))
	}
	return last, text
}

// TestContainerfileMatchesImage: the Containerfile's final stage says what
// the offline build's image configuration says, and its build stage builds
// the binary the same way (static, -trimpath, version stamped).
func TestContainerfileMatchesImage(t *testing.T) {
	t.Parallel()
	cf, _ := readImage(t)
	c := cf.Config
	final, text := containerfile(t)
	if got := final["FROM"]; !slices.Equal(got, []string{"scratch"}) {
		t.Errorf("final stage FROM %q; want scratch (an empty base)", got)
	}
	if got := final["USER"]; !slices.Equal(got, []string{c.User}) {
		t.Errorf("USER %q; image %q", got, c.User)
	}
	if got := final["WORKDIR"]; !slices.Equal(got, []string{c.WorkingDir}) {
		t.Errorf("WORKDIR %q; image %q", got, c.WorkingDir)
	}
	var entrypoint, volumes []string
	if err := json.Unmarshal([]byte(strings.Join(final["ENTRYPOINT"], "")), &entrypoint); err != nil {
		t.Errorf("ENTRYPOINT %q: %v", final["ENTRYPOINT"], err)
	}
	if diff := cmp.Diff(c.Entrypoint, entrypoint); diff != "" {
		t.Errorf("ENTRYPOINT (-image +Containerfile):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(strings.Join(final["VOLUME"], "")), &volumes); err != nil {
		t.Errorf("VOLUME %q: %v", final["VOLUME"], err)
	}
	if diff := cmp.Diff(c.Volumes, setOf(volumes, "")); diff != "" {
		t.Errorf("VOLUME (-image +Containerfile):\n%s", diff)
	}
	if diff := cmp.Diff(c.ExposedPorts, setOf(strings.Fields(strings.Join(final["EXPOSE"], " ")), "/tcp")); diff != "" {
		t.Errorf("EXPOSE (-image +Containerfile):\n%s", diff)
	}
	if diff := cmp.Diff(c.Env, strings.Fields(strings.Join(final["ENV"], " "))); diff != "" {
		t.Errorf("ENV (-image +Containerfile):\n%s", diff)
	}
	for label := range c.Labels {
		if label != "org.opencontainers.image.created" && !strings.Contains(strings.Join(final["LABEL"], " "), label+"=") {
			t.Errorf("Containerfile has no LABEL %s", label)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X tokenauthority/buildinfo.version="} {
		if !strings.Contains(text, want) {
			t.Errorf("the Containerfile's build stage lacks %s", want)
		}
	}
}

func setOf(items []string, suffix string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, it := range items {
		m[it+suffix] = struct{}{}
	}
	return m
}
