import { NotThisUserError } from '../protocol/wire-errors.js';
import { Channel, type SubscribeRequest } from './channel.js';

/** `#server-to-user-{id}`: only connections signed in (pusher:signin) as that user may join. */
export class UserChannel extends Channel {
  readonly kind = 'user';

  constructor(
    name: string,
    ctx: ConstructorParameters<typeof Channel>[1],
    readonly userId: string,
  ) {
    super(name, ctx);
  }

  protected override authorize(req: SubscribeRequest): void {
    if (req.userId !== this.userId) throw new NotThisUserError(this.name);
  }
}
