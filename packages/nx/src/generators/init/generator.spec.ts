import { readNxJson, updateNxJson } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import initGenerator from './generator';

const shipped = (name: string) => JSON.parse(readFileSync(join(dirname(require.resolve('@reprokit/core/package.json')), 'envs', name, 'env.lock.json'), 'utf8'));
const pluginOptions = (tree: ReturnType<typeof createTreeWithEmptyWorkspace>) => {
  const entry = readNxJson(tree)!.plugins!.find((p) => typeof p !== 'string' && p.plugin === '@reprokit/nx');
  return (entry as { options: Record<string, Record<string, unknown>> }).options;
};

describe('init generator', () => {
  it('copies every environment the examples use and pins each image ID in the plugin options', async () => {
    const tree = createTreeWithEmptyWorkspace({ formatter: 'none' } as never);
    await initGenerator(tree, {});
    for (const name of ['rust-builder', 'arch-builder', 'c-builder', 'static-base', 'node-builder']) {
      assert.ok(tree.exists(`tools/envs/${name}/env.json`), name);
      assert.deepEqual(JSON.parse(tree.read(`tools/envs/${name}/env.lock.json`, 'utf-8')!), shipped(name), name);
    }
    const options = pluginOptions(tree);
    assert.equal(options.elf.image, `reprokit/rust-builder@${shipped('rust-builder').imageId}`);
    assert.equal(options.arch.image, `reprokit/arch-builder@${shipped('arch-builder').imageId}`);
    assert.deepEqual(options.elfCommand, {
      environment: 'container',
      image: `reprokit/c-builder@${shipped('c-builder').imageId}`,
      envLock: 'tools/envs/c-builder/env.lock.json',
      toolchainPackage: '^gcc-[0-9]+$',
    });
    assert.deepEqual(options.npm, { image: `reprokit/node-builder@${shipped('node-builder').imageId}`, envLock: 'tools/envs/node-builder/env.lock.json' });
    assert.deepEqual(options.oci.envLocks, ['tools/envs/rust-builder/env.lock.json', 'tools/envs/c-builder/env.lock.json', 'tools/envs/static-base/env.lock.json', 'tools/envs/node-builder/env.lock.json']);
    const ignored = tree.read('.gitignore', 'utf-8')!.split('\n');
    for (const line of ['dist/', 'target/', '.nx/cache']) assert.ok(ignored.includes(line), line);
  });

  it('changes nothing when run again', async () => {
    const tree = createTreeWithEmptyWorkspace({ formatter: 'none' } as never);
    await initGenerator(tree, {});
    const before = ['nx.json', '.gitignore', 'reprokit.pins.json'].map((file) => tree.read(file, 'utf-8'));
    await initGenerator(tree, {});
    assert.deepEqual(['nx.json', '.gitignore', 'reprokit.pins.json'].map((file) => tree.read(file, 'utf-8')), before);
  });

  it('adds only the missing options to a plugin entry an older init wrote, keeping the workspace choices', async () => {
    const tree = createTreeWithEmptyWorkspace({ formatter: 'none' } as never);
    const nxJson = readNxJson(tree)!;
    nxJson.plugins = [{ plugin: '@reprokit/nx', options: { elf: { image: 'mine/rust@sha256:' + '3'.repeat(64) } } }];
    updateNxJson(tree, nxJson);
    await initGenerator(tree, {});
    const options = pluginOptions(tree);
    assert.deepEqual(options.elf, { image: 'mine/rust@sha256:' + '3'.repeat(64) });
    assert.equal(options.elfCommand.image, `reprokit/c-builder@${shipped('c-builder').imageId}`);
    assert.equal(readNxJson(tree)!.plugins!.length, 1);
  });
});
