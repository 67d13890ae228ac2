// The playground: the client SDK (served by this service at /client.js) in a page with no framework and no
// build step. Everything a peer sends is shown with textContent, never as markup.

/** The SDK, loaded so that a page without it says why rather than doing nothing. */
const sdk = await import('/client.js').catch((/** @type {unknown} */ err) => {
  const status = document.getElementById('status');
  if (status) status.textContent = `The client SDK did not load from /client.js (${String(err)}). Is the service built (npm run build)?`;
  throw err;
});
const { connectBus, connectLayout, connectLobby, ProtocolError, TimeoutError } = sdk;

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const form = /** @type {HTMLFormElement} */ (byId('join-form'));
const namespaceSelect = /** @type {HTMLSelectElement} */ (byId('namespace'));
const roomInput = /** @type {HTMLInputElement} */ (byId('room'));
const nameInput = /** @type {HTMLInputElement} */ (byId('name'));
const joinButton = /** @type {HTMLButtonElement} */ (byId('join'));
const leaveButton = /** @type {HTMLButtonElement} */ (byId('leave'));
const sendForm = /** @type {HTMLFormElement} */ (byId('send-form'));
const messageInput = /** @type {HTMLInputElement} */ (byId('message'));
const sendButton = /** @type {HTMLButtonElement} */ (byId('send'));
const statusLine = byId('status');
const membersList = byId('members');
const log = byId('log');

// Where the page came from: the same service, over HTTP or HTTPS alike.
const origin = window.location.origin;

/**
 * What is joined now: a room of /layout or /bus (`client`, `room`, `name`), or a lobby (`lobby`, `peers`).
 * @type {{ kind: 'room', client: ReturnType<typeof connectLayout>, room: string, name: string } | { kind: 'lobby', client: ReturnType<typeof connectLobby>, lobby: string, peers: Set<string> } | undefined}
 */
let current;

/** @param {string} text */
function setStatus(text) {
  statusLine.textContent = text;
}

/** @param {unknown} err */
function describe(err) {
  if (err instanceof ProtocolError) return `${err.code}: ${err.message}`;
  if (err instanceof TimeoutError) return `no answer: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Adds a line to the message log.
 * @param {'message' | 'notice' | 'error'} kind
 * @param {string} text
 * @param {string} [from]
 */
function addLine(kind, text, from) {
  const item = document.createElement('li');
  item.className = kind;
  if (from !== undefined) {
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = `${from}: `;
    item.append(who);
  }
  item.append(document.createTextNode(text));
  log.append(item);
}

/** @param {unknown} message */
function messageText(message) {
  return typeof message === 'string' ? message : JSON.stringify(message);
}

/** @param {readonly string[]} names @param {string | undefined} self */
function showMembers(names, self) {
  membersList.replaceChildren(
    ...names.map((name) => {
      const item = document.createElement('li');
      item.textContent = name;
      if (name === self) item.className = 'self';
      return item;
    }),
  );
}

/** @param {boolean} joined */
function setJoined(joined) {
  joinButton.disabled = joined;
  leaveButton.disabled = !joined;
  namespaceSelect.disabled = joined;
  roomInput.disabled = joined;
  nameInput.disabled = joined;
  messageInput.disabled = !joined;
  sendButton.disabled = !joined;
}

/** Asks the service who is in the room now: after a join, and whenever someone speaks, comes or goes. */
async function refreshMembers() {
  if (current?.kind !== 'room') return;
  const { client, room, name } = current;
  try {
    showMembers(await client.clients(room), name);
  } catch (err) {
    addLine('error', `members: ${describe(err)}`);
  }
}

function showPeers() {
  if (current?.kind !== 'lobby') return;
  showMembers([...current.peers], current.client.id);
}

/** @param {'/layout' | '/bus'} namespace @param {string} room @param {string} name */
async function joinRoom(namespace, room, name) {
  const client = (namespace === '/bus' ? connectBus : connectLayout)(origin);
  current = { kind: 'room', client, room, name };
  client.on('EVENT', (event) => {
    addLine('message', messageText(event.message), event.sender);
    void refreshMembers();
  });
  client.on('PRESENCE', (change) => {
    addLine('notice', `${change.name ?? change.id} ${change.event}`);
    void refreshMembers();
  });
  client.on('disconnect', () => setStatus('Connection lost: reconnecting…'));
  client.on('connect', (recovered) => {
    setStatus(`Back in ${room} on ${namespace}${recovered ? ' (session recovered)' : ' (joined again)'}.`);
    void refreshMembers();
  });
  await client.ready;
  await client.join(room, name);
  setStatus(`Joined ${room} on ${namespace} as ${name}.`);
  await refreshMembers();
}

/** @param {string} lobby */
async function joinLobby(lobby) {
  const client = connectLobby(origin, lobby);
  const peers = new Set();
  current = { kind: 'lobby', client, lobby, peers };
  client.on('PEERS', (ids) => {
    peers.clear();
    if (client.id !== undefined) peers.add(client.id);
    for (const id of ids) peers.add(id);
    showPeers();
  });
  client.on('JOINED', (id) => {
    peers.add(id);
    addLine('notice', `${id} joined`);
    showPeers();
  });
  client.on('LEFT', (id) => {
    peers.delete(id);
    addLine('notice', `${id} left`);
    showPeers();
  });
  client.on('MESSAGE', ({ from, message }) => addLine('message', messageText(message), from === client.id ? 'you' : from));
  client.on('disconnect', () => setStatus('Connection lost: reconnecting…'));
  client.on('connect', () => setStatus(`Back in lobby ${lobby} as ${client.id ?? '?'}.`));
  await client.ready;
  peers.add(client.id ?? '');
  showPeers();
  setStatus(`Joined lobby ${lobby} as ${client.id ?? '?'}.`);
}

function leave() {
  if (!current) return;
  current.client.close();
  current = undefined;
  membersList.replaceChildren();
  setJoined(false);
  setStatus('Not connected.');
}

function updateFields() {
  const lobby = namespaceSelect.value === '/lobby';
  byId('room-label').textContent = lobby ? 'Lobby' : 'Room';
  byId('name-field').hidden = lobby;
  nameInput.required = !lobby;
}

namespaceSelect.addEventListener('change', updateFields);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  const namespace = namespaceSelect.value;
  const room = roomInput.value.trim();
  const name = nameInput.value.trim();
  setJoined(true);
  setStatus('Connecting…');
  const joined = namespace === '/lobby' ? joinLobby(room) : joinRoom(/** @type {'/layout' | '/bus'} */ (namespace), room, name);
  joined.then(
    () => messageInput.focus(),
    (err) => {
      leave();
      setStatus(`Could not join: ${describe(err)}`);
    },
  );
});
leaveButton.addEventListener('click', leave);
sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = messageInput.value;
  if (!current || text === '') return;
  const sent = current.kind === 'room' ? current.client.notify(current.room, text) : current.client.broadcast(text);
  sent.then(
    () => {
      // NOTIFY goes to the others; the lobby's MESSAGE comes back to the sender too.
      if (current?.kind === 'room') addLine('message', text, 'you');
      messageInput.value = '';
    },
    (err) => addLine('error', `not sent: ${describe(err)}`),
  );
});

nameInput.value = `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
updateFields();
setJoined(false);
