import { io, type Socket } from 'socket.io-client';
import type { TriggerClientToServerEvents, TriggerServerToClientEvents } from 'realtime-rooms/protocol';

type TriggerSocket = Socket<TriggerServerToClientEvents, TriggerClientToServerEvents>;

const url = process.env.REALTIME_URL ?? 'http://localhost:3000';
const timeline: TriggerSocket = io(`${url}/trigger`); // a timeline service
const player: TriggerSocket = io(`${url}/trigger`);
await timeline.emitWithAck('JOIN', 'timeline-1');
await player.emitWithAck('JOIN', 'timeline-1');

const cue = new Promise((resolve) => player.once('EVENTS', resolve));
await timeline.emitWithAck('BROADCAST_EVENTS', 'timeline-1', { at: 12.5, id: 'cue-3' }); // the other members get EVENTS
console.log('player received EVENTS:', await cue);
timeline.close();
player.close();
