import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { configuredRegistry, parseNpmrc } from './npm-config';

/** What npm itself says, from `cwd` with `env` (npm on PATH, as the developers' machines have it). */
function npmSays(cwd: string, env: NodeJS.ProcessEnv, key = 'registry'): string {
  const result = spawnSync('npm', ['config', 'get', key], { cwd, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

describe("npm's registry configuration", () => {
  it('agrees with `npm config get registry`: env over project .npmrc over user .npmrc over the default', () => {
    const home = tempDir();
    const project = join(tempDir(), 'ws');
    mkdirSync(join(project, 'packages', 'lib'), { recursive: true });
    writeFileSync(join(project, 'package.json'), '{}');
    const inner = join(project, 'packages', 'lib');
    const base = { HOME: home, npm_config_globalconfig: join(home, 'none') };
    const cases: [string, NodeJS.ProcessEnv][] = [];
    cases.push(['default', base]);
    writeFileSync(join(home, '.npmrc'), 'registry=http://user.example:4873/\n');
    cases.push(['user', base]);
    writeFileSync(join(project, '.npmrc'), '# project\nregistry = "http://${REG_HOST}:4873"\n');
    cases.push(['project with ${VAR}', { ...base, REG_HOST: 'project.example' }]);
    cases.push(['environment', { ...base, REG_HOST: 'x', NPM_CONFIG_REGISTRY: 'http://env.example/' }]);
    for (const [label, env] of cases) {
      const ours = configuredRegistry({ cwd: inner, env });
      const npm = npmSays(inner, env);
      assert.equal(ours.registry.replace(/\/$/, ''), npm.replace(/\/$/, ''), label);
    }
    assert.match(configuredRegistry({ cwd: inner, env: { ...base, REG_HOST: 'p' } }).source, /ws\/\.npmrc \(registry\)$/);
  });

  it("a workspace member reads the workspace root's .npmrc, as npm does (its prefix is the root)", () => {
    const home = tempDir();
    const root = join(tempDir(), 'ws');
    mkdirSync(join(root, 'libs', 'a'), { recursive: true });
    mkdirSync(join(root, 'tools', 'b'), { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ private: true, workspaces: ['libs/*'] }));
    writeFileSync(join(root, 'libs', 'a', 'package.json'), '{"name": "a", "version": "1.0.0"}');
    writeFileSync(join(root, 'tools', 'b', 'package.json'), '{"name": "b", "version": "1.0.0"}');
    writeFileSync(join(root, '.npmrc'), 'registry=http://root.example:4873/\n');
    const env = { HOME: home, npm_config_globalconfig: join(home, 'none') };
    // A member: the root's .npmrc; a package the workspaces do not list: its own directory, npm's default.
    // `npm config get` refuses to run in a workspace (ENOWORKSPACES): npm exec shows the registry npm resolved.
    const npmExecSays = (cwd: string) => {
      const result = spawnSync('npm', ['exec', '--no', '--', 'node', '-p', 'process.env.npm_config_registry'], { cwd, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.trim();
    };
    const a = join(root, 'libs', 'a');
    assert.equal(configuredRegistry({ cwd: a, env }).registry.replace(/\/$/, ''), npmExecSays(a).replace(/\/$/, ''));
    const b = join(root, 'tools', 'b');
    assert.equal(configuredRegistry({ cwd: b, env }).registry.replace(/\/$/, ''), npmSays(b, env).replace(/\/$/, ''));
    assert.equal(configuredRegistry({ cwd: join(root, 'libs', 'a'), env }).registry, 'http://root.example:4873/');
  });

  it('a scope registry applies to that scope only, as npm reads it', () => {
    const home = tempDir();
    writeFileSync(join(home, '.npmrc'), '@acme:registry=http://acme.example/\nregistry=http://all.example/\n');
    const env = { HOME: home, npm_config_globalconfig: join(home, 'none') };
    assert.equal(configuredRegistry({ cwd: home, env, name: '@acme/lib' }).registry, 'http://acme.example/');
    assert.equal(npmSays(home, env, '@acme:registry'), 'http://acme.example/');
    assert.equal(configuredRegistry({ cwd: home, env, name: 'lib' }).registry, 'http://all.example/');
  });

  it('refuses a registry that is not http(s), naming where it was set; --registry wins', () => {
    assert.throws(() => configuredRegistry({ explicit: 'ftp://x' }), /--registry: registry "ftp:\/\/x" is not http/);
    assert.equal(configuredRegistry({ explicit: 'http://127.0.0.1:4873', env: {} }).registry, 'http://127.0.0.1:4873/');
    assert.deepEqual([...parseNpmrc('a=1\n; c\n[s]\nb = ${NOPE}\nc=${NOPE?}\n', {})], [['a', '1'], ['b', '${NOPE}'], ['c', '']]);
  });
});
