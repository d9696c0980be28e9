/**
 * Where the time of a V8 CPU profile (`node --cpu-prof`) went, by area:
 * self time of every sampled function, attributed by the file it comes from
 * (native frames, which have no file, to the nearest caller that has one),
 * and XState's work split into creating actors and running them.
 *
 *   node dist/bench/profile-split.js FILE.cpuprofile   (any profile, e.g. from node --cpu-prof)
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface CallFrame {
  functionName: string;
  url: string;
}
export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Areas in the order they are tested: the first rule that matches a file wins. */
const AREAS: Array<[string, (url: string) => boolean]> = [
  ['elliptic-curve math (@noble/curves)', (u) => u.includes('/@noble/curves/')],
  ['hashing (@noble/hashes)', (u) => u.includes('/@noble/hashes/')],
  ['AEAD (@noble/ciphers)', (u) => u.includes('/@noble/ciphers/')],
  ['X.509 parsing (@peculiar/x509, asn1js)', (u) => /\/(@peculiar|asn1js|pvtsutils|pvutils|reflect-metadata|tslib)\//.test(u)],
  ['XState', (u) => u.includes('/xstate/')],
  ['node:crypto (OpenSSL: ECDHE, signatures, AEAD, hashes, X.509)', (u) => u.startsWith('node:internal/crypto') || u === 'node:crypto'],
  [
    'socket layer (node:net, streams, net/socket)',
    (u) => /^node:(net|internal\/(net|stream_base_commons|streams\/|tls)|stream)/.test(u) || u.endsWith('/dist/net/socket.js'),
  ],
  ['engine + record', (u) => /\/dist\/(engine|record)\//.test(u)],
  ['wire (codec)', (u) => u.includes('/dist/wire/')],
  ['charts (machines/)', (u) => u.includes('/dist/machines/')],
  ['crypto/ (key schedule, transcript, providers)', (u) => u.includes('/dist/crypto/')],
  ['pki/ (chain validation)', (u) => u.includes('/dist/pki/')],
  ['tickets/', (u) => u.includes('/dist/tickets/')],
  ['net/ (options, connect, server)', (u) => u.includes('/dist/net/')],
  ['bench harness', (u) => u.includes('/dist/bench/')],
  ['node internals (events, timers, buffers, …)', (u) => u.startsWith('node:')],
];

export function split(profile: Profile): Array<{ area: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));

  const underCreateActor = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (byId.get(cur)?.callFrame.functionName === 'createActor') return true;
    }
    return false;
  };
  const areaOf = (id: number): string => {
    const fn = byId.get(id)?.callFrame.functionName ?? '';
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)') return 'idle (waiting for the loopback)';
    if (fn === '(program)') return 'V8 / native, unattributed';
    // The profiler's own work (Profiler.stop serialising the profile) runs under node:inspector's post().
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if ((byId.get(cur)?.callFrame.url ?? '') === 'node:inspector') return 'idle (the profiler itself)';
    }
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)?.callFrame.url ?? '';
      if (url === '') continue;
      for (const [area, match] of AREAS) {
        if (!match(url)) continue;
        if (area === 'XState') return underCreateActor(id) ? 'XState (creating actors)' : 'XState (running)';
        return area;
      }
      return 'other';
    }
    return 'V8 / native, unattributed';
  };
  const totals = new Map<string, number>();
  for (const [id, t] of self) totals.set(areaOf(id), (totals.get(areaOf(id)) ?? 0) + t);
  const busy = [...totals].filter(([a]) => !a.startsWith('idle')).reduce((s, [, t]) => s + t, 0);
  return [...totals]
    .filter(([a]) => !a.startsWith('idle'))
    .map(([area, t]) => ({ area, ms: t / 1000, share: t / busy }))
    .sort((a, b) => b.ms - a.ms);
}

export function printSplit(profile: Profile): void {
  console.log('share of busy CPU time (idle excluded)');
  for (const r of split(profile)) console.log(`${(r.share * 100).toFixed(1).padStart(5)} %  ${r.area}`);
}

// As a command: node dist/bench/profile-split.js FILE.cpuprofile
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: profile-split FILE.cpuprofile');
    process.exitCode = 2;
  } else {
    printSplit(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  }
}
