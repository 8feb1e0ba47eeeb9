import { resolve } from 'node:path';
import type { DebSources } from './deb-cache';
import { checkMirror, snapshotBase } from './deb-sources';
import { checkRegistries } from '../registry/image-registries';

/** The options `env lock|build|fetch` share: where .debs come from when the cache and apt lack them. */
export const DEB_SOURCE_OPTIONS = {
  debs: { type: 'string', multiple: true },
  snapshot: { type: 'string' },
  mirror: { type: 'string', multiple: true },
  vault: { type: 'string', multiple: true },
} as const;

/** The parsed options as DebSources, each checked before anything is fetched. */
export function debSources(values: { debs?: string[]; snapshot?: string; mirror?: string[]; vault?: string[] }): DebSources {
  return {
    debsDirs: values.debs?.map((dir) => resolve(dir)),
    // Given: these vaults only; else REPROKIT_DEB_VAULTS or nx.json's debVaults, read when needed.
    vaults: values.vault?.length ? checkRegistries(values.vault, '--vault') : undefined,
    snapshot: values.snapshot === undefined ? undefined : snapshotBase(values.snapshot),
    mirrors: values.mirror?.map(checkMirror),
  };
}
