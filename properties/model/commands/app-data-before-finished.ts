import type fc from 'fast-check';
import type { Model } from '../model.js';
import type { ServerId, World } from '../world.js';
import { afterStep, openSession } from './common.js';

/** A client that sends application data before its Finished: never delivered, unexpected_message. */
export class AppDataBeforeFinishedCommand implements fc.AsyncCommand<Model, World> {
  constructor(readonly serverId: ServerId) {}
  check = (): boolean => true;
  async run(m: Model, w: World): Promise<void> {
    await openSession(m, w, { serverId: this.serverId, sni: 'localhost', clientVariant: 'appDataBeforeFinished' });
    // A misbehaving peer's session is played to the end here; the wire stays untouched.
    await w.current?.deliverAll();
    afterStep(m, w, this.toString());
  }
  toString = (): string => `AppDataBeforeFinished(→ ${this.serverId})`;
}
