import { randomInt } from 'node:crypto';

/** A new socket id `<digits>.<digits>`, as pusher-js and the HTTP API expect. */
export function newSocketId(): string {
  return `${randomInt(1, 2 ** 47)}.${randomInt(1, 2 ** 47)}`;
}

export const SOCKET_ID = /^\d+\.\d+$/;
