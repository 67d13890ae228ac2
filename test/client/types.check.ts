/**
 * Compiled by `npm run typecheck` (tsconfig.json includes test/), never run: the SDK's listeners are typed by
 * protocol/'s event maps, so a wrong event name or payload type does not compile. Each `@ts-expect-error`
 * fails the typecheck if the line below it compiles.
 */
import { connectLayout, connectLobby, connectSite } from '../../client/index.js';

const layout = connectLayout('http://localhost:3000');
layout.on('EVENT', ({ sender, room }) => `${sender}${room}`);
layout.on('connect', (recovered: boolean) => recovered);
// @ts-expect-error: /layout has no MESSAGE event
layout.on('MESSAGE', () => {});
// @ts-expect-error: EVENT's payload is an object, not a string
layout.on('EVENT', (event: string) => event);

const lobby = connectLobby('http://localhost:3000', 'call');
lobby.on('PEERS', (peers: string[]) => peers);
// @ts-expect-error: PEERS is a list of ids
lobby.on('PEERS', (peers: number) => peers);

interface ShopEvents {
  update_store: (entityType: string, entity: { id: number }) => void;
}
const shop = connectSite<ShopEvents>('http://localhost:3000', 'shop', { token: 't', deviceId: 'd' });
shop.on('update_store', async (entityType: string, entity: { id: number }) => {
  await Promise.resolve(entityType + entity.id);
});
// @ts-expect-error: the site has no such event
shop.on('update_stock', () => {});
// @ts-expect-error: entity is an object
shop.on('update_store', (_entityType: string, entity: string) => entity);
// @ts-expect-error: notify takes a room
void layout.notify({ layout: 'split' });
