// A real, throw-away Nx workspace for end-to-end tests: a copy of this repository's files (as git
// sees them, ignored files left out) in a temp directory, committed to a fresh git repository, with
// node_modules linked from the repository so no install is needed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..');

const gitEnv = {
  GIT_AUTHOR_NAME: 'e2e',
  GIT_AUTHOR_EMAIL: 'e2e@reprokit.invalid',
  GIT_COMMITTER_NAME: 'e2e',
  GIT_COMMITTER_EMAIL: 'e2e@reprokit.invalid',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
};

export interface RunResult {
  status: number | null;
  /** stdout and stderr together, in the order Nx forwards them. */
  output: string;
  stdout: string;
  stderr: string;
}

export class TempWorkspace {
  readonly root = mkdtempSync(join(tmpdir(), 'reprokit-e2e-'));

  constructor() {
    const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repoRoot, encoding: 'utf8' });
    if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
    for (const file of listed.stdout.split('\0').filter(Boolean)) {
      mkdirSync(dirname(join(this.root, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(this.root, file));
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(this.root, 'node_modules'));
    this.git('init', '-q', '-b', 'main');
    this.commit('workspace');
  }

  git(...args: string[]): string {
    const result = spawnSync('git', args, { cwd: this.root, encoding: 'utf8', env: { ...process.env, ...gitEnv } });
    if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout.trim();
  }

  commit(message: string): string {
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  /** Runs the real nx CLI of this repository in the workspace: no daemon, no colours, no TUI. */
  nx(...args: string[]): RunResult {
    return this.run(process.execPath, [join(repoRoot, 'node_modules', '.bin', 'nx'), ...args]);
  }

  reprokit(...args: string[]): RunResult {
    return this.run(process.execPath, [join(repoRoot, 'node_modules', '.bin', 'reprokit'), ...args]);
  }

  private run(command: string, args: string[]): RunResult {
    const result: SpawnSyncReturns<string> = spawnSync(command, args, {
      cwd: this.root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', NO_COLOR: '1', CI: 'true' },
      maxBuffer: 64 << 20,
    });
    return { status: result.status, output: result.stdout + result.stderr, stdout: result.stdout, stderr: result.stderr };
  }

  read(path: string): string {
    return readFileSync(join(this.root, path), 'utf8');
  }

  write(path: string, content: string): void {
    mkdirSync(dirname(join(this.root, path)), { recursive: true });
    writeFileSync(join(this.root, path), content);
  }
}
