// Package hostpath names paths on the user's machine the same way on
// Linux and macOS: a directory's real name, and the base directories
// paude keeps its own files in.
//
// A workspace's name is compared, hashed and handed to other programs
// (podman's bind mounts, git, labels that later commands match), so it
// must be one name per directory. On Linux that is the path with its
// symlinks resolved. macOS adds two things: /tmp and /var are symlinks
// into /private, and its file systems (APFS and HFS+ by default) find
// "/users/me/Proj" as well as "/Users/me/proj", while git and the kernel
// report the name as it is stored. Real returns that stored name.
//
// Go's os.UserConfigDir and os.UserCacheDir answer ~/Library/... on
// macOS; paude follows the XDG base directory variables everywhere, as
// podman does, so that the paths docs/ promise hold on every platform.
package hostpath
