/**
 * The conditions a build runs under, and the variations reprokit applies to them: reprotest's
 * list, done with what a container can change (docker's options, the environment, a copy of the
 * source) and what the builder image has (libfaketime, a UTF-8 locale, setarch).
 */

/** What a probe found in the builder image and the daemon, deciding which variations apply. */
export interface ImageFacts {
  /** Path of libfaketime in the image, when it has one. */
  libfaketime?: string;
  /** A UTF-8 locale the image has (glibc's C.UTF-8 comes with libc-bin). */
  utf8Locale?: string;
  /** The image has setarch (util-linux). */
  setarch: boolean;
  /** The image has tar, which unpacks a command build's source copy. */
  tar: boolean;
  /** CPUs the daemon can give a container. */
  cpus: number;
  /** The image's build user, `uid:gid`. */
  user: string;
}

export interface BuildConditions {
  /** Where the source is copied to and the build runs. */
  sourcePath: string;
  /** The order the source's entries are created in, which is the order readdir returns on tmpfs. */
  fileOrder: 'name' | 'reverse';
  user: string;
  hostname: string;
  domainname: string;
  umask: string;
  /** Docker cpuset, e.g. `0-1`. */
  cpuset: string;
  /** Put before the build command, e.g. setarch. */
  wrapper: string[];
  /** The environment beside the build's own (which comes after and wins, e.g. CARGO_HOME). */
  env: Record<string, string>;
}

export const VARIATION_NAMES = [
  'build-path',
  'clock',
  'hostname',
  'user',
  'home',
  'umask',
  'locale',
  'timezone',
  'environment',
  'cpus',
  'file-order',
  'personality',
  'aslr',
] as const;
export type VariationName = (typeof VARIATION_NAMES)[number];

export interface Variation {
  name: VariationName;
  /** What the variation changes, control -> varied, for the report. */
  describe(facts: ImageFacts): string;
  /** Why the variation cannot be applied with this image or daemon; undefined when it can. */
  unavailable(facts: ImageFacts): string | undefined;
  apply(conditions: BuildConditions, facts: ImageFacts): void;
}

/** The control build's conditions: those of a normal reprokit build, plus the control side of each variation. */
export function controlConditions(facts: ImageFacts, sourceDateEpoch: number): BuildConditions {
  return {
    sourcePath: '/src',
    fileOrder: 'name',
    user: facts.user,
    hostname: 'reprokit',
    domainname: '',
    umask: '022',
    cpuset: facts.cpus > 1 ? `0-${facts.cpus - 1}` : '0',
    wrapper: [],
    env: {
      // What a command build's container has (build/container-build.ts): the control build is that build.
      SOURCE_DATE_EPOCH: String(sourceDateEpoch),
      TZ: 'UTC',
      LC_ALL: 'C',
      HOME: '/home/build',
    },
  };
}

const FAKETIME_DAYS = 400;
const FAKETIME_OFFSET = `+${FAKETIME_DAYS}d`;
const VARIED_SOURCE_PATH = '/build/reprokit-vary/a/deeper/path/src';
const VARIED_HOME = '/tmp/reprokit-vary-home';
const EXTRA_ENV = ['REPROKIT_VARY_CAPTURE_ENVIRONMENT', 'i_capture_the_environment'] as const;

/**
 * A zone whose date differs from UTC's now, so a build printing the local date differs: UTC-12
 * before noon UTC, UTC+14 from noon (POSIX TZ names count the other way: GMT+12 is UTC-12).
 */
function variedTimezone(): string {
  return new Date().getUTCHours() < 12 ? 'GMT+12' : 'GMT-14';
}

function shiftedUser(user: string): string {
  const [uid, gid] = user.split(':').map(Number);
  return `${uid + 1}:${(gid ?? uid) + 1}`;
}

export const VARIATIONS: readonly Variation[] = [
  {
    name: 'build-path',
    describe: () => `source at /src -> ${VARIED_SOURCE_PATH}`,
    unavailable: () => undefined,
    apply: (c) => void (c.sourcePath = VARIED_SOURCE_PATH),
  },
  {
    name: 'clock',
    describe: () => `wall clock ${FAKETIME_DAYS} days ahead (libfaketime; SOURCE_DATE_EPOCH unchanged)`,
    unavailable: (f) => (f.libfaketime ? undefined : 'the image has no libfaketime (add the libfaketime package to its environment)'),
    apply: (c, f) => {
      c.env.LD_PRELOAD = f.libfaketime!;
      c.env.FAKETIME = FAKETIME_OFFSET;
      // Faking CLOCK_MONOTONIC too makes some runtimes spin or hang; the wall clock is what builds embed.
      c.env.FAKETIME_DONT_FAKE_MONOTONIC = '1';
      // By default libfaketime also shifts the times stat() reports for files: a file touched to
      // SOURCE_DATE_EPOCH (makepkg's, bsdtar's) would read 400 days later. A later clock does not
      // do that (measured: makepkg's package entries moved by exactly the offset), so it is off.
      c.env.NO_FAKE_STAT = '1';
    },
  },
  {
    name: 'hostname',
    describe: () => 'host name reprokit -> reprokit-vary, domain name (none) -> vary.invalid',
    unavailable: () => undefined,
    apply: (c) => {
      c.hostname = 'reprokit-vary';
      c.domainname = 'vary.invalid';
    },
  },
  {
    name: 'user',
    describe: (f) => `uid:gid ${f.user} -> ${shiftedUser(f.user)}`,
    unavailable: () => undefined,
    apply: (c, f) => void (c.user = shiftedUser(f.user)),
  },
  {
    name: 'home',
    describe: () => `HOME /home/build -> ${VARIED_HOME}`,
    unavailable: () => undefined,
    apply: (c) => void (c.env.HOME = VARIED_HOME),
  },
  {
    name: 'umask',
    describe: () => 'umask 022 -> 002',
    unavailable: () => undefined,
    apply: (c) => void (c.umask = '002'),
  },
  {
    name: 'locale',
    describe: (f) => `LC_ALL C -> ${f.utf8Locale ?? 'a UTF-8 locale'} (and LANG)`,
    unavailable: (f) => (f.utf8Locale ? undefined : 'the image has no UTF-8 locale (add libc-bin, which has C.UTF-8, to its environment)'),
    apply: (c, f) => {
      c.env.LC_ALL = f.utf8Locale!;
      c.env.LANG = f.utf8Locale!;
    },
  },
  {
    name: 'timezone',
    describe: () => `TZ UTC -> ${variedTimezone()} (another date than UTC's at this hour)`,
    unavailable: () => undefined,
    apply: (c) => void (c.env.TZ = variedTimezone()),
  },
  {
    name: 'environment',
    describe: () => `an extra variable ${EXTRA_ENV[0]}=${EXTRA_ENV[1]}`,
    unavailable: () => undefined,
    apply: (c) => void (c.env[EXTRA_ENV[0]] = EXTRA_ENV[1]),
  },
  {
    name: 'cpus',
    describe: (f) => `${f.cpus} CPUs -> 1 CPU (docker cpuset) and 1 job (CARGO_BUILD_JOBS=1, MAKEFLAGS=-j1)`,
    unavailable: (f) => (f.cpus > 1 ? undefined : 'the daemon has only one CPU'),
    apply: (c, f) => {
      c.cpuset = String(f.cpus - 1);
      c.env.CARGO_BUILD_JOBS = '1';
      c.env.MAKEFLAGS = '-j1';
    },
  },
  {
    name: 'file-order',
    describe: () => 'source entries created in reverse name order (readdir order reversed)',
    unavailable: () => undefined,
    apply: (c) => void (c.fileOrder = 'reverse'),
  },
  {
    name: 'personality',
    describe: () => 'kernel personality UNAME26 (setarch --uname-2.6: uname reports a 2.6 kernel)',
    unavailable: (f) => (f.setarch ? undefined : 'the image has no setarch (util-linux)'),
    apply: (c) => void (c.wrapper = ['setarch', 'x86_64', '--uname-2.6']),
  },
  {
    name: 'aslr',
    describe: () => 'address space layout randomization off (setarch -R)',
    // Measured: `setarch x86_64 -R` fails with EPERM in a container, since docker's default seccomp
    // profile allows personality() only for PER_LINUX, PER_LINUX32 and UNAME26. Every build already
    // runs with ASLR on, so a build depending on addresses differs between two plain builds too.
    unavailable: () => "docker's default seccomp profile refuses personality(ADDR_NO_RANDOMIZE); ASLR stays on in every build",
    apply: () => undefined,
  },
];

export function variationByName(name: string): Variation | undefined {
  return VARIATIONS.find((v) => v.name === name);
}

/** The conditions of a build under the given variations. */
export function variedConditions(facts: ImageFacts, sourceDateEpoch: number, variations: readonly Variation[]): BuildConditions {
  const conditions = controlConditions(facts, sourceDateEpoch);
  for (const variation of variations) variation.apply(conditions, facts);
  return conditions;
}
