import { resolve } from 'node:path';
import type { DebSources } from './deb-cache';
import { checkMirror, snapshotBase } from './deb-sources';

/** The options `env lock|build|fetch` share: where .debs come from when the cache and apt lack them. */
export const DEB_SOURCE_OPTIONS = {
  debs: { type: 'string', multiple: true },
  snapshot: { type: 'string' },
  mirror: { type: 'string', multiple: true },
} as const;

/** The parsed options as DebSources, each checked before anything is fetched. */
export function debSources(values: { debs?: string[]; snapshot?: string; mirror?: string[] }): DebSources {
  return {
    debsDirs: values.debs?.map((dir) => resolve(dir)),
    snapshot: values.snapshot === undefined ? undefined : snapshotBase(values.snapshot),
    mirrors: values.mirror?.map(checkMirror),
  };
}
