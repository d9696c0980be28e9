/**
 * A guard and the action of the same transition often need the same expensive
 * result (an ECDH, a signature check, a chain validation). Both are pure
 * functions of (context, message), so the result is remembered for exactly that
 * pair of objects and recomputed for any other: memoisation, not state.
 */
const cache = new WeakMap<object, WeakMap<object, Map<string, unknown>>>();

export function memo<T>(context: object, message: object, key: string, compute: () => T): T {
  let byMessage = cache.get(context);
  if (!byMessage) {
    byMessage = new WeakMap();
    cache.set(context, byMessage);
  }
  let values = byMessage.get(message);
  if (!values) {
    values = new Map();
    byMessage.set(message, values);
  }
  if (values.has(key)) return values.get(key) as T;
  const value = compute();
  values.set(key, value);
  return value;
}
