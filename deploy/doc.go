// Package deploy holds what an operator deploys, and its tests: the
// container image (../Containerfile and deploy/image, built by
// deploy/release), the Helm chart (helm/tokenauthority) and the systemd
// unit (systemd/). The tests build the release for the host's platform and
// check each artefact with the real tools: the image read back from its OCI
// layout and its binary run chrooted as user 65532 on a read-only root,
// `helm lint` and `helm template` with every object decoded strictly into
// the Kubernetes API types, `systemd-analyze verify` and `security`.
//
// How it can hurt you: the tests need root (the image's server runs
// chrooted as user 65532), Debian's systemd-analyze and ca-certificates
// (scripts/test installs them), and build helm from tools/helm/go.mod the
// first time, which takes minutes on a cold cache. A chart change that
// only a live cluster would catch (an admission policy, a missing CRD) is
// not caught here.
package deploy
