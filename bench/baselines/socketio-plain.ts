/**
 * Baseline: a minimal plain Socket.IO v4 server with the `/layout` subset the bench drives (JOIN, NOTIFY)
 * and the `/lobby` subset (JOIN, RTCSIGNAL), written the way a team would roll its own: no validation
 * library, no logging, default options. Listens on $PORT.
 */
import { createServer } from 'node:http';
import { Server, type DefaultEventsMap } from 'socket.io';

const http = createServer();
interface Data {
  name?: string;
  lobby?: string;
}

const io = new Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, Data>(http, {
  transports: ['websocket', 'polling'],
});

io.of('/layout').on('connection', (socket) => {
  socket.on('JOIN', (payload: { room: string; name: string }, ack?: (r: unknown) => void) => {
    socket.data.name = payload.name;
    void socket.join(payload.room);
    ack?.({ ok: true });
  });
  socket.on('NOTIFY', (payload: { room: string; message: unknown }, ack?: (r: unknown) => void) => {
    socket.to(payload.room).emit('EVENT', { sender: socket.data.name ?? 'unknown', room: payload.room, message: payload.message });
    ack?.({ ok: true });
  });
});

const lobby = io.of('/lobby');
lobby.on('connection', (socket) => {
  socket.on('JOIN', (id: string, ack?: (r: unknown) => void) => {
    socket.data.lobby = id;
    void socket.join(id);
    lobby.to(id).emit('JOINED', socket.id);
    ack?.({ ok: true });
  });
  socket.on('RTCSIGNAL', (signal: { to: string } & Record<string, unknown>, ack?: (r: unknown) => void) => {
    const id = socket.data.lobby;
    if (id !== undefined && lobby.adapter.rooms.get(id)?.has(signal.to)) {
      lobby.to(signal.to).emit('RTCSIGNAL', { ...signal, from: socket.id });
    }
    ack?.({ ok: true });
  });
});

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening on', port: (http.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
