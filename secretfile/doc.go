// Package secretfile writes and reads the files that hold secrets: the
// master key, the bootstrap admin credential, TLS private keys and store
// snapshots being restored.
//
// Create publishes a file atomically: the content goes to a private
// temporary file in the same directory, which is synced and then linked to
// its final name, and the directory is synced. A reader therefore sees
// either no file or the whole file, even after a crash, and an existing file
// is never overwritten. Read refuses a file that group or others may access.
//
// How it can hurt you: Create needs hard links, so the directory must be on
// a file system that supports them (every local Linux one does; some network
// and FUSE mounts do not). A crash between writing the temporary file and
// linking it leaves a ".NAME.tmp*" file behind; it is private and harmless,
// and nothing removes it but the operator. Read's permission check is only
// as good as the file system's modes: on a mount that reports 0777 for
// everything, every secret file is refused.
package secretfile
