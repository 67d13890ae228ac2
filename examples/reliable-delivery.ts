import { io, type Socket } from 'socket.io-client';
import type { BatchEntry, DeliveryAck, MessageMeta, SiteClientToServerEvents, SiteServerToClientEvents } from 'realtime-rooms/protocol';

/** The site's own events, as its backend pushes them: with `messageIds`, the meta and the ack come last. */
interface ShopEvents {
  update_store: (entityType: string, entity: { id: number }, meta: MessageMeta, ack: DeliveryAck) => void;
}
type ShopSocket = Socket<SiteServerToClientEvents & ShopEvents, SiteClientToServerEvents>;

const url = process.env.REALTIME_URL ?? 'http://localhost:3000';
const token = process.env.SHOP_TOKEN ?? 'alice-token'; // what the site's auth backend knows the user by
const applied = new Set<string>(); // ids of applied messages: delivery is at least once, so drop repeats

function apply(event: string, args: unknown[], meta: MessageMeta): void {
  if (applied.has(meta._id)) return; // a repeat (e.g. the ack was lost with the connection)
  applied.add(meta._id);
  console.log(`phone applied ${event}`, ...args);
}

/** One connection of the device: the same deviceId on every (re)connect, so that its queue follows it. */
function connect(): ShopSocket {
  const socket: ShopSocket = io(`${url}/shop`, { auth: { token, deviceId: 'phone-1', messageIds: true } });
  socket.on('_settings', ({ device_ttl }) => console.log(`phone keeps its messages ${device_ttl} s while away`));
  socket.on('_batch', (entries: BatchEntry[], ack) => {
    for (const [event, ...args] of entries) apply(event, args.slice(0, -1), args.at(-1) as MessageMeta); // missed while away, oldest first
    ack(); // one ack for the whole batch: removes exactly these
  });
  socket.on('_resync', () => console.log('phone must reload everything')); // its queue was cleared
  socket.on('update_store', (entityType, entity, meta, ack) => {
    apply('update_store', [entityType, entity], meta);
    ack(); // removes it from the device's queue
  });
  return socket;
}

/** What the site's backend does (with its API key), here so that the example runs on its own. */
async function backendPush(id: number): Promise<void> {
  await fetch(`${url}/send?site=shop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${process.env.SHOP_API_KEY ?? 'shop-key'}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rooms: ['user_alice'], event: 'update_store', args: ['product', { id }] }),
  });
}

const phone = connect();
await new Promise<void>((resolve) => phone.once('connect', () => resolve()));
const live = new Promise((resolve) => phone.once('update_store', resolve));
await backendPush(1); // the phone is connected: update_store arrives, with an ack
await live;
phone.close(); // the phone goes away …
await backendPush(2); // … and misses this one, which waits in its queue
const again = connect();
await new Promise((resolve) => again.once('_batch', resolve)); // back: the missed message, as one _batch
again.close();
