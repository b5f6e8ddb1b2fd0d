import { describe, expect, it } from 'vitest';
import { Balancer } from '../src/balancer.ts';
import { RegistryError } from '../src/errors.ts';
import type { BalancerOptions } from '../src/registry-options.ts';
import { resolveBalancerOptions } from '../src/registry-options.ts';
import type { ServiceInstance } from '../src/service-instance.ts';

function instance(id: string, meta: Record<string, string> = {}): ServiceInstance {
  return { id, name: 'api', address: '127.0.0.1', port: 1, tags: [], meta, status: 'passing', node: 'n' };
}

/** A deterministic random source (mulberry32). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function make(
  instances: readonly ServiceInstance[],
  options: BalancerOptions = {},
  clock = { now: 0 },
  random = seeded(7),
) {
  let snapshot = instances;
  const picks: string[] = [];
  const balancer = new Balancer(
    'api',
    resolveBalancerOptions(options, undefined, random, () => clock.now, ''),
    () => snapshot,
    (attributes) => picks.push(String(attributes['service.instance.id'])),
  );
  return { balancer, clock, picks, replace: (next: readonly ServiceInstance[]) => (snapshot = next) };
}

function count(ids: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

describe('Balancer', () => {
  it('round robin cycles through every instance in order', () => {
    const { balancer } = make([instance('a'), instance('b'), instance('c')], { strategy: 'round-robin' });
    const ids = Array.from({ length: 6 }, () => balancer.pick().instance.id);
    expect(ids).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('random spreads picks over every instance', () => {
    const { balancer } = make([instance('a'), instance('b'), instance('c')], { strategy: 'random' });
    const counts = count(Array.from({ length: 3_000 }, () => balancer.pick().instance.id));
    for (const id of ['a', 'b', 'c']) expect(counts[id]).toBeGreaterThan(800);
  });

  it('least outstanding sends the next call to the least busy instance', () => {
    const { balancer } = make([instance('a'), instance('b'), instance('c')], {
      strategy: 'least-outstanding',
    });
    const first = balancer.pick();
    const second = balancer.pick();
    const third = balancer.pick();
    expect(new Set([first, second, third].map((pick) => pick.instance.id)).size).toBe(3);
    second.done();
    expect(balancer.pick().instance.id).toBe(second.instance.id);
  });

  it('peak-EWMA power of two choices starves a slow instance and recovers it after the decay', () => {
    const { balancer, clock } = make([instance('fast1'), instance('fast2'), instance('slow')], {
      decayMs: 1_000,
    });
    const latency: Record<string, number> = { fast1: 2, fast2: 2, slow: 100 };
    const ids: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      const pick = balancer.pick();
      ids.push(pick.instance.id);
      pick.done({ latencyMs: latency[pick.instance.id] ?? 0 });
      clock.now += 1;
    }
    const counts = count(ids.slice(500));
    expect(counts.slow ?? 0).toBeLessThan(25);
    latency.slow = 2;
    const later: string[] = [];
    for (let i = 0; i < 6_000; i++) {
      const pick = balancer.pick();
      later.push(pick.instance.id);
      pick.done({ latencyMs: latency[pick.instance.id] ?? 0 });
      clock.now += 1;
    }
    expect(count(later.slice(-1_500)).slow ?? 0).toBeGreaterThan(300);
  });

  it('a failure counts as the failure penalty, steering picks away from the failing instance', () => {
    const { balancer, clock } = make([instance('a'), instance('b')], {
      failurePenaltyMs: 500,
      consecutiveFailures: 1_000,
    });
    for (let i = 0; i < 200; i++) {
      const pick = balancer.pick();
      pick.done({ ok: pick.instance.id !== 'b', latencyMs: 1 });
      clock.now += 1;
    }
    const stats = Object.fromEntries(balancer.stats().map((entry) => [entry.id, entry.latencyMs]));
    expect(stats.b).toBeGreaterThan(100);
    expect(stats.a).toBeLessThan(2);
  });

  it('ejects an instance after consecutive failures and brings it back after the ejection time', () => {
    const { balancer, clock } = make([instance('a'), instance('b'), instance('c'), instance('d')], {
      strategy: 'round-robin',
      consecutiveFailures: 3,
      baseEjectionMs: 1_000,
    });
    for (let i = 0; i < 12; i++) {
      const pick = balancer.pick();
      pick.done({ ok: pick.instance.id !== 'b' });
    }
    expect(balancer.stats().find((entry) => entry.id === 'b')?.ejected).toBe(true);
    expect(new Set(Array.from({ length: 9 }, () => balancer.pick().instance.id))).toEqual(
      new Set(['a', 'c', 'd']),
    );
    clock.now += 1_001;
    expect(new Set(Array.from({ length: 8 }, () => balancer.pick().instance.id))).toContain('b');
  });

  it('never ejects more than maxEjectionPercent of the instances', () => {
    const { balancer } = make([instance('a'), instance('b')], {
      strategy: 'round-robin',
      consecutiveFailures: 1,
      maxEjectionPercent: 50,
    });
    for (let i = 0; i < 10; i++) balancer.pick().done({ ok: false });
    expect(balancer.stats().filter((entry) => entry.ejected)).toHaveLength(1);
    expect(() => balancer.pick()).not.toThrow();
  });

  it('prefers instances in its own zone and falls back to others when none is available', () => {
    const { balancer, replace } = make(
      [instance('a1', { zone: 'a' }), instance('b1', { zone: 'b' }), instance('a2', { zone: 'a' })],
      {
        zone: 'a',
      },
    );
    const ids = new Set(Array.from({ length: 50 }, () => balancer.pick().instance.id));
    expect(ids).toEqual(new Set(['a1', 'a2']));
    replace([instance('b1', { zone: 'b' })]);
    expect(balancer.pick().instance.id).toBe('b1');
  });

  it('throws a retryable REGISTRY_NO_INSTANCES when the cache is empty', () => {
    const { balancer } = make([]);
    let caught: unknown;
    try {
      balancer.pick();
    } catch (error) {
      caught = error;
    }
    expect(RegistryError.isInstance(caught)).toBe(true);
    expect(caught).toMatchObject({ code: 'REGISTRY_NO_INSTANCES', retryable: true });
  });

  it('counts a pick once however often done() is called, and records picks per instance', () => {
    const { balancer, picks } = make([instance('a')], { strategy: 'least-outstanding' });
    const pick = balancer.pick();
    pick.done();
    pick.done();
    expect(balancer.stats()[0]?.outstanding).toBe(0);
    expect(picks).toEqual(['a']);
  });

  it('rejects an unknown strategy and an out-of-range option, naming it', () => {
    expect(() =>
      resolveBalancerOptions({ strategy: 'fastest' as never }, undefined, Math.random, () => 0, ''),
    ).toThrow(/"strategy"/);
    expect(() =>
      resolveBalancerOptions({ maxEjectionPercent: 150 }, undefined, Math.random, () => 0, ''),
    ).toThrow(/"maxEjectionPercent"/);
  });
});
