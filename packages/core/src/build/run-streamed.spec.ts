import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runStreamed } from './run-streamed';

describe('runStreamed', () => {
  const run = (script: string, lines: string[]) =>
    runStreamed({ command: 'sh', args: ['-c', script], cwd: '/', env: { PATH: process.env.PATH }, prefix: '[p:t] ', log: (line) => lines.push(line), umask: 0o077 });

  it('streams every line behind the prefix, a last unterminated one too, with the umask given', async () => {
    const lines: string[] = [];
    await run('echo one; umask; printf "two\\nthree"', lines);
    assert.deepEqual(lines, ['[p:t] one', '[p:t] 0077', '[p:t] two', '[p:t] three']);
  });

  it('reports the exit code and the last lines of a failure', async () => {
    const lines: string[] = [];
    await assert.rejects(run('for i in $(seq 1 25); do echo line $i; done; exit 4', lines), (error: Error) => {
      assert.equal(error.name, 'UserError');
      const [head, ...last] = error.message.split('\n');
      assert.match(head, /failed with exit 4; last lines:$/);
      assert.deepEqual(last, Array.from({ length: 20 }, (_, i) => `  line ${i + 6}`));
      return true;
    });
    assert.equal(lines.length, 25);
  });

  it('says when the command does not exist', async () => {
    await assert.rejects(runStreamed({ command: 'no-such-command-reprokit', args: [], cwd: '/', env: { PATH: '/usr/bin' }, prefix: '' }), {
      message: 'no-such-command-reprokit: command not found: install it or fix PATH',
    });
  });
});
