import type { AppRegistry, PusherApp } from './contracts.js';

/** Apps from configuration, indexed by id and key. Ids and keys must be unique. */
export class StaticAppRegistry implements AppRegistry {
  private readonly ids = new Map<string, PusherApp>();
  private readonly keys = new Map<string, PusherApp>();

  constructor(private readonly apps: readonly PusherApp[]) {
    for (const app of apps) {
      if (this.ids.has(app.id)) throw new Error(`Duplicate Pusher app id ${app.id}`);
      if (this.keys.has(app.key)) throw new Error(`Duplicate Pusher app key for app ${app.id}`);
      this.ids.set(app.id, app);
      this.keys.set(app.key, app);
    }
  }

  byId(id: string): PusherApp | undefined {
    return this.ids.get(id);
  }

  byKey(key: string): PusherApp | undefined {
    return this.keys.get(key);
  }

  all(): readonly PusherApp[] {
    return this.apps;
  }
}
