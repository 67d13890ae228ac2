import { io, type Socket } from 'socket.io-client';
import type { LayoutClientToServerEvents, LayoutServerToClientEvents } from 'realtime-rooms/protocol';

type LayoutSocket = Socket<LayoutServerToClientEvents, LayoutClientToServerEvents>;

const url = process.env.REALTIME_URL ?? 'http://localhost:3000'; // the quick start's server
const tv: LayoutSocket = io(`${url}/layout`);
const phone: LayoutSocket = io(`${url}/layout`);

async function join(socket: LayoutSocket, name: string): Promise<void> {
  const joined = await socket.emitWithAck('JOIN', { room: 'living-room', name });
  if (!joined.ok) throw new Error(`${joined.error.code}: ${joined.error.message}`); // BAD_REQUEST, LIMIT, …
}

const notified = new Promise<void>((resolve) => {
  tv.on('EVENT', ({ sender, room, message }) => {
    console.log(`tv received EVENT from ${sender} in ${room}:`, message);
    resolve();
  });
});
await join(tv, 'tv');
await join(phone, 'phone');
await phone.emitWithAck('NOTIFY', { room: 'living-room', message: { layout: 'split' } }); // to every other member
await notified;
const members = await tv.emitWithAck('CLIENTS', { room: 'living-room' });
console.log('tv asked CLIENTS:', members); // { ok: true, room: 'living-room', clients: [ 'tv', 'phone' ] }: in join order
tv.close();
phone.close();
