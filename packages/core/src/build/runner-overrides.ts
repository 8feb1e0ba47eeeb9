/**
 * Small changes to the container a build runner starts, for variation builds (`reprokit vary`):
 * the runner's own build, with only these conditions different. Never set by a normal build.
 */
export interface RunnerOverrides {
  /** Environment over the runner's fixed conditions (TZ, LC_ALL, HOME); the build's own paths and SOURCE_DATE_EPOCH are not named here. */
  env?: Record<string, string>;
  /** Numeric `uid:gid` instead of the image's build user. */
  user?: string;
  hostname?: string;
  domainname?: string;
  /** Docker cpuset, e.g. `1`. */
  cpuset?: string;
  /** Put before the build's command, e.g. `setarch x86_64 --uname-2.6`. */
  wrapper?: string[];
}
