/**
 * A full garbage collection on demand, without `node --expose-gc`: the flag
 * is set at run time and V8 then gives a fresh context its `gc` function.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** One full (mark-compact) collection of this process's heap. */
export const fullGc = runInNewContext('gc') as () => void;
