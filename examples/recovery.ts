import { io, type Socket } from 'socket.io-client';
import type { LayoutClientToServerEvents, LayoutServerToClientEvents } from 'realtime-rooms/protocol';

type LayoutSocket = Socket<LayoutServerToClientEvents, LayoutClientToServerEvents>;

const url = process.env.REALTIME_URL ?? 'http://localhost:3000';

/** JOINs on every new session; a recovered one still has its rooms and name, and gets what it missed. */
function stayJoined(socket: LayoutSocket, room: string, name: string): Promise<void> {
  return new Promise((joined) => {
    socket.on('connect', () => {
      if (socket.recovered) return console.log(`${name} is back: recovered its id, rooms and name, nothing to redo`);
      // The first connection, or back after the window (or from a restarted server): join again, reload state.
      void socket.emitWithAck('JOIN', { room, name }).then(() => joined());
    });
  });
}

const tv: LayoutSocket = io(`${url}/layout`);
const phone: LayoutSocket = io(`${url}/layout`);
await Promise.all([stayJoined(tv, 'kitchen', 'tv'), stayJoined(phone, 'kitchen', 'phone')]);
const missed = new Promise((resolve) => phone.on('EVENT', ({ message }) => resolve(console.log('phone received EVENT:', message))));

const away = new Promise((resolve) => phone.once('disconnect', resolve));
phone.io.engine.close(); // the phone's network drops (a tunnel, a lift); socket.io-client reconnects by itself
await away;
const back = new Promise<void>((resolve) => phone.once('connect', () => resolve()));
await tv.emitWithAck('NOTIFY', { room: 'kitchen', message: 'sent while the phone was away' });
await back;
await missed; // replayed before 'connect', once and in order
tv.close();
phone.close();
