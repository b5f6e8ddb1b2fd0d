/**
 * One process listener per signal, shared by every registry in the process: on the signal it closes them all
 * (deregistering their services), then re-raises the signal when nobody else listens for it, so the default
 * action (exit) still happens, only later.
 */
const hooks = new Map<NodeJS.Signals, { closers: Set<() => Promise<void>>; listener: () => void }>();

export function onSignal(signal: NodeJS.Signals, close: () => Promise<void>): () => void {
  let hook = hooks.get(signal);
  if (hook === undefined) {
    const closers = new Set<() => Promise<void>>();
    const listener = (): void => {
      hooks.delete(signal);
      process.removeListener(signal, listener);
      const others = process.listenerCount(signal);
      void Promise.allSettled([...closers].map((closer) => closer())).then(() => {
        if (others === 0) process.kill(process.pid, signal);
      });
    };
    hook = { closers, listener };
    hooks.set(signal, hook);
    process.on(signal, listener);
  }
  const { closers } = hook;
  closers.add(close);
  return () => {
    closers.delete(close);
    const current = hooks.get(signal);
    if (current !== undefined && current.closers === closers && closers.size === 0) {
      hooks.delete(signal);
      process.removeListener(signal, current.listener);
    }
  };
}
