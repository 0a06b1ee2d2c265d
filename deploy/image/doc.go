// Package image packs release binaries into an OCI image without a
// container engine: one layer on an empty base holding the static server
// binary, the CA certificates and a passwd/group entry for the non-root
// user 65532, with the configuration the Containerfile describes (user,
// entrypoint, ports, data volume, OCI labels). Build returns a multi-platform
// index; WriteLayout stores it as an OCI image layout directory that any
// OCI tool can push (crane push, skopeo copy oci:DIR ...).
//
// How it can hurt you: the CA bundle is the build machine's (Debian's
// /etc/ssl/certs/ca-certificates.crt by default), so the image trusts what
// that machine trusted on the day it was built. The image has no shell and
// no /tmp: the server writes only under /data, which must be a volume (or
// the root file system writable) for it to start. File times in the layer
// are fixed so that the same binaries give the same layer digest.
package image
