/**
 * How the source reaches a varied build: reprokit writes the in-tree builds' normalized copy of the
 * project (build/source-copy.ts) as a tar, in name order for the control and in reverse name order
 * for the file-order variation; the container unpacks it into a fresh tmpfs at the build path.
 * On tmpfs, readdir returns a directory's entries by creation order (measured on Linux 6.18: newest
 * first), so the order written is what varies the order a build lists its files in, without
 * disorderfs and FUSE, which containers do not have.
 *
 * The shell run in the container (argv: source path, umask, what to run after, command…): unpack
 * the copy with its modes and mtimes (-p: as the build user, not through the umask; make compares
 * mtimes), make a HOME that lives in /tmp, set the umask, run the build, then copy an in-tree
 * build's artifacts out of the copy into /out (the tmpfs is gone with the container).
 */
export const COPY_AND_BUILD_SCRIPT = [
  'set -e',
  'src=$1; mask=$2; after=$3; shift 3',
  'tar -xpf /reprokit/source.tar -C "$src"',
  'case $HOME in /tmp/*) mkdir -p "$HOME" ;; esac',
  'cd "$src"',
  'umask "$mask"',
  '"$@"',
  'eval "$after"',
].join('\n');
