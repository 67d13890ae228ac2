import { connectLayout, ProtocolError } from 'realtime-rooms/client';

const url = process.env.REALTIME_URL ?? 'http://localhost:3000'; // the quick start's server
const tv = connectLayout(url);
const phone = connectLayout(url);

const notified = new Promise<void>((resolve) => {
  tv.on('EVENT', ({ sender, room, message }) => {
    console.log(`tv received EVENT from ${sender} in ${room}:`, message);
    resolve();
  });
});
await tv.join('living-room', 'tv'); // resolves on the ack; joined again after a reconnect that was not recovered
await phone.join('living-room', 'phone');
await phone.notify('living-room', { layout: 'split' }); // to every other member
await notified;
console.log('tv asked clients:', await tv.clients('living-room')); // in join order

try {
  await tv.join('', 'tv');
} catch (err) {
  if (!(err instanceof ProtocolError)) throw err; // a TimeoutError: no ack in time
  console.log(`tv was refused: ${err.code}`); // BAD_REQUEST, LIMIT, UNAUTHORIZED, …
}
tv.close();
phone.close();
