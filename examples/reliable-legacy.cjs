// socket.io-client 1.7 / 2.x, as the clients of the original socket.io-webservice: npm install socket.io-client@2
/* global fetch */ // Node 18+ has fetch; a browser too
var io = require('socket.io-client');

var url = process.env.REALTIME_URL || 'http://localhost:3000';
var token = process.env.SHOP_TOKEN || 'alice-token';

function connect() {
  // deviceId in the query: the same on every connect of this device
  var socket = io.connect(url + '/shop?token=' + encodeURIComponent(token) + '&deviceId=tablet-1', { forceNew: true });
  socket.on('_batch', function (events, success) {
    events.forEach(function (args) {
      update_store.apply(null, args.slice(1)); // args[0] is the event name
    });
    success(); // one ack for the whole batch
  });
  socket.on('_resync', function () {
    console.log('tablet must reload everything');
  });
  socket.on('update_store', update_store);
  return socket;
}

function update_store(entityType, entity, success) {
  console.log('tablet applied update_store ' + entityType + ' ' + JSON.stringify(entity));
  if (success) success(); // absent in a _batch entry: the batch has one ack
}

// What the site's backend does, here so that the example runs on its own.
function backendPush(id, done) {
  fetch(url + '/send?site=shop', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + (process.env.SHOP_API_KEY || 'shop-key'), 'content-type': 'application/json' },
    body: JSON.stringify({ rooms: ['user_alice'], event: 'update_store', args: ['product', { id: id }] }),
  }).then(function () {
    done();
  });
}

var tablet = connect();
tablet.on('connect', function () {
  tablet.once('update_store', function () {
    tablet.close(); // away …
    backendPush(2, function () {
      var again = connect(); // … and back: the missed message comes as _batch
      again.on('_batch', function () {
        again.close();
      });
    });
  });
  backendPush(1, function () {});
});
