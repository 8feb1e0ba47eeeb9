import { parseJsonForm } from './dockerfile-words';

/** The image config's `Healthcheck`, as docker writes it (durations in nanoseconds). */
export interface Healthcheck {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

const DURATION_FLAGS: Record<string, keyof Healthcheck> = { '--interval': 'Interval', '--timeout': 'Timeout', '--start-period': 'StartPeriod', '--start-interval': 'StartInterval' };

/** `HEALTHCHECK NONE` or `HEALTHCHECK [--interval=… --timeout=… --start-period=… --retries=N] CMD …`. */
export function parseHealthcheck(text: string, fail: (message: string) => never): Healthcheck {
  if (/^none$/i.test(text.trim())) return { Test: ['NONE'] };
  const check: Healthcheck = { Test: [] };
  let rest = text.trim();
  for (let flag = /^(--[a-z-]+)=(\S*)\s+/.exec(rest); flag; flag = /^(--[a-z-]+)=(\S*)\s+/.exec(rest)) {
    rest = rest.slice(flag[0].length);
    const [, name, value] = flag;
    if (name === '--retries') {
      if (!/^\d+$/.test(value)) fail(`--retries=${value}: not a number`);
      check.Retries = Number(value);
    } else if (DURATION_FLAGS[name]) (check as unknown as Record<string, number>)[DURATION_FLAGS[name]] = parseDuration(value, name, fail);
    else fail(`${name} is not a HEALTHCHECK option`);
  }
  const cmd = /^CMD(\s+|$)/i.exec(rest);
  if (!cmd) fail('give NONE or CMD <command>');
  const command = rest.slice(cmd![0].length).trim();
  if (command === '') fail('CMD needs a command');
  const json = parseJsonForm(command);
  // Docker stores the shell form as CMD-SHELL and runs it with the image's shell.
  check.Test = json ? ['CMD', ...json] : ['CMD-SHELL', command];
  return check;
}

/** A Go duration (`30s`, `1m30s`, `500ms`) in nanoseconds, as docker stores it. */
function parseDuration(value: string, name: string, fail: (message: string) => never): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== value) return fail(`${name}=${value}: not a duration such as 30s or 1m30s`);
  return Math.round(parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * units[unit], 0));
}
