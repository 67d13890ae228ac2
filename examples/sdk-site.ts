import { connectSite } from 'realtime-rooms/client';

/** The site's own events, as its backend pushes them (`POST /send`): the SDK takes care of ids and acks. */
interface ShopEvents {
  update_store: (entityType: string, entity: { id: number }) => void;
}

const url = process.env.REALTIME_URL ?? 'http://localhost:3000';
const token = process.env.SHOP_TOKEN ?? 'alice-token'; // what the site's auth backend knows the user by
const store = new Map<number, unknown>(); // the app's local copy

/** The app's own write, asynchronous as an IndexedDB one is. */
function save(entity: { id: number }): Promise<void> {
  store.set(entity.id, entity);
  return Promise.resolve();
}

/** What the site's backend does (with its API key), here so that the example runs on its own. */
async function backendPush(id: number): Promise<void> {
  await fetch(`${url}/send?site=shop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${process.env.SHOP_API_KEY ?? 'shop-key'}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rooms: ['user_alice'], event: 'update_store', args: ['product', { id }] }),
  });
}

let applied: () => void = () => {};
// The same deviceId on every connect of this device (browser storage), so that its queue follows it.
const shop = connectSite<ShopEvents>(url, 'shop', { token, deviceId: 'phone-1' });
shop.on('update_store', async (entityType, entity) => {
  await save(entity); // acked once the handler has finished; sent again on the next connect if it throws
  console.log(`phone applied ${entityType}`, entity); // missed ones come first, in order, repeats dropped
  applied();
});
shop.onResync(() => store.clear()); // the device's queue was cleared: reload the state in full
await shop.ready;
const handled = new Promise<void>((resolve) => (applied = resolve));
await backendPush(1);
await handled;
shop.close();
